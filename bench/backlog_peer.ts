/**
 * The backlog workload's two clients. The sender fills an offline account's log through a
 * window of unacknowledged dm.send requests and keeps the seq of every ack; the receiver
 * logs in afterwards and checks the catch-up against those seqs: each once, in increasing
 * order, none missing. Both read acks and messages by their bytes, like dm_peer, so the
 * generator stays cheap next to the server; anything unexpected is parsed properly.
 */
import type { FrameKind } from "./client.ts";
import { includes, indexOf, readUint, startsWith } from "./lines.ts";
import { type ErrorTally, Peer } from "./peer.ts";

const enc = new TextEncoder();
const HEAD = '{"type":"dm.send","id":"';
const SEQ = enc.encode('"seq":');
const STORED = enc.encode('"status":"stored"');
/** How a replayed message ends; `"replay"` is the last key the journal adds. */
const MISSED_TAIL = enc.encode('"replay":"missed"}');

export class BacklogSender extends Peer {
  sent = 0;
  inflight = 0;
  /** Acks, those of them that said "stored" (the receiver was offline, as intended), and
   *  requests answered with an error. */
  acked = 0;
  stored = 0;
  refused = 0;
  /** The seq of every acked message, in ack order: what the receiver must get back. */
  readonly seqs: number[] = [];
  /** Resolves once every request has been answered (acked or refused). */
  readonly settled: Promise<void>;
  #settle!: () => void;
  #answered = 0;
  #writing = false;
  #tail: string;
  #wbuf: Uint8Array;

  constructor(
    name: string,
    errors: ErrorTally,
    onLost: (reason: string) => void,
    readonly receiver: string,
    readonly total: number,
    readonly window: number,
    textBytes: number,
  ) {
    super(name, errors, onLost);
    this.settled = new Promise((resolve) => (this.#settle = resolve));
    // Every text is the same: the receiver checks seqs, and a fixed length keeps its parse
    // at a known offset.
    this.#tail = `","receiver":"${receiver}","text":"${"m".repeat(textBytes)}"}\n`;
    this.#wbuf = new Uint8Array(window * (HEAD.length + 11 + this.#tail.length));
  }

  protected override frame(kind: FrameKind, buf: Uint8Array, start: number, end: number): void {
    if (kind === "ack" && this.loggedIn) {
      const at = indexOf(buf, start, end, SEQ);
      this.#acked(
        at === -1 ? -1 : readUint(buf, at + SEQ.length, end),
        includes(buf, start, end, STORED),
      );
    } else super.frame(kind, buf, start, end);
  }

  protected override parsed(f: Record<string, unknown>): void {
    if (this.loggedIn && f.re !== undefined && f.re !== "quit") {
      if (f.type === "ack") {
        this.#acked(typeof f.seq === "number" ? f.seq : -1, f.status === "stored");
      } else {
        this.refused++;
        this.#answered++;
      }
    }
    super.parsed(f);
    this.#check();
  }

  #acked(seq: number, stored: boolean): void {
    this.acked++;
    this.#answered++;
    if (stored) this.stored++;
    // An ack without a seq means no log kept it (offline disabled): nothing to catch up.
    if (seq >= 0) this.seqs.push(seq);
    else this.errors.add("BENCH_ACK_WITHOUT_SEQ");
    this.#check();
  }

  #check(): void {
    this.inflight = this.sent - this.#answered;
    if (this.#answered >= this.total) this.#settle();
  }

  afterChunk(): void {
    if (!this.#writing && this.sent < this.total && this.inflight < this.window) void this.pump();
  }

  /** Fills the window in one write per round, until all `total` requests are written. */
  async pump(): Promise<void> {
    const client = this.client;
    if (!client || this.#writing) return;
    this.#writing = true;
    while (!client.closed && this.sent < this.total && this.inflight < this.window) {
      const n = Math.min(this.window - this.inflight, this.total - this.sent);
      let s = "";
      for (let i = 0; i < n; i++) s += HEAD + (this.sent + i).toString(36) + this.#tail;
      this.sent += n;
      this.inflight += n;
      const { read, written } = enc.encodeInto(s, this.#wbuf);
      const bytes = read === s.length ? this.#wbuf.subarray(0, written) : enc.encode(s);
      if (!(await client.write(bytes))) break;
    }
    this.#writing = false;
  }
}

export class BacklogReceiver extends Peer {
  /** The seqs the sender got acked, ascending; set before the receiver logs in. */
  expected: number[] = [];
  /** dm.message frames received, and their bytes on the wire (with the newline). */
  received = 0;
  wireBytes = 0;
  /** Received in order and expected; at or below the previous seq; above it but unknown. */
  matched = 0;
  outOfOrder = 0;
  unexpected = 0;
  /** Messages that did not carry replay "missed" (all of them were sent while away). */
  notMissed = 0;
  summaries = 0;
  summaryCount: number | undefined;
  /** The summary came before the first message, as the protocol promises. */
  summaryFirst: boolean | undefined;
  /** performance.now() of the login ack, the summary, the first message and the last one
   *  received; `allAt` when the last expected message arrived. */
  loginAckAt: number | undefined;
  summaryAt: number | undefined;
  firstAt: number | undefined;
  lastAt: number | undefined;
  allAt: number | undefined;
  /** Resolves once every expected message has arrived. */
  readonly all: Promise<void>;
  #all!: () => void;
  #prefix: Uint8Array;
  #lastSeq = 0;
  #next = 0;
  #ackedSeq = 0;
  #writing = false;

  constructor(
    name: string,
    errors: ErrorTally,
    onLost: (reason: string) => void,
    sender: string,
    readonly textBytes: number,
  ) {
    super(name, errors, onLost);
    this.all = new Promise((resolve) => (this.#all = resolve));
    // What the log replays, up to the first byte of the text (its key order is fixed).
    this.#prefix = enc.encode(
      `{"type":"dm.message","sender":"${sender}","receiver":"${name}","text":"`,
    );
  }

  protected override frame(kind: FrameKind, buf: Uint8Array, start: number, end: number): void {
    if (kind === "dm") this.wireBytes += end - start + 1;
    if (kind === "dm" && startsWith(buf, start, end, this.#prefix)) {
      // The seq follows the text and ts; the text has a known length, so skip it.
      const at = indexOf(buf, start + this.#prefix.length + this.textBytes, end, SEQ);
      this.#message(
        at === -1 ? -1 : readUint(buf, at + SEQ.length, end),
        includes(buf, end - MISSED_TAIL.length, end, MISSED_TAIL),
      );
    } else {
      if (kind === "ack" && !this.loggedIn) this.loginAckAt = this.now;
      super.frame(kind, buf, start, end);
    }
  }

  protected override parsed(f: Record<string, unknown>): void {
    if (f.type === "dm.message") {
      this.#message(typeof f.seq === "number" ? f.seq : -1, f.replay === "missed");
    } else if (f.type === "offline.summary") {
      this.summaries++;
      this.summaryAt ??= this.now;
      this.summaryFirst ??= this.firstAt === undefined;
      this.summaryCount = typeof f.count === "number" ? f.count : undefined;
    } else {
      if (f.type === "ack" && !this.loggedIn) this.loginAckAt = this.now;
      super.parsed(f);
    }
  }

  #message(seq: number, missed: boolean): void {
    this.received++;
    this.firstAt ??= this.now;
    this.lastAt = this.now;
    if (!missed) this.notMissed++;
    if (seq <= this.#lastSeq) {
      this.outOfOrder++;
      return;
    }
    this.#lastSeq = seq;
    // Both lists ascend, so one pointer walks the expected seqs; ones skipped are missing.
    const e = this.expected;
    while (this.#next < e.length && e[this.#next] < seq) this.#next++;
    if (e[this.#next] !== seq) {
      this.unexpected++;
      return;
    }
    this.#next++;
    if (++this.matched === e.length) {
      this.allAt = this.now;
      this.#all();
    }
  }

  /** Acknowledges once per read, as the real client does once per burst of frames shown:
   *  the cursor moves during the catch-up, as it would in use. */
  afterChunk(): void {
    if (this.#writing || this.#lastSeq <= this.#ackedSeq || !this.client) return;
    this.#ackedSeq = this.#lastSeq;
    this.#writing = true;
    const frame = `{"type":"session.ack","upTo":${this.#ackedSeq}}\n`;
    void this.client.write(enc.encode(frame)).finally(() => (this.#writing = false));
  }

  /** Expected messages that never arrived (in order). */
  get missing(): number {
    return this.expected.length - this.matched;
  }
}
