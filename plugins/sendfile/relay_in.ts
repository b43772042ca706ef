/** The receiver's node's half of a live transfer from a sender on another node (remote.ts). */
import type { Session } from "../types.ts";
import { chunkBreaksRules, type Flow } from "./flow.ts";
import { FileChunk, FileEnd, FileIncoming } from "./protocol.ts";
import type { Offer, RelayHost } from "./remote_msg.ts";

/** The receiver's node's half: passes the chunks on to the receiver and its acks back. */
export class RelayIn implements Flow {
  readonly id: string;
  readonly from = undefined;
  readonly live = true;
  #next = 0;
  #bytes = 0;
  #acked = -1;
  #ended = false;

  constructor(
    readonly remote: RelayHost,
    readonly node: string,
    readonly remoteId: string,
    readonly to: Session,
    readonly offer: Offer & { from: string },
  ) {
    const { flows } = remote;
    this.id = flows.newId();
    flows.add(this);
    remote.track("in", `${node} ${remoteId}`, this);
    const { from, name, size, sealed } = offer;
    flows.api.send(to, FileIncoming, { file: this.id, from, name, size, sealed });
  }

  /** A chunk from the sender's node, checked again: this node guards its own reader. */
  put(n: number, data: Uint8Array): void {
    if (this.#ended) return;
    if (
      chunkBreaksRules(n, data.length, {
        next: this.#next,
        sent: this.#bytes,
        acked: this.#acked,
        size: this.offer.size,
        window: this.remote.flows.window,
      })
    ) {
      return this.#cancel(`chunk ${n} came out of order from another node`);
    }
    this.#next++;
    this.#bytes += data.length;
    this.remote.flows.api.send(this.to, FileChunk, { file: this.id, n, data });
  }

  finish(sha256: string, check: string | undefined): void {
    if (this.#ended) return;
    if (this.#bytes !== this.offer.size) {
      return this.#cancel(`ended after ${this.#bytes} of ${this.offer.size} bytes`);
    }
    this.#ended = true;
    this.remote.flows.api.send(this.to, FileEnd, { file: this.id, sha256, check });
  }

  chunk(): void {} // chunks come over the bus (put)
  end(): void {}

  ack(n: number): boolean {
    if (n <= this.#acked || n >= this.#next) return false;
    this.#acked = n;
    this.remote.publish(this.node, "out", { k: "credit", id: this.remoteId, n });
    return true;
  }

  verdict(ok: boolean): void {
    if (!this.#ended) return;
    this.#close();
    this.remote.publish(this.node, "out", { k: "verdict", id: this.remoteId, ok });
  }

  stop(by: Session | undefined, why: string): void {
    this.#close();
    if (by !== this.to) this.remote.flows.cancelled(this.id, [this.to], why);
    this.remote.publish(this.node, "out", { k: "cancel", id: this.remoteId, why });
  }

  /** The sender's node ended it. */
  cancelled(why: string): void {
    this.#close();
    this.remote.flows.cancelled(this.id, [this.to], why);
  }

  #cancel(why: string): void {
    this.stop(undefined, why);
    this.remote.flows.api.log.info(
      `transfer ${this.id} ${this.offer.from} -> ${this.to.name}: ${why}`,
    );
  }

  #close() {
    this.remote.flows.remove(this);
    this.remote.untrack("in", `${this.node} ${this.remoteId}`, this);
  }
}
