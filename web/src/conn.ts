/// <reference lib="dom" />
/**
 * The page's connection: protocol v1 over a WebSocket to the page's own server (`/ws`), one
 * frame per message (core/server/ws_conn.ts). Requests get ids and are matched to their ack
 * or error; everything else goes to `onPush`. Frames are decoded by the same specs as the
 * terminal client's (protocol/, plugins/<p>/protocol.ts).
 */
import { ErrorFrame, parseBinaryFrame, parseFrame, Welcome } from "../../protocol/core.ts";
import { ChatError, type ErrorCode } from "../../protocol/errors.ts";
import type { MessageSpec, RawFrame } from "../../protocol/spec.ts";
import { BINARY_MARK, encodeFrameFor } from "../../protocol/framing.ts";

export type WelcomeInfo = ReturnType<typeof Welcome.decode>;

/** A request the server refused (or the page's own refusal): its error code and message. A
 *  ChatError, as the terminal's are, so Sends takes it as the answer and does not send again;
 *  a dropped connection is a plain Error (no answer came). */
export class RequestError extends ChatError {
  constructor(code: string, message: string) {
    super(code as ErrorCode, message);
  }
}

const NOT_CONNECTED = "not connected (not sent)";

export class PageConnection {
  onPush: (f: RawFrame) => void = () => {};
  onClose: (code: string | undefined, message: string | undefined) => void = () => {};
  welcome: WelcomeInfo | undefined;
  #ws: WebSocket;
  #nextId = 1;
  #pending = new Map<string, { resolve(f: RawFrame): void; reject(e: Error): void }>();
  #closing: { code?: string; message?: string } = {};
  #welcomed = Promise.withResolvers<WelcomeInfo>();

  constructor(url: string) {
    this.#ws = new WebSocket(url);
    this.#ws.binaryType = "arraybuffer";
    this.#ws.onmessage = (e) => this.#message(e.data);
    this.#ws.onclose = () => this.#closed();
  }

  /** Resolves with the server's welcome, the first frame on every connection. */
  welcomed(): Promise<WelcomeInfo> {
    return this.#welcomed.promise;
  }

  /** Whether the socket is closing or closed: requests then fail at once. */
  get isClosed(): boolean {
    return this.#ws.readyState >= WebSocket.CLOSING;
  }

  /** Sends a request with a fresh id (and `txn`, for Sends: the server does a repeat once). */
  request<T, A>(spec: MessageSpec<T, A>, body: T, txn?: string): Promise<A> {
    const id = `w${this.#nextId++}`;
    return new Promise((resolve, reject) => {
      if (this.#ws.readyState !== WebSocket.OPEN) return reject(new Error(NOT_CONNECTED));
      this.#pending.set(id, {
        resolve: (f) => {
          try {
            resolve(spec.decodeAck(f));
          } catch (e) {
            reject(new RequestError("BAD_FRAME", String(e)));
          }
        },
        reject,
      });
      this.#ws.send(
        JSON.stringify({ type: spec.type, id, ...(txn ? { txn } : {}), ...body as object }),
      );
    });
  }

  /** Sends a frame that gets no answer; one with bytes in `data` (a file chunk) goes as a
   *  binary message (the binary frame without its mark and length) if the server reads them. */
  notify<T>(spec: MessageSpec<T>, body: T): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    const frame = { type: spec.type, ...body as object } as Record<string, unknown>;
    if (!(frame.data instanceof Uint8Array)) return this.#ws.send(JSON.stringify(frame));
    const bytes = encodeFrameFor(frame, this.welcome?.binary === true);
    this.#ws.send(bytes[0] === BINARY_MARK ? bytes.subarray(5) : lineText(bytes));
  }

  close(): void {
    this.#ws.close(1000);
  }

  #message(data: unknown) {
    let f: RawFrame;
    try {
      f = typeof data === "string"
        ? parseFrame(data)
        : parseBinaryFrame(new Uint8Array(data as ArrayBuffer));
    } catch {
      return; // not a frame: ignored, never trusted
    }
    if (f.type === "welcome") {
      try {
        this.welcome = Welcome.decode(f);
        this.#welcomed.resolve(this.welcome);
      } catch (e) {
        this.#welcomed.reject(e as Error);
      }
      return;
    }
    if (f.type === "session.ping" && f.id === undefined) {
      this.#ws.send('{"type":"session.ping"}');
      return;
    }
    if (f.type === "session.closing") {
      this.#closing = { code: String(f.code), message: String(f.message) };
      return;
    }
    const p = typeof f.re === "string" ? this.#pending.get(f.re) : undefined;
    if (p && (f.type === "ack" || f.type === "error")) {
      this.#pending.delete(f.re as string);
      if (f.type === "ack") return p.resolve(f);
      try {
        const e = ErrorFrame.decode(f);
        return p.reject(new RequestError(e.code, e.message));
      } catch {
        return p.reject(new RequestError("INTERNAL", "a malformed error frame"));
      }
    }
    this.onPush(f);
  }

  #closed() {
    const gone = new Error("the connection dropped before the answer");
    this.#welcomed.reject(gone);
    for (const p of this.#pending.values()) p.reject(gone);
    this.#pending.clear();
    this.onClose(this.#closing.code, this.#closing.message);
  }
}

/** A line's text without its newline. */
function lineText(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes.subarray(0, bytes.length - 1));
}
