/**
 * The soak client's session: one connection at a time that logs in (password) or resumes
 * (token), sends requests, leaves (session.quit, or just closing the connection) and reads
 * what comes back. SoakPeer (soak_peer.ts) adds the behaviour: when to do what. Frames are
 * few, so each is parsed as JSON: no byte tricks.
 *
 * Every message text starts with `<message id>:<send time in µs>`. The Ledger counts, per
 * message, the deliveries its ack promised (1 for a direct message, sent + stored for a room
 * post) against those that arrived; whatever is still owed at the end of the drain was lost.
 * Pushed messages carry the journal's `seq`, increasing per recipient, which tells a first
 * delivery from a redelivery: a message shown but not yet acknowledged (session.ack) when the
 * client left is replayed at its next login, as it should be, and is not counted twice.
 */
import { BenchClient, type ClientHandler, parseLine } from "./client.ts";
import { startsWith } from "./lines.ts";
import type { Rng } from "./rng.ts";
import type { ConnectTarget, ErrorTally } from "./peer.ts";
import type { Ledger, SoakCounts } from "./soak_ledger.ts";
import type { LatencyHistogram } from "./stats.ts";
import type { Stopper } from "./wait.ts";

/** session.ack at most this often: the real client acknowledges per burst shown. */
const ACK_EVERY_MS = 1000;

const enc = new TextEncoder();
const PRESENCE = enc.encode('{"type":"presence.');
const JOINED = enc.encode('{"type":"groups.joined"');
const TEXT = /^(\d+):(\d+)/;

export type Kind = "dm" | "post" | "who" | "members" | "ping";
export type Frame = Record<string, unknown>;
type State = "offline" | "connecting" | "online" | "leaving";

/** What a soak session uses of the workload (SoakWorld, in soak_peer.ts, adds the other
 *  clients). Declared here so that this file need not import soak_peer.ts, which imports it. */
export interface SessionWorld {
  readonly target: ConnectTarget;
  readonly textBytes: number;
  readonly ledger: Ledger;
  readonly counts: SoakCounts;
  readonly errors: ErrorTally;
  /** Send to receipt of live (not replayed) messages; request to answer; login request to
   *  its ack, for the first logins (all at once) and for the reconnects. */
  readonly delivery: LatencyHistogram;
  readonly answer: LatencyHistogram;
  readonly login: LatencyHistogram;
  readonly relogin: LatencyHistogram;
  /** Stopped when the traffic ends (or the run fails): it cuts every client's wait short. */
  readonly traffic: Stopper;
  /** True once the run failed or is being torn down: nobody reconnects then. */
  readonly failed: boolean;
  /** The server closed a logged-in connection we did not ask it to close. */
  dropped(reason: string): void;
}

interface Pending {
  kind: Kind;
  msgId: number;
  at: number;
}

/** A login or resume answered with an error frame. */
export class LoginRefused extends Error {
  constructor(readonly code: string, name: string) {
    super(`${name}: login refused: ${code}`);
  }
}

/** A soak client's connection and what it reads; SoakPeer extends it with the behaviour. */
export class SoakSession<W extends SessionWorld = SessionWorld> {
  client: BenchClient | undefined;
  state: State = "offline";
  /** The resume token of the last password login. */
  token: string | undefined;
  /** performance.now() of the read being handled. */
  now = 0;
  readonly #password: string;
  readonly #pending = new Map<string, Pending>();
  #requests = 0;
  /** Bumped per connection: callbacks of an earlier connection are ignored. */
  #gen = 0;
  #login: { resolve: () => void; reject: (e: Error) => void } | undefined;
  #setup: ((f: Frame) => void) | undefined;
  /** Highest seq received in any session; in this session; acknowledged (sent) so far; and
   *  known to have reached the server's cursor (acknowledged before a quit the server
   *  answered). A seq at or below the last is a duplicate; above it and at or below
   *  #lastSeq, an expected replay. */
  #lastSeq = 0;
  #sessionSeq = 0;
  #ackedUpTo = 0;
  #confirmedUpTo = 0;
  #quitUpTo = 0;
  #ackAt = 0;
  /** Logged in once already: later logins are reconnects. */
  #reconnecting = false;

  constructor(
    readonly index: number,
    readonly name: string,
    readonly rng: Rng,
    readonly w: W,
  ) {
    this.#password = `bench-password-${name}`;
  }

  /** Connects and logs in (password) or resumes (token); throws LoginRefused or a network
   *  error. */
  async connect(how: "password" | "resume"): Promise<void> {
    const gen = ++this.#gen;
    this.state = "connecting";
    this.#sessionSeq = 0;
    const loggedIn = new Promise<void>((resolve, reject) => (this.#login = { resolve, reject }));
    loggedIn.catch(() => {});
    const handler: ClientHandler = {
      onChunk: (now) => (this.now = now),
      onLine: (buf, start, end) => {
        if (gen === this.#gen) this.#line(buf, start, end);
      },
      afterChunk: () => {
        if (gen === this.#gen) this.#afterChunk();
      },
      onClose: (reason) => {
        if (gen === this.#gen) this.#closed(reason);
      },
    };
    try {
      const client = this.client = await BenchClient.connect(this.w.target, handler);
      const login = how === "resume" && this.token !== undefined
        ? { type: "session.resume", id: "login", name: this.name, token: this.token }
        : { type: "session.login", id: "login", name: this.name, password: this.#password };
      const t0 = performance.now();
      if (!(await client.write(enc.encode(line(login))))) {
        throw new Error(`${this.name}: could not log in`);
      }
      await loggedIn;
      const h = this.#reconnecting ? this.w.relogin : this.w.login;
      h.record((performance.now() - t0) * 1000);
      this.#reconnecting = true;
      this.state = "online";
    } catch (e) {
      this.#login = undefined;
      this.client?.close();
      this.state = "offline";
      throw e;
    }
  }

  /** Sends a create or join and resolves with its answer (ack or error). */
  async setup(type: "groups.create" | "groups.join", room: string): Promise<Frame> {
    if (this.#setup) throw new Error(`${this.name}: one setup request at a time`);
    const answer = new Promise<Frame>((resolve) => (this.#setup = resolve));
    if (!(await this.client!.write(enc.encode(line({ type, id: "setup", room }))))) {
      this.#setup = undefined;
      return { type: "error", code: "BENCH_CLOSED" };
    }
    return await answer;
  }

  /** Requests sent and not yet answered. */
  get inflight(): number {
    return this.#pending.size;
  }

  close(): void {
    this.client?.close();
  }

  /** A session.quit, after a session.ack of what this session received if not yet acked. */
  protected quitFrames(): Uint8Array {
    let s = "";
    if (this.#sessionSeq > this.#ackedUpTo) s += this.#ackFrame();
    this.#quitUpTo = this.#ackedUpTo;
    s += line({ type: "session.quit", id: "quit" });
    return enc.encode(s);
  }

  /** Sends a request; it is pending until its answer. */
  protected request(kind: Kind, msgId: number, body: Frame): void {
    const id = `${kind[0]}${(++this.#requests).toString(36)}`;
    this.#pending.set(id, { kind, msgId, at: performance.now() });
    void this.client!.write(enc.encode(line({ ...body, id })));
  }

  #line(buf: Uint8Array, start: number, end: number): void {
    const { counts, errors } = this.w;
    if (startsWith(buf, start, end, PRESENCE)) {
      counts.presenceFrames++;
      return;
    }
    if (startsWith(buf, start, end, JOINED)) {
      counts.joinedNotices++;
      return;
    }
    const f = parseLine(buf, start, end);
    if (f === undefined) return errors.add("BENCH_UNPARSEABLE_FRAME");
    switch (f.type) {
      case "dm.message":
        return this.#delivered("dm", f);
      case "groups.message":
        return this.#delivered("post", f);
      case "ack":
        return this.#answered(f, undefined);
      case "error":
        errors.add(String(f.code));
        if (f.re !== undefined) this.#answered(f, String(f.code));
        return;
      case "offline.summary":
        counts.summaries++;
        return;
      case "session.closing":
        errors.add(`closing:${f.code}`);
        return;
    }
  }

  #answered(f: Frame, error: string | undefined): void {
    const { w } = this;
    const re = String(f.re);
    if (re === "login") {
      const waiter = this.#login;
      this.#login = undefined;
      if (error !== undefined) waiter?.reject(new LoginRefused(error, this.name));
      else {
        if (typeof f.token === "string") this.token = f.token;
        waiter?.resolve();
      }
      return;
    }
    if (re === "quit") {
      // Answered after the session.ack sent with it: the server's cursor is there now.
      if (error === undefined) this.#confirmedUpTo = Math.max(this.#confirmedUpTo, this.#quitUpTo);
      return;
    }
    if (re === "setup") {
      const resolve = this.#setup;
      this.#setup = undefined;
      resolve?.(f);
      return;
    }
    const p = this.#pending.get(re);
    if (p === undefined) return w.errors.add("BENCH_UNKNOWN_ANSWER");
    this.#pending.delete(re);
    w.answer.record((this.now - p.at) * 1000);
    const { counts } = w;
    if (p.kind === "dm") {
      if (error !== undefined) counts.dmRefused++;
      else {
        counts.dmAcked++;
        if (f.status === "stored") counts.dmStored++;
        w.ledger.owe("dm", p.msgId, 1);
      }
    } else if (p.kind === "post") {
      if (error !== undefined) counts.postRefused++;
      else {
        const n = Number(f.sent) + Number(f.stored);
        counts.postAcked++;
        counts.postOwed += n;
        w.ledger.owe("post", p.msgId, n);
      }
    } else if (error !== undefined) counts.otherRefused++;
    else counts.otherAcked++;
  }

  #delivered(kind: "dm" | "post", f: Frame): void {
    const { counts } = this.w;
    if (typeof f.seq === "number") {
      const seq = f.seq;
      if (seq <= this.#sessionSeq || seq <= this.#confirmedUpTo) {
        counts.duplicates++;
        return;
      }
      this.#sessionSeq = seq;
      if (seq <= this.#lastSeq) {
        counts.redelivered++;
        return;
      }
      this.#lastSeq = seq;
    }
    const m = typeof f.text === "string" ? TEXT.exec(f.text) : null;
    if (m === null || (kind === "dm" && f.receiver !== this.name)) {
      counts.unexpected++;
      return;
    }
    const missed = f.replay === "missed";
    if (kind === "dm") {
      counts.dmDelivered++;
      if (missed) counts.dmMissed++;
    } else {
      counts.postDelivered++;
      if (missed) counts.postMissed++;
    }
    this.w.ledger.delivered(kind, Number(m[1]));
    if (f.replay === undefined) this.w.delivery.record(this.now * 1000 - Number(m[2]));
  }

  #afterChunk(): void {
    if (this.state !== "online" || this.#sessionSeq <= this.#ackedUpTo) return;
    if (this.now - this.#ackAt < ACK_EVERY_MS) return;
    this.#ackAt = this.now;
    void this.client!.write(enc.encode(this.#ackFrame()));
  }

  /** A session.ack up to everything received in this session (never beyond: the server caps
   *  an ack at what this session was sent). */
  #ackFrame(): string {
    this.#ackedUpTo = this.#sessionSeq;
    this.w.counts.sessionAcks++;
    return `{"type":"session.ack","upTo":${this.#sessionSeq}}\n`;
  }

  #closed(reason: string | undefined): void {
    const was = this.state;
    this.state = "offline";
    const login = this.#login;
    this.#login = undefined;
    login?.reject(new Error(`${this.name}: ${reason ?? "closed"} while logging in`));
    this.#setup?.({ type: "error", code: "BENCH_CLOSED" });
    this.#setup = undefined;
    // Requests still unanswered (a drop, or a quit after LEAVE_WAIT_MS): fate unknown.
    for (const p of this.#pending.values()) {
      if (p.kind === "dm" || p.kind === "post") this.w.ledger.forget(p.kind, p.msgId);
      this.w.counts.unanswered++;
    }
    this.#pending.clear();
    if (reason === undefined || was !== "online") return;
    this.w.counts.drops++;
    this.w.dropped(`${this.name}: ${reason}`);
  }
}

function line(f: Frame): string {
  return JSON.stringify(f) + "\n";
}
