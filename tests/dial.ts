/**
 * Dialling the test server from another loopback address (127.0.0.2, ...), which Deno.connect
 * cannot do: per-address limits are tested with a client that is not 127.0.0.1. node:net binds
 * the local address; node:tls adds TLS trusting the test certificate.
 */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { Conn } from "../core/server/conn.ts";

/** A connection to 127.0.0.1:port from `localAddress`, with TLS when `caCert` is given. */
export async function dialFrom(
  port: number,
  opts: { localAddress: string; caCert?: string },
): Promise<Conn> {
  const raw = netConnect({ host: "127.0.0.1", port, localAddress: opts.localAddress });
  await settled(raw, "connect");
  raw.setNoDelay(true);
  if (!opts.caCert) return new NodeConn(raw, raw);
  const tls = tlsConnect({ socket: raw, host: "127.0.0.1", ca: opts.caCert });
  await settled(tls, "secureConnect");
  return new NodeConn(tls, raw);
}

function settled(s: Socket, event: string): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once(event, () => {
      s.off("error", reject);
      resolve();
    });
    s.once("error", reject);
  });
}

/** A node socket as a Conn, for test clients: 'data' chunks queue until read (a test client
 *  reads everything, so no backpressure is needed); `raw` is the TCP socket under a TLS one. */
class NodeConn implements Conn {
  readonly remoteAddr: Deno.NetAddr;
  #chunks: Uint8Array[] = [];
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(private readonly socket: Socket, private readonly raw: Socket) {
    this.remoteAddr = { transport: "tcp", hostname: "127.0.0.1", port: raw.remotePort ?? 0 };
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#wakeReader();
    });
    const ended = () => {
      this.#ended = true;
      this.#wakeReader();
    };
    socket.on("end", ended);
    socket.on("close", ended);
    socket.on("error", (e: Error) => {
      this.#error ??= e;
      this.#wakeReader();
    });
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    const c = this.#chunks[0];
    const n = Math.min(c.length, p.length);
    p.set(c.subarray(0, n));
    if (n === c.length) this.#chunks.shift();
    else this.#chunks[0] = c.subarray(n);
    return n;
  }

  write(p: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) =>
      this.socket.write(p, (e) => (e ? reject(e) : resolve(p.length)))
    );
  }

  closeWrite(): Promise<void> {
    return new Promise((resolve) => this.socket.end(() => resolve()));
  }

  close(): void {
    this.socket.destroy();
    this.raw.destroy();
    this.#ended = true;
    this.#wakeReader();
  }

  #wakeReader() {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
