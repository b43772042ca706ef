/**
 * One TLS connection accepted by the server: node:tls's TLSSocket (rustls underneath) on a
 * node:net socket, seen as the Conn the server uses. Owning the TCP socket is the point (see
 * core/listener.ts): close() frees it at once, even mid-handshake.
 *
 * Reading keeps real backpressure: decrypted bytes queue here until the server's read loop
 * takes them, and past READ_HIGH_WATER the TCP socket under the TLS one is paused, so the
 * kernel's buffer, and then the peer, wait. Pausing the TLS socket itself is not enough in
 * Deno: it goes on taking in and decrypting (measured: a paused one took in 100 MiB).
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Conn } from "../conn.ts";

/** Decrypted bytes that may wait for the reader before the TCP socket is paused. */
const READ_HIGH_WATER = 64 * 1024;

export class TlsServerConn implements Conn {
  readonly remoteAddr: Deno.NetAddr;
  /** Settles when the handshake has finished, or failed (with the reason). */
  readonly handshake: Promise<void>;
  #chunks: Uint8Array[] = [];
  #queued = 0;
  #paused = false;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(private readonly tls: TLSSocket, private readonly raw: Socket) {
    this.remoteAddr = {
      transport: "tcp",
      hostname: raw.remoteAddress ?? "",
      port: raw.remotePort ?? 0,
    };
    tls.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#queued += chunk.length;
      if (this.#queued >= READ_HIGH_WATER && !this.#paused) {
        this.#paused = true;
        raw.pause();
      }
      this.#wakeReader();
    });
    const ended = () => {
      this.#ended = true;
      this.#wakeReader();
    };
    tls.on("end", ended);
    tls.on("close", ended);
    tls.on("error", (e: Error) => {
      this.#error ??= translated(e);
      this.#wakeReader();
    });
    this.handshake = new Promise<void>((resolve, reject) => {
      tls.once("secure", resolve);
      tls.once("error", reject);
      tls.once("close", () => reject(new Error("closed before the TLS handshake finished")));
    });
    this.handshake.catch(() => {}); // the server reads the reason; never unhandled
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    let n = 0;
    while (this.#chunks.length > 0 && n < p.length) {
      const c = this.#chunks[0];
      const k = Math.min(c.length, p.length - n);
      p.set(k === c.length ? c : c.subarray(0, k), n);
      n += k;
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    this.#queued -= n;
    if (this.#paused && this.#queued < READ_HIGH_WATER) this.#resume();
    return n;
  }

  /** Resolves once the bytes are handed to the kernel (node's write callback). */
  write(p: Uint8Array): Promise<number> {
    if (this.tls.destroyed) return Promise.reject(new Deno.errors.BrokenPipe("socket closed"));
    return new Promise((resolve, reject) =>
      this.tls.write(p, (e) => (e ? reject(translated(e)) : resolve(p.length)))
    );
  }

  closeWrite(): Promise<void> {
    if (this.tls.destroyed) return Promise.reject(new Deno.errors.BrokenPipe("socket closed"));
    return new Promise((resolve) => this.tls.end(() => resolve()));
  }

  close(): void {
    this.tls.destroy();
    this.raw.destroy();
    this.#ended = true;
    this.#wakeReader();
  }

  /** Reading again after a pause. The TLS layer has taken over the TCP socket's handle, and
   *  in Deno (2.9) resume() on the socket does not restart it, so the handle is told directly
   *  too. If a later Deno drops that method, resume() is all there is; the backpressure tests
   *  (tests/core/tls_server_conn_test.ts) say whether reading still comes back. */
  #resume() {
    this.#paused = false;
    this.raw.resume();
    const handle = (this.raw as unknown as { _handle?: { readStart?(): number } | null })._handle;
    handle?.readStart?.();
  }

  #wakeReader() {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/** node's errors for a peer that went away, as the Deno errors the server expects of a Conn. */
function translated(e: Error): Error {
  const code = (e as { code?: string }).code;
  if (code === "ECONNRESET") return new Deno.errors.ConnectionReset(e.message);
  if (code === "EPIPE") return new Deno.errors.BrokenPipe(e.message);
  return e;
}
