/**
 * A peer that sends requests of one kind as fast as a window of unacknowledged requests
 * allows, and times what it receives: the common half of the dm and fanout clients. Each text
 * starts with the send time in whole microseconds of performance.now(); every peer lives in
 * this one process, so the clocks agree and latency is simply receive time minus that number.
 */
import { type ErrorTally, Peer } from "./peer.ts";
import type { LatencyHistogram } from "./stats.ts";

const enc = new TextEncoder();
/** Request ids are base-36 sequence numbers: 11 characters cover any possible run. */
const MAX_ID_CHARS = 11;
/** With --txn, what follows the id: `","txn":"` (9), the 12-character prefix, a dot and a
 *  decimal counter (16 digits cover any possible run). */
const MAX_TXN_CHARS = 9 + 12 + 1 + 16;

export abstract class WindowPeer extends Peer {
  /** Set by the workload: true only during the sending window. */
  sending = false;
  inflight = 0;
  sent = 0;
  acked = 0;
  delivered = 0;
  #writing = false;
  #seq = 0;
  /** `{"type":"x.send","id":"` and what follows the id up to the text (see target). */
  #head = "";
  #mid = "";
  /** Reused for every batch: a write completes before the next batch is encoded. */
  #wbuf = new Uint8Array(0);
  /** With --txn (useTxn): `","txn":"<prefix>.`, followed by the request's number. */
  #txnHead: string | undefined;

  constructor(
    name: string,
    errors: ErrorTally,
    onLost: (reason: string) => void,
    readonly window: number,
    readonly textBytes: number,
    readonly latency: LatencyHistogram,
  ) {
    super(name, errors, onLost);
  }

  /** What to send: each request is `head + id + mid + text + "}`. */
  protected target(type: string, mid: string): void {
    this.#head = `{"type":"${type}","id":"`;
    this.#mid = mid;
    const frameBytes = this.#head.length + MAX_ID_CHARS + MAX_TXN_CHARS + mid.length +
      this.textBytes + 3;
    this.#wbuf = new Uint8Array(this.window * frameBytes);
  }

  /** --txn: every request also carries a transaction id right after its id, shaped as the
   *  reference client's (core/client/sends.ts): a random prefix per client (9 bytes,
   *  base64url) and a counter, so the server records each (account, txn) answer. */
  useTxn(): void {
    const prefix = crypto.getRandomValues(new Uint8Array(9)).toBase64({ alphabet: "base64url" });
    this.#txnHead = `","txn":"${prefix}.`;
  }

  /** A request was answered (ack or error): its window slot is free. */
  protected answered(ok: boolean): void {
    this.inflight--;
    if (ok) this.acked++;
  }

  /** A message arrived whose text began with `sentUs` (-1: unreadable). */
  protected received(sentUs: number): void {
    this.delivered++;
    if (sentUs >= 0) this.latency.record(this.now * 1000 - sentUs);
  }

  afterChunk(): void {
    if (this.sending && !this.#writing && this.inflight < this.window) void this.pump();
  }

  /** Fills the window in one write per round; loops while acks freed slots during the write. */
  async pump(): Promise<void> {
    const client = this.client;
    if (!client || this.#writing) return;
    this.#writing = true;
    while (this.sending && !client.closed && this.inflight < this.window) {
      const n = this.window - this.inflight;
      // One timestamp per batch: its frames leave in the same write anyway.
      const text = String(Math.round(performance.now() * 1000)).padEnd(this.textBytes, "x");
      const tail = this.#mid + text + '"}\n';
      let s = "";
      const txn = this.#txnHead;
      for (let i = 0; i < n; i++) {
        const id = this.#seq++;
        s += this.#head + id.toString(36) + (txn === undefined ? "" : txn + (id + 1)) + tail;
      }
      this.inflight += n;
      this.sent += n;
      const { read, written } = enc.encodeInto(s, this.#wbuf);
      const bytes = read === s.length ? this.#wbuf.subarray(0, written) : enc.encode(s);
      if (!(await client.write(bytes))) break;
    }
    this.#writing = false;
  }
}
