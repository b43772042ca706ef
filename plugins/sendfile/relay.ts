/** A live transfer between two sessions online: chunks pass through in order, checked against
 *  the offered size, and nothing is held beyond the frames in flight. */
import type { Session } from "../types.ts";
import { chunkBreaksRules, type Flow, type Flows } from "./flow.ts";
import {
  CHUNK_BYTES,
  FileChunk,
  FileCredit,
  FileEnd,
  FileIncoming,
  FileVerified,
} from "./protocol.ts";

export class Relay implements Flow {
  readonly id: string;
  readonly live = true;
  /** Next chunk index expected, bytes relayed so far. */
  #next = 0;
  #bytes = 0;
  /** Highest chunk the receiver acknowledged: a sender past the window would fill the
   *  receiver's send queue and get it cut off. */
  #acked = -1;
  /** Set once sendfile.end passed: only the verdict is still to come. */
  #ended = false;

  constructor(
    readonly flows: Flows,
    readonly from: Session,
    readonly to: Session,
    readonly offer: { name: string; size: number; sealed?: string },
  ) {
    this.id = flows.newId();
    flows.add(this);
    const { name, size, sealed } = offer;
    flows.api.send(to, FileIncoming, { file: this.id, from: from.name!, name, size, sealed });
  }

  chunk(n: number, data: Uint8Array | undefined): void {
    if (this.#ended) return;
    if (!data) return this.#cancel(`chunk ${n} is not base64 of at most ${CHUNK_BYTES} bytes`);
    const bytes = data.length;
    if (
      chunkBreaksRules(n, bytes, {
        next: this.#next,
        sent: this.#bytes,
        acked: this.#acked,
        size: this.offer.size,
        window: this.flows.window,
      })
    ) {
      return this.#cancel(`chunk ${n} broke the rules (order, size or window)`);
    }
    this.#next++;
    this.#bytes += bytes;
    this.flows.api.send(this.to, FileChunk, { file: this.id, n, data });
  }

  end(sha256: string, check: string | undefined): void {
    if (this.#ended) return;
    if (this.#bytes !== this.offer.size) {
      return this.#cancel(`ended after ${this.#bytes} of ${this.offer.size} bytes`);
    }
    this.#ended = true;
    this.flows.api.send(this.to, FileEnd, { file: this.id, sha256, check });
  }

  /** Forwarded only when it moves the window: a receiver repeating acks must not fill the
   *  sender's queue with credits. */
  ack(n: number): boolean {
    if (n <= this.#acked || n >= this.#next) return false;
    this.#acked = n;
    this.flows.api.send(this.from, FileCredit, { file: this.id, n });
    return true;
  }

  verdict(ok: boolean): void {
    if (!this.#ended) return;
    this.flows.remove(this);
    const body = { file: this.id, name: this.offer.name, by: this.to.name!, ok };
    this.flows.api.send(this.from, FileVerified, body);
  }

  stop(by: Session | undefined, why: string): void {
    this.flows.remove(this);
    this.flows.cancelled(this.id, [this.from, this.to].filter((s) => s !== by), why);
    this.#log(why);
  }

  #cancel(why: string): void {
    this.flows.remove(this);
    this.flows.cancelled(this.id, [this.from, this.to], why);
    this.#log(why);
  }

  #log(why: string) {
    this.flows.api.log.info(`transfer ${this.id} ${this.from.name} -> ${this.to.name}: ${why}`);
  }
}
