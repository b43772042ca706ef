/** The sender's node's half of a live transfer to a receiver on another node (remote.ts). */
import type { Session } from "../types.ts";
import { chunkBreaksRules, type Flow } from "./flow.ts";
import { CHUNK_BYTES, FileCredit, FileVerified } from "./protocol.ts";
import type { Offer, RelayHost } from "./remote_msg.ts";

/** The sender's node's half: checks the sender's chunks as Relay does and passes them on. */
export class RelayOut implements Flow {
  readonly to = undefined;
  #next = 0;
  #bytes = 0;
  #acked = -1;
  #ended = false;

  constructor(
    readonly remote: RelayHost,
    readonly id: string,
    /** Its name on the bus: `id` and this process's boot token (see RemoteRelays). */
    readonly busId: string,
    readonly from: Session,
    readonly receiver: string,
    readonly node: string,
    readonly offer: Offer,
  ) {
    remote.flows.add(this);
    remote.track("out", busId, this);
  }

  chunk(n: number, data: Uint8Array | undefined): void {
    if (this.#ended) return;
    if (!data) return this.#cancel(`chunk ${n} is not base64 of at most ${CHUNK_BYTES} bytes`);
    if (
      chunkBreaksRules(n, data.length, {
        next: this.#next,
        sent: this.#bytes,
        acked: this.#acked,
        size: this.offer.size,
        window: this.remote.flows.window,
      })
    ) {
      return this.#cancel(`chunk ${n} broke the rules (order, size or window)`);
    }
    this.#next++;
    this.#bytes += data.length;
    this.remote.publish(this.node, "in", { k: "chunk", id: this.busId, n, data });
  }

  end(sha256: string, check: string | undefined): void {
    if (this.#ended) return;
    if (this.#bytes !== this.offer.size) {
      return this.#cancel(`ended after ${this.#bytes} of ${this.offer.size} bytes`);
    }
    this.#ended = true;
    this.remote.publish(this.node, "in", { k: "end", id: this.busId, sha256, check });
  }

  ack(): boolean {
    return false; // the receiver's acks arrive over the bus (credit)
  }
  verdict(): void {}

  credit(n: number): void {
    if (n <= this.#acked || n >= this.#next) return;
    this.#acked = n;
    this.remote.flows.api.send(this.from, FileCredit, { file: this.id, n });
  }

  verdictFrom(ok: boolean): void {
    if (!this.#ended) return;
    this.#close();
    const body = { file: this.id, name: this.offer.name, by: this.receiver, ok };
    this.remote.flows.api.send(this.from, FileVerified, body);
  }

  stop(by: Session | undefined, why: string): void {
    this.#close();
    if (by !== this.from) this.remote.flows.cancelled(this.id, [this.from], why);
    this.remote.publish(this.node, "in", { k: "cancel", id: this.busId, why });
  }

  /** The receiver's node ended it. */
  cancelled(why: string): void {
    this.#close();
    this.remote.flows.cancelled(this.id, [this.from], why);
  }

  #cancel(why: string): void {
    this.stop(undefined, why);
    this.remote.flows.api.log.info(
      `transfer ${this.id} ${this.from.name} -> ${this.receiver}: ${why}`,
    );
  }

  #close() {
    this.remote.flows.remove(this);
    this.remote.untrack("out", this.busId, this);
  }
}
