/**
 * A browser's WebSocket as a Conn, so that a web session is a session like any other: the
 * same read loop, splitter, router, limits and outbox. One WebSocket message is one frame: a
 * text message is a line (JSON), a binary message is a binary frame's header line, `\n` and
 * body (protocol/framing.ts). Incoming messages become the byte stream the splitter expects;
 * outgoing bytes, always whole frames (the outbox writes whole batches), are cut back into
 * messages.
 */
import { binaryFrame, LineSplitter } from "../../protocol/framing.ts";
import type { Conn } from "./conn.ts";

/** A write waits while the browser is this far behind (WebSocket.bufferedAmount), so the
 *  outbox's own bound (sendQueueBytes) keeps meaning what it says for a slow reader. */
const MAX_BUFFERED_BYTES = 256 * 1024;
/** How often a waiting write looks at bufferedAmount again (WebSocket has no drain event). */
const DRAIN_POLL_MS = 10;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class WebSocketConn implements Conn {
  /** Bytes of messages received and not yet read, oldest first; `null` marks the end. */
  #incoming: Array<Uint8Array | null> = [];
  #wake: (() => void) | undefined;
  #ended = false;
  /** Cuts outgoing bytes into frames; the cap is the server's, checked on the way in. */
  #out = new LineSplitter(Number.MAX_SAFE_INTEGER, () => true);

  constructor(readonly socket: WebSocket, readonly remoteAddr: Deno.NetAddr) {
    socket.binaryType = "arraybuffer";
    socket.onmessage = (e) => this.#push(messageBytes(e.data));
    socket.onclose = () => this.#end();
    socket.onerror = () => this.#end();
  }

  /** Resolves once the socket is open (the upgrade's handshake is done). */
  opened(): Promise<void> {
    if (this.socket.readyState === WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.addEventListener("open", () => resolve(), { once: true });
      this.socket.addEventListener("close", () => resolve(), { once: true });
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
    return n;
  }

  async write(p: Uint8Array): Promise<number> {
    if (this.socket.readyState !== WebSocket.OPEN) throw new Deno.errors.BrokenPipe("closed");
    for (const ev of this.#out.push(p)) {
      if (ev.kind === "line") this.socket.send(decoder.decode(ev.bytes));
      else if (ev.kind === "binary") this.socket.send(ev.bytes);
    }
    while (
      this.socket.bufferedAmount > MAX_BUFFERED_BYTES && this.socket.readyState === WebSocket.OPEN
    ) {
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
    return p.length;
  }

  /** No half-close in WebSocket: the closing handshake is the nearest (what was sent before
   *  it is delivered first). */
  closeWrite(): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  close(): void {
    try {
      if (this.socket.readyState <= WebSocket.OPEN) this.socket.close(1000);
    } catch { /* closing already */ }
    this.#end();
  }

  #push(bytes: Uint8Array): void {
    if (this.#ended) return;
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

/** A message as stream bytes: a text message is a line; a binary one, a binary frame. */
function messageBytes(data: unknown): Uint8Array {
  if (typeof data === "string") {
    // A newline inside would split one message into two lines: the splitter would see them
    // as two frames, which is how a line stream behaves too, and each is still checked.
    return encoder.encode(data + "\n");
  }
  return binaryFrame(new Uint8Array(data as ArrayBuffer));
}
