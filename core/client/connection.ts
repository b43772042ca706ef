/**
 * The client's connection: reads frames with the same bounded splitter as the server, matches
 * acks and errors to requests by id, and hands every other frame to `onPush`. Writes go
 * through an Outbox, so sending never waits on the socket either.
 */
import {
  ErrorFrame,
  parseBinaryFrame,
  parseFrame,
  SessionClosing,
  SessionPing,
  Welcome,
} from "../../protocol/core.ts";
import { ChatError } from "../../protocol/errors.ts";
import { decodeUtf8, encodeFrameFor, LineSplitter } from "../../protocol/framing.ts";
import type { MessageSpec, RawFrame } from "../../protocol/spec.ts";
import { Outbox } from "../outbox.ts";
import { TokenBucket } from "../token_bucket.ts";
import { DEFAULT_LIMITS } from "../../protocol/limits.ts";

/** Largest frame the client accepts from a server; generous, but bounded like the server. */
const CLIENT_MAX_FRAME_BYTES = 1024 * 1024;
/** The client's own outgoing queue; typing faster than this is not a real risk. */
const CLIENT_SEND_QUEUE_BYTES = 8 * 1024 * 1024;
const NOT_CONNECTED = "not connected to the server (not sent)";
/** A server that does not greet within this is not a ClassChat server. */
const WELCOME_TIMEOUT_MS = 10_000;
/** The share of the server's frame rate and burst the client paces itself to: frames sent
 *  evenly may still arrive bunched, and the rest of the burst absorbs that. */
const PACE_RATE_SHARE = 0.9;
const PACE_BURST_SHARE = 0.5;
/** A request refused RATE_LIMITED all the same (a clock or network hiccup) is sent again
 *  after the wait the server named, this many times at most. */
const RATE_LIMITED_RETRIES = 3;

export type WelcomeInfo = ReturnType<typeof Welcome.decode>;

export interface CloseInfo {
  /** Set when the server said why it closed (session.closing). */
  code?: string;
  message?: string;
}

export class ClientConnection {
  welcome!: WelcomeInfo;
  onPush: (frame: RawFrame) => void = () => {};
  /** Resolves when the connection has closed, with the server's reason if it gave one. */
  readonly closed: Promise<CloseInfo>;
  #nextId = 1;
  #pending = new Map<
    string,
    { answer(ack: RawFrame): void; reject(e: Error): void; bytes: Uint8Array; tries: number }
  >();
  /** Pacing under the server's frames-per-second limit (see #send), set from the welcome. */
  #pace: TokenBucket | undefined;
  #paced: Uint8Array[] = [];
  #pacedBytes = 0;
  #paceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Keepalive: when the server was last heard, and the timer that checks (see #keepalive). */
  #lastHeard = performance.now();
  #pinged = false;
  #idleTimer: ReturnType<typeof setInterval> | undefined;
  #outbox: Outbox;
  #closeInfo: CloseInfo = {};
  /** Set once the read side ended: requests then fail at once instead of waiting forever. */
  #gone = false;
  #gotWelcome!: (w: WelcomeInfo) => void;
  #welcomeFailed!: (e: Error) => void;

  private constructor(private readonly conn: Deno.Conn) {
    this.#outbox = new Outbox(
      conn,
      CLIENT_SEND_QUEUE_BYTES,
      () => this.close(),
      () => this.close(),
    );
    this.closed = this.#readLoop();
  }

  /** Greets over an open connection (TCP or TLS); resolves once the welcome frame arrived. */
  static async open(conn: Deno.Conn): Promise<ClientConnection> {
    // Small frames, sent at once (see core/server/server.ts).
    (conn as Deno.TcpConn).setNoDelay?.(true);
    const c = new ClientConnection(conn);
    const welcome = new Promise<WelcomeInfo>((resolve, reject) => {
      c.#gotWelcome = resolve;
      c.#welcomeFailed = reject;
    });
    const timer = setTimeout(
      () =>
        c.#welcomeFailed(new Error("the server sent no welcome frame: is it a ClassChat server?")),
      WELCOME_TIMEOUT_MS,
    );
    try {
      c.welcome = await welcome;
      c.#start();
      return c;
    } catch (e) {
      c.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** True once the connection is over (the read side ended). */
  get isClosed(): boolean {
    return this.#gone;
  }

  /** Sends a request with a fresh id (and the transaction id `txn`, if given: see
   *  core/client/sends.ts); resolves with the ack's fields, decoded by the spec, or rejects
   *  with a ChatError when the server answered with an error or a malformed ack (BAD_FRAME),
   *  or with a plain Error when it did not answer (not connected, or the connection dropped
   *  first). */
  request<T, A>(spec: MessageSpec<T, A>, body: T, txn?: string): Promise<A> {
    const id = `c${this.#nextId++}`;
    return new Promise((resolve, reject) => {
      const answer = (ack: RawFrame) => {
        try {
          resolve(spec.decodeAck(ack));
        } catch (e) {
          reject(malformedAck(spec.type, e));
        }
      };
      if (this.#gone) return reject(new Error(NOT_CONNECTED));
      const bytes = this.#encode({
        type: spec.type,
        id,
        ...(txn ? { txn } : {}),
        ...body as object,
      });
      this.#pending.set(id, { answer, reject, bytes, tries: 0 });
      if (!this.#send(bytes, spec.windowed)) {
        this.#pending.delete(id);
        reject(new Error(NOT_CONNECTED));
      }
    });
  }

  /** Sends a frame that gets no answer (no id), e.g. session.ack; dropped if closed. */
  notify<T>(spec: MessageSpec<T>, body: T): void {
    if (!this.#gone) {
      this.#send(this.#encode({ type: spec.type, ...body as object }), spec.windowed);
    }
  }

  /** A frame's bytes: one with bytes in `data` (a file chunk) as a binary frame if the server
   *  reads them (its welcome says so), else base64 in the line. */
  #encode(frame: Record<string, unknown>): Uint8Array {
    return encodeFrameFor(frame, this.welcome?.binary === true);
  }

  close() {
    clearInterval(this.#idleTimer);
    clearTimeout(this.#paceTimer);
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  /** After the welcome: pace to the server's frame rate and watch that it is still there.
   *  The numbers come from the server, so absurd ones are ignored rather than trusted. */
  #start() {
    const limits = this.welcome.limits;
    const rate = within(limits.framesPerSecond, 1, 1_000_000);
    const burst = within(limits.frameBurst, 1, 1_000_000);
    if (rate !== undefined && burst !== undefined) {
      this.#pace = new TokenBucket(
        rate * PACE_RATE_SHARE,
        Math.max(1, Math.floor(burst * PACE_BURST_SHARE)),
      );
    }
    const idle = within(limits.idleTimeoutMs, 2_000, 86_400_000) ?? DEFAULT_LIMITS.idleTimeoutMs;
    this.#idleTimer = setInterval(() => this.#keepalive(idle), idle / 4);
  }

  /** Pings a server quiet for half the idle time; gives up on one silent for all of it (a
   *  network that dropped without a reset), which ends the connection and so reconnects. */
  #keepalive(idle: number) {
    const quiet = performance.now() - this.#lastHeard;
    if (quiet >= idle) {
      this.#closeInfo = {
        code: "IDLE_TIMEOUT",
        message: `the server stopped answering (nothing heard for ${Math.round(quiet / 1000)} s)`,
      };
      this.close();
    } else if (quiet >= idle / 2 && !this.#pinged) {
      this.#pinged = true;
      this.request(SessionPing, {}).catch(() => {});
    }
  }

  /** Queues a frame: windowed ones (file chunks) at once, the rest paced in order. */
  #send(bytes: Uint8Array, windowed?: boolean): boolean {
    if (!this.#pace || windowed) return this.#outbox.push(bytes);
    if (this.#pacedBytes + bytes.length > CLIENT_SEND_QUEUE_BYTES) {
      this.close();
      return false;
    }
    this.#paced.push(bytes);
    this.#pacedBytes += bytes.length;
    if (this.#paceTimer === undefined) this.#flushPaced();
    return true;
  }

  #flushPaced = () => {
    this.#paceTimer = undefined;
    while (this.#paced.length > 0) {
      const wait = this.#pace!.take();
      if (wait > 0) {
        this.#paceTimer = setTimeout(this.#flushPaced, wait);
        return;
      }
      const bytes = this.#paced.shift()!;
      this.#pacedBytes -= bytes.length;
      if (!this.#outbox.push(bytes)) return;
    }
  };

  async #readLoop(): Promise<CloseInfo> {
    // The server's lines are JSON, which never starts with a binary frame's mark.
    const splitter = new LineSplitter(CLIENT_MAX_FRAME_BYTES, () => true);
    const buf = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        this.#lastHeard = performance.now();
        this.#pinged = false;
        for (const ev of splitter.push(buf.subarray(0, n))) {
          if (ev.kind === "line") this.#onLine(ev.bytes);
          else if (ev.kind === "binary") this.#onBinary(ev.bytes);
        }
      }
    } catch { /* reset or closed locally: either way the connection is over */ }
    this.#gone = true;
    this.close();
    this.#paced = [];
    const gone = new Error(
      this.#closeInfo.message ?? "the connection dropped before the server answered",
    );
    this.#welcomeFailed?.(gone);
    for (const p of this.#pending.values()) p.reject(gone);
    this.#pending.clear();
    return this.#closeInfo;
  }

  #onLine(bytes: Uint8Array) {
    const text = decodeUtf8(bytes);
    if (text === undefined || text.trim() === "") return;
    let frame: RawFrame;
    try {
      frame = parseFrame(text);
    } catch {
      return; // not a frame: ignore rather than trust it
    }
    this.#onFrame(frame);
  }

  #onBinary(bytes: Uint8Array) {
    let frame: RawFrame;
    try {
      frame = parseBinaryFrame(bytes);
    } catch {
      return; // as a line that is not a frame
    }
    this.#onFrame(frame);
  }

  #onFrame(frame: RawFrame) {
    if (frame.type === "welcome") {
      try {
        this.#gotWelcome(Welcome.decode(frame));
      } catch (e) {
        this.#welcomeFailed(e as Error);
      }
      return;
    }
    if (frame.type === "session.ping" && frame.id === undefined) {
      // The server has not heard from us for a while: say we are here (no answer expected).
      return this.notify(SessionPing, {});
    }
    const re = typeof frame.re === "string" ? this.#pending.get(frame.re) : undefined;
    if (re && (frame.type === "ack" || frame.type === "error")) {
      const error = frame.type === "error" ? toChatError(frame) : undefined;
      // Only the frame budget's refusals (limit "frames") are worth resending; a login refused
      // for failed attempts must reach the person at once.
      if (
        error?.code === "RATE_LIMITED" && frame.limit === "frames" &&
        re.tries++ < RATE_LIMITED_RETRIES
      ) {
        const wait = typeof frame.retryAfterMs === "number" ? frame.retryAfterMs : 1000;
        setTimeout(() => this.#send(re.bytes), Math.min(Math.max(wait, 1), 60_000));
        return;
      }
      this.#pending.delete(frame.re as string);
      if (error) re.reject(error);
      else re.answer(frame);
      return;
    }
    if (frame.type === "session.closing") {
      try {
        this.#closeInfo = SessionClosing.decode(frame);
      } catch { /* a malformed reason is no reason */ }
    }
    // Shown after pending ack continuations of the same read, so "logged in" precedes the
    // notices that arrived right behind its ack.
    queueMicrotask(() => this.onPush(frame));
  }
}

/** v if it is a number from min to max, else undefined. */
function within(v: unknown, min: number, max: number): number | undefined {
  return typeof v === "number" && v >= min && v <= max ? v : undefined;
}

/** An ack its request's decoder refused, as that request's failure. The server's data is
 *  untrusted: its answer is not used, and the person is told the server is at fault, whatever
 *  the decoder threw (a field reader's ChatError names the field; anything else, a bug's
 *  TypeError say, is not shown: the person has no use for the runtime's words). */
function malformedAck(type: string, e: unknown): ChatError {
  const why = e instanceof ChatError ? e.message : "it could not be read";
  return new ChatError("BAD_FRAME", `the server's answer to ${type} is malformed: ${why}`);
}

/** An error frame as a ChatError; its text is checked like any other the client shows. */
function toChatError(frame: RawFrame): ChatError {
  try {
    const e = ErrorFrame.decode(frame);
    return new ChatError(e.code, e.message);
  } catch {
    return new ChatError("INTERNAL", "the server sent a malformed error frame");
  }
}
