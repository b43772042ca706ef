/**
 * The dm workload's client: sends dm.send to its partner while fewer than `window` requests
 * are unacknowledged, and times every dm.message it receives. Each text starts with the send
 * time in whole microseconds of performance.now(); sender and receiver live in this one
 * process, so the clocks agree and latency is simply receive time minus that number.
 */
import type { FrameKind } from "./client.ts";
import { readUint, startsWith } from "./lines.ts";
import { type ErrorTally, Peer } from "./peer.ts";
import type { LatencyHistogram } from "./stats.ts";

const enc = new TextEncoder();
const HEAD = '{"type":"dm.send","id":"';
/** Request ids are base-36 sequence numbers: 11 characters cover any possible run. */
const MAX_ID_CHARS = 11;

export class DmPeer extends Peer {
  /** Set by the workload: true only during the sending window. */
  sending = false;
  inflight = 0;
  sent = 0;
  acked = 0;
  delivered = 0;
  partner: DmPeer | undefined;
  #writing = false;
  #seq = 0;
  #dmPrefix = new Uint8Array(0);
  #mid = "";
  /** Reused for every batch: a write completes before the next batch is encoded. */
  #wbuf = new Uint8Array(0);

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

  pairWith(p: DmPeer): void {
    this.partner = p;
    // What the server sends us, up to the first byte of the text (its key order is fixed).
    this.#dmPrefix = enc.encode(
      `{"type":"dm.message","sender":"${p.name}","receiver":"${this.name}","text":"`,
    );
    this.#mid = `","receiver":"${p.name}","text":"`;
    const frameBytes = HEAD.length + MAX_ID_CHARS + this.#mid.length + this.textBytes + 3;
    this.#wbuf = new Uint8Array(this.window * frameBytes);
  }

  protected override frame(kind: FrameKind, buf: Uint8Array, start: number, end: number): void {
    if (kind === "dm" && startsWith(buf, start, end, this.#dmPrefix)) {
      this.#delivered(readUint(buf, start + this.#dmPrefix.length, end));
    } else if (kind === "ack" && this.loggedIn) {
      this.inflight--;
      this.acked++;
    } else {
      super.frame(kind, buf, start, end);
    }
  }

  protected override parsed(f: Record<string, unknown>): void {
    if (f.type === "dm.message" && typeof f.text === "string") {
      const t = parseInt(f.text, 10);
      this.#delivered(Number.isFinite(t) ? t : -1);
      return;
    }
    if (this.loggedIn && f.re !== undefined) {
      // An answer to a dm.send: it frees a window slot whether it is an ack or an error.
      this.inflight--;
      if (f.type === "ack") this.acked++;
    }
    super.parsed(f);
  }

  #delivered(sentUs: number): void {
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
      for (let i = 0; i < n; i++) s += HEAD + (this.#seq++).toString(36) + tail;
      this.inflight += n;
      this.sent += n;
      const { read, written } = enc.encodeInto(s, this.#wbuf);
      const bytes = read === s.length ? this.#wbuf.subarray(0, written) : enc.encode(s);
      if (!(await client.write(bytes))) break;
    }
    this.#writing = false;
  }
}
