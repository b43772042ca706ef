/**
 * A browser's WebSocket as a Conn, so that a web session is a session like any other: the
 * same read loop, splitter, router, limits and outbox. A text message is one line (JSON); a binary message is a binary frame's header line, `\n` and body (protocol/
 * framing.ts). Incoming messages become the byte stream the splitter expects; outgoing bytes,
 * always whole frames (the outbox writes whole batches), are cut back into messages.
 *
 * A WebSocket cannot be paused as a TCP socket can (the read loop not reading does not slow
 * the sender), so what waits to be read is bounded here: a message over the frame limit, or
 * more than MAX_QUEUED_BYTES waiting, closes the connection (1009, 1008). Deno reads each
 * message whole before this sees it (up to its own 64 MiB cap, not settable), which is the one
 * cost a WebSocket peer can impose that a TCP peer cannot.
 */
import { binaryFrame, LineSplitter } from "../../protocol/framing.ts";
import type { Conn } from "./conn.ts";

/** A write waits while the browser is this far behind (WebSocket.bufferedAmount), so the
 *  outbox's own bound (sendQueueBytes) keeps meaning what it says for a slow reader. */
const MAX_BUFFERED_BYTES = 256 * 1024;
/** How often a waiting write looks at bufferedAmount again (WebSocket has no drain event). */
const DRAIN_POLL_MS = 10;
/** Received and not yet read, at most: a file's credit window (8 chunks of 32 KiB) and a
 *  burst of chat many times over; a peer past it is flooding, not chatting. */
export const MAX_QUEUED_BYTES = 4 * 1024 * 1024;
/** WebSocket close codes: a message too big, and a peer that broke the rules. */
const TOO_BIG = 1009;
const POLICY = 1008;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class WebSocketConn implements Conn {
  /** Bytes of messages received and not yet read, oldest first; `null` marks the end. */
  #incoming: Array<Uint8Array | null> = [];
  #queued = 0;
  #wake: (() => void) | undefined;
  #ended = false;
  /** Cuts outgoing bytes into frames; the cap is the server's, checked on the way in. */
  #out = new LineSplitter(Number.MAX_SAFE_INTEGER, () => true);

  /** `maxMessageBytes`: the largest message taken (the server's frame limit, framed). */
  constructor(
    readonly socket: WebSocket,
    readonly remoteAddr: Deno.NetAddr,
    readonly maxMessageBytes: number,
  ) {
    socket.binaryType = "arraybuffer";
    socket.onmessage = (e) => this.#message(e.data);
    socket.onclose = () => this.#end();
    socket.onerror = () => this.#end();
  }

  /** Resolves once the socket is open (the upgrade's handshake is done): true, or false if it
   *  closed first. */
  opened(): Promise<boolean> {
    if (this.socket.readyState === WebSocket.OPEN) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.socket.addEventListener("open", () => resolve(true), { once: true });
      this.socket.addEventListener("close", () => resolve(false), { once: true });
    });
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#incoming.length === 0) {
      if (this.#ended) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    const head = this.#incoming[0];
    if (head === null) return null;
    const n = Math.min(p.length, head.length);
    p.set(head.subarray(0, n));
    if (n === head.length) this.#incoming.shift();
    else this.#incoming[0] = head.subarray(n);
    this.#queued -= n;
    return n;
  }

  async write(p: Uint8Array): Promise<number> {
    if (this.socket.readyState !== WebSocket.OPEN) throw new Deno.errors.BrokenPipe("closed");
    for (const ev of this.#out.push(p)) {
      if (ev.kind === "line") this.socket.send(decoder.decode(ev.bytes));
      else if (ev.kind === "binary") this.socket.send(ev.bytes);
    }
    while (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      if (this.socket.readyState !== WebSocket.OPEN) throw new Deno.errors.BrokenPipe("closed");
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
    return p.length;
  }

  /** No half-close in WebSocket: the closing handshake is the nearest (what was sent before
   *  it is delivered first). Reading goes on until the peer's close arrives. */
  closeWrite(): Promise<void> {
    this.#close(1000);
    return Promise.resolve();
  }

  close(): void {
    this.#close(1000);
    this.#end();
  }

  #close(code: number, reason?: string): void {
    try {
      if (this.socket.readyState <= WebSocket.OPEN) this.socket.close(code, reason);
    } catch { /* closing already */ }
  }

  #message(data: unknown): void {
    if (this.#ended) return;
    // Checked before it is copied: a string's UTF-8 is at least as long as the string (one
    // under the cap whose UTF-8 is over it is the splitter's FRAME_TOO_LARGE, as on TCP).
    const size = typeof data === "string" ? data.length : (data as ArrayBuffer).byteLength;
    if (size > this.maxMessageBytes) {
      this.#close(TOO_BIG, "message over the frame limit");
      return this.#end();
    }
    const bytes = messageBytes(data);
    if (this.#queued + bytes.length > MAX_QUEUED_BYTES) {
      this.#close(POLICY, "too much sent without waiting for answers");
      return this.#end();
    }
    this.#queued += bytes.length;
    this.#incoming.push(bytes);
    this.#wake?.();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#incoming.push(null);
    this.#wake?.();
  }
}

/** A message as stream bytes: a text message is one line, a binary one a binary frame. Line
 *  breaks in a text message become spaces (whitespace between JSON tokens either way; inside
 *  a string they were never valid JSON), and a leading 0x01 is kept as text after a space: a
 *  text message can neither split into frames nor start a binary one. */
function messageBytes(data: unknown): Uint8Array {
  if (typeof data === "string") {
    const line = data.replace(/[\r\n]/g, " ");
    return encoder.encode((line.startsWith("\x01") ? " " : "") + line + "\n");
  }
  return binaryFrame(new Uint8Array(data as ArrayBuffer));
}
