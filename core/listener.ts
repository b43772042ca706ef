/**
 * The server's listening socket, plain TCP or TLS, handing each accepted connection to the
 * server as a Conn.
 *
 * Plain TCP is Deno.listen. TLS is not Deno.listenTls: a socket accepted by it is owned by its
 * handshake task until the handshake ends, so close() cannot free one whose peer never sends a
 * byte (measured: the peer saw no EOF after 70 s, even when closed before the handshake began),
 * and a flood of such sockets held every slot and file descriptor. It is node:net, with
 * node:tls on each accepted socket (tls/server_conn.ts), as node's own tls.Server does: the TCP
 * socket is ours from accept, so a refused one is closed at once, and one that has not finished
 * its handshake in time is closed at its deadline (ChatServer).
 */
import { createServer, type Socket } from "node:net";
import { createSecureContext, TLSSocket } from "node:tls";
import { type Conn, unmapped } from "./conn.ts";
import { TlsServerConn } from "./tls/server_conn.ts";

export interface Accepted {
  conn: Conn;
  /** TLS only: settles when the handshake has finished (or failed, with the reason). */
  handshake?: Promise<void>;
}

export interface Listening {
  readonly addr: Deno.NetAddr;
  close(): void;
}

export interface ListenOptions {
  hostname: string;
  port: number;
  tls?: { cert: string; key: string };
  onConn(a: Accepted): void;
  /** An accept that failed and will be retried (e.g. no file descriptors left). */
  onError(e: unknown): void;
}

/** Wait after a failed accept (e.g. no file descriptors left) before accepting again. */
const ACCEPT_RETRY_MS = 100;

export function listen(opts: ListenOptions): Promise<Listening> {
  return opts.tls ? listenTls(opts, opts.tls) : Promise.resolve(listenPlain(opts));
}

function listenPlain(opts: ListenOptions): Listening {
  const listener = Deno.listen({ hostname: opts.hostname, port: opts.port });
  let stopped = false;
  (async () => {
    while (!stopped) {
      let tcp: Deno.TcpConn;
      try {
        tcp = await listener.accept();
      } catch (e) {
        if (stopped || e instanceof Deno.errors.BadResource) return;
        // Out of file descriptors (a flood) or another passing failure: wait and go on
        // accepting, rather than stop serving for good.
        opts.onError(e);
        await new Promise((r) => setTimeout(r, ACCEPT_RETRY_MS));
        continue;
      }
      // Chat frames are small and latency matters: without TCP_NODELAY, Nagle's algorithm
      // meets the peer's delayed ACKs and replies wait ~40 ms (measured: p99 43 ms vs 3 ms).
      tcp.setNoDelay(true);
      opts.onConn({ conn: tcp });
    }
  })();
  return {
    addr: listener.addr as Deno.NetAddr,
    close() {
      stopped = true;
      listener.close();
    },
  };
}

async function listenTls(opts: ListenOptions, pem: { cert: string; key: string }) {
  const secureContext = createSecureContext(pem);
  // allowHalfOpen: the server half-closes and lingers itself (ChatServer.closeSession).
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (raw: Socket) => {
    raw.setNoDelay(true);
    const conn = new TlsServerConn(new TLSSocket(raw, { isServer: true, secureContext }), raw);
    opts.onConn({ conn, handshake: conn.handshake });
  });
  server.on("error", (e) => opts.onError(e));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: opts.hostname, port: opts.port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const a = server.address();
  if (a === null || typeof a === "string") throw new Error("the TLS listener has no address");
  return {
    addr: { transport: "tcp", hostname: unmapped(a.address), port: a.port } as Deno.NetAddr,
    close: () => void server.close(),
  };
}
