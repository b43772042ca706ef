/**
 * One TLS connection accepted by the server, seen as the Conn the server uses. It exists from
 * the moment the TCP socket is accepted (so the connection limits count it then); its first
 * read or write waits for the peer's first bytes, and hands the socket to node's tls.Server if
 * they begin a TLS handshake; it gets its TLS socket when the handshake has finished
 * (core/server/listener.ts): until then reads and writes wait. Owning the TCP socket is the point:
 * close() frees it, even mid-handshake.
 *
 * A peer whose first bytes are not a TLS handshake is a person with nc or telnet (or a client
 * run with --no-tls): rather than a TLS alert (whose last byte nc shows as a stray "2"), it is
 * told in one readable line how to connect (not_tls.ts), then the connection is closed.
 *
 * Reading keeps real backpressure: decrypted bytes queue here until the server's read loop
 * takes them, and past READ_HIGH_WATER the TCP socket under the TLS one is paused, so the
 * kernel's buffer, and then the peer, wait. Pausing the TLS socket itself is not enough in
 * Deno: it goes on taking in and decrypting (measured: a paused one took in 100 MiB).
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Conn } from "./conn.ts";
import { NOT_TLS_REASON, tellNotTls, TLS_HANDSHAKE } from "./not_tls.ts";

/** Decrypted bytes that may wait for the reader before the TCP socket is paused. */
const READ_HIGH_WATER = 64 * 1024;

export class TlsServerConn implements Conn {
  readonly remoteAddr: Deno.NetAddr;
  /** Settles when the handshake has finished, or failed (with the reason). */
  readonly handshake: Promise<void>;
  readonly #secured = Promise.withResolvers<void>();
  #tls: TLSSocket | undefined;
  #chunks: Uint8Array[] = [];
  #queued = 0;
  #paused = false;
  #ended = false;
  #closed = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;
  /** The first read or write happened: waiting for the peer's first bytes. */
  #started = false;
  /** They were a TLS handshake: the socket went to tls.Server. */
  #tlsStarted = false;
  /** They were not: the peer is being told so (not_tls.ts). */
  #notTls = false;

  /** `startTls` hands the socket to node's tls.Server; it is called once the peer's first
   *  bytes, awaited from the first read or write, begin a handshake, so a connection refused
   *  and closed at once never gets a TLS socket (one made and dropped unfinished holds memory
   *  until the handshake timeout; see listener.ts). */
  constructor(private readonly raw: Socket, private readonly startTls: () => void) {
    this.remoteAddr = {
      transport: "tcp",
      hostname: raw.remoteAddress ?? "",
      port: raw.remotePort ?? 0,
    };
    // (listener.ts has given raw an error listener: its errors reach us as its end or close.)
    // A peer that leaves (or half-closes) before the handshake ends can never finish it.
    const gone = () => {
      if (!this.#notTls) this.failed(new Error("closed before the TLS handshake finished"));
    };
    raw.once("end", gone);
    raw.once("close", gone);
    this.handshake = this.#secured.promise;
    this.handshake.catch(() => {}); // the server reads the reason; never unhandled
  }

  /** The handshake finished: from now on bytes flow through `tls`. */
  secured(tls: TLSSocket): void {
    if (this.#closed) return void setTimeout(() => tls.destroy(), 0);
    this.#tls = tls;
    tls.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#queued += chunk.length;
      if (this.#queued >= READ_HIGH_WATER && !this.#paused) {
        this.#paused = true;
        this.raw.pause();
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
    this.#secured.resolve();
    this.#wakeReader();
  }

  /** The handshake failed (or the socket closed first); once secured, this changes nothing. */
  failed(e: Error): void {
    if (this.#tls) return;
    this.#secured.reject(e);
    this.#error ??= e;
    this.#wakeReader();
  }

  async read(p: Uint8Array): Promise<number | null> {
    this.#start();
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

  /** Resolves once the bytes are handed to the kernel (node's write callback); written before
   *  the handshake has finished (the welcome), they wait for it. */
  write(p: Uint8Array): Promise<number> {
    const tls = this.#tls;
    // Once secured (every write but the welcome), straight to the socket.
    if (tls && !this.#closed && !tls.destroyed) return send(tls, p);
    return this.#ready().then((tls) => send(tls, p));
  }

  async closeWrite(): Promise<void> {
    const tls = await this.#ready();
    return new Promise((resolve) => tls.end(() => resolve()));
  }

  /** Closes the connection: at once if it never started TLS, else a macrotask later: in Deno a
   *  TLS socket destroyed in the tick that made it is never freed (measured: heap and RSS grew
   *  with every such socket). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ended = true;
    this.failed(new Error("closed before the TLS handshake finished"));
    this.#wakeReader();
    if (!this.#tlsStarted) return void this.raw.destroy(); // never TLS: nothing to leak
    const tls = this.#tls;
    setTimeout(() => {
      tls?.destroy();
      this.raw.destroy();
    }, 0);
  }

  /** Waits for the peer's first bytes: a TLS handshake goes to tls.Server with them put back
   *  (it takes bytes already read from the socket first), anything else is told to use TLS. */
  #start() {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.raw.once("data", (first: Uint8Array) => {
      this.raw.pause(); // no further 'data' until tls.Server (or tellNotTls) reads
      if (this.#closed) return;
      if (first[0] !== TLS_HANDSHAKE) {
        this.#notTls = true;
        return tellNotTls(this.raw, first, () => this.failed(new Error(NOT_TLS_REASON)));
      }
      this.raw.unshift(first);
      this.#tlsStarted = true;
      this.startTls();
    });
  }

  async #ready(): Promise<TLSSocket> {
    this.#start();
    if (!this.#tls) await this.handshake;
    if (this.#closed || !this.#tls || this.#tls.destroyed) {
      throw new Deno.errors.BrokenPipe("socket closed");
    }
    return this.#tls;
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

function send(tls: TLSSocket, p: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) =>
    tls.write(p, (e) => (e ? reject(translated(e)) : resolve(p.length)))
  );
}

/** node's errors for a peer that went away, as the Deno errors the server expects of a Conn. */
function translated(e: Error): Error {
  const code = (e as { code?: string }).code;
  if (code === "ECONNRESET") return new Deno.errors.ConnectionReset(e.message);
  if (code === "EPIPE") return new Deno.errors.BrokenPipe(e.message);
  return e;
}
