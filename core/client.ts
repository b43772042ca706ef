/**
 * The client's connection: reads frames with the same bounded splitter as the server, matches
 * acks and errors to requests by id, and hands every other frame to `onPush`. Writes go
 * through an Outbox, so sending never waits on the socket either.
 */
import { ErrorFrame, parseFrame, SessionClosing, Welcome } from "../protocol/core.ts";
import { ChatError } from "../protocol/errors.ts";
import { decodeUtf8, encodeFrame, LineSplitter } from "../protocol/framing.ts";
import type { MessageSpec, RawFrame } from "../protocol/spec.ts";
import { Outbox } from "./outbox.ts";

/** Largest frame the client accepts from a server; generous, but bounded like the server. */
const CLIENT_MAX_FRAME_BYTES = 1024 * 1024;
/** The client's own outgoing queue; typing faster than this is not a real risk. */
const CLIENT_SEND_QUEUE_BYTES = 8 * 1024 * 1024;
const NOT_CONNECTED = "not connected to the server (not sent)";
/** A server that does not greet within this is not a ClassChat server. */
const WELCOME_TIMEOUT_MS = 10_000;

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
  #pending = new Map<string, { resolve(f: RawFrame): void; reject(e: Error): void }>();
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
    // Small frames, sent at once (see core/server.ts).
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

  /** Sends a request with a fresh id; resolves with the ack or rejects with a ChatError. */
  request<T>(spec: MessageSpec<T>, body: T): Promise<RawFrame> {
    const id = `c${this.#nextId++}`;
    return new Promise((resolve, reject) => {
      if (this.#gone) return reject(new Error(NOT_CONNECTED));
      this.#pending.set(id, { resolve, reject });
      if (!this.#outbox.push(encodeFrame({ type: spec.type, id, ...body as object }))) {
        this.#pending.delete(id);
        reject(new Error(NOT_CONNECTED));
      }
    });
  }

  /** Sends a frame that gets no answer (no id), e.g. session.ack; dropped if closed. */
  notify<T>(spec: MessageSpec<T>, body: T): void {
    if (!this.#gone) this.#outbox.push(encodeFrame({ type: spec.type, ...body as object }));
  }

  close() {
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  async #readLoop(): Promise<CloseInfo> {
    const splitter = new LineSplitter(CLIENT_MAX_FRAME_BYTES);
    const buf = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        for (const ev of splitter.push(buf.subarray(0, n))) {
          if (ev.kind === "line") this.#onLine(ev.bytes);
        }
      }
    } catch { /* reset or closed locally: either way the connection is over */ }
    this.#gone = true;
    this.close();
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
    if (frame.type === "welcome") {
      try {
        this.#gotWelcome(Welcome.decode(frame));
      } catch (e) {
        this.#welcomeFailed(e as Error);
      }
      return;
    }
    const re = typeof frame.re === "string" ? this.#pending.get(frame.re) : undefined;
    if (re && (frame.type === "ack" || frame.type === "error")) {
      this.#pending.delete(frame.re as string);
      if (frame.type === "ack") re.resolve(frame);
      else re.reject(toChatError(frame));
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

/** An error frame as a ChatError; its text is checked like any other the client shows. */
function toChatError(frame: RawFrame): ChatError {
  try {
    const e = ErrorFrame.decode(frame);
    return new ChatError(e.code, e.message);
  } catch {
    return new ChatError("INTERNAL", "the server sent a malformed error frame");
  }
}
