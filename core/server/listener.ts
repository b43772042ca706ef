/**
 * The server's listening socket, plain TCP or TLS, handing each accepted connection to the
 * server as a Conn.
 *
 * Plain TCP is Deno.listen. TLS is not Deno.listenTls: a socket accepted by it is owned by its
 * handshake task until the handshake ends, so close() cannot free one whose peer never sends a
 * byte (measured: the peer saw no EOF after 70 s, even when closed before the handshake began),
 * and a flood of such sockets held every slot and file descriptor. It is a node:net server
 * whose sockets, once admitted, node's tls.Server (rustls underneath) takes through (see
 * listenTls and tls/server_conn.ts): a refused one is closed at once, and one that has not
 * finished its handshake in time is closed at its deadline (ChatServer).
 */
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import { type Conn, unmapped } from "./conn.ts";
import { TlsServerConn } from "./tls_conn.ts";

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
  /** TLS: how long a handshake may take (the server's own deadline closes it too). */
  handshakeTimeoutMs: number;
  onConn(a: Accepted): void;
  /** An accept that failed and will be retried (e.g. no file descriptors left). */
  onError(e: unknown): void;
}

/** Wait after a failed accept (e.g. no file descriptors left) before accepting again. */
const ACCEPT_RETRY_MS = 100;
/** How long the TLS listener's own probe may take to be accepted before the listener is taken
 *  for stopped (see AcceptWatchdog): a loopback connection to a live one takes a millisecond. */
const PROBE_WAIT_MS = 3000;

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
  // The TLS is node's tls.Server, fed the sockets the server admits: in Deno a TLS socket whose
  // peer leaves before the handshake ends is freed only by tls.Server's handshake timeout
  // (measured: one made by hand and dropped so was never freed), and one made for a socket
  // that is then refused holds memory until that timeout too. So the listening socket is a
  // plain node:net server, a socket gets TLS only once admitted (TlsServerConn starts it at
  // its first read or write), and a refused one is closed without ever having any.
  // allowHalfOpen: the server half-closes and lingers itself (ChatServer.closeSession).
  const tlsServer = createTlsServer({
    ...pem,
    handshakeTimeout: opts.handshakeTimeoutMs,
    allowHalfOpen: true,
  });
  /** Connections accepted and not yet past their handshake, by TCP socket. */
  const pending = new Map<Socket, TlsServerConn>();
  /** The connection a TLS socket belongs to: node keeps the TCP socket under it as _parent
   *  (a failed one has no address left to look it up by). */
  const connOf = (tls: TLSSocket) => {
    const raw = (tls as unknown as { _parent?: Socket })._parent;
    const conn = raw && pending.get(raw);
    if (raw) pending.delete(raw);
    return conn;
  };
  tlsServer.on("secureConnection", (tls: TLSSocket) => {
    const conn = connOf(tls);
    if (conn) conn.secured(tls);
    else setTimeout(() => tls.destroy(), 0);
  });
  tlsServer.on("tlsClientError", (e: Error, tls: TLSSocket) => connOf(tls)?.failed(e));

  const serve = (raw: Socket) => {
    raw.setNoDelay(true);
    const conn = new TlsServerConn(raw, () => tlsServer.emit("connection", raw));
    pending.set(raw, conn);
    raw.once("close", () => pending.delete(raw));
    opts.onConn({ conn, handshake: conn.handshake });
  };
  const server = createNetServer({ allowHalfOpen: true }, (raw: Socket) => {
    if (!raw.remoteAddress) return void raw.destroy(); // reset before it was accepted
    // Its errors show as its end or close, or the handshake's failure; unheard, one would throw.
    raw.on("error", () => {});
    watchdog.sort(raw, serve);
  });
  const watchdog = new AcceptWatchdog(server, opts);
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
  const addr = { transport: "tcp", hostname: unmapped(a.address), port: a.port } as Deno.NetAddr;
  watchdog.start(addr);
  return {
    addr,
    close() {
      watchdog.stop();
      server.close();
    },
  };
}

/**
 * node's listener in Deno (2.9) stops accepting for good once an accept fails for want of file
 * descriptors, silently: it still says it is listening, and the backlog never drains (measured,
 * with the open-file limit at 200 and 400 sockets at once). Deno.listen's accept loop above
 * retries instead. So every handshake deadline (--handshake-timeout, 10 s) the TLS listener
 * connects to itself; a probe not accepted within PROBE_WAIT_MS means it has stopped, and it
 * listens again on the same port (connections already open are not touched).
 */
class AcceptWatchdog {
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** While a probe is under way: its host, and its local port once it has connected (the
   *  listener may accept it before this side learns the port). */
  #probe: { host: string; port: Promise<number> } | undefined;
  #seen = false;
  #stopped = false;

  constructor(private readonly server: Server, private readonly opts: ListenOptions) {}

  start(addr: Deno.NetAddr) {
    const host = addr.hostname === "0.0.0.0"
      ? "127.0.0.1"
      : addr.hostname === "::"
      ? "::1"
      : addr.hostname;
    const round = async () => {
      let probe: Deno.TcpConn | undefined;
      const port = Promise.withResolvers<number>();
      try {
        this.#seen = false;
        this.#probe = { host, port: port.promise };
        probe = await Deno.connect({ hostname: host, port: addr.port });
        port.resolve((probe.localAddr as Deno.NetAddr).port);
        const until = Date.now() + PROBE_WAIT_MS;
        while (!this.#seen && Date.now() < until && !this.#stopped) {
          await new Promise((r) => setTimeout(r, 50));
        }
        if (!this.#seen && !this.#stopped) await this.#relisten(addr);
      } catch {
        // No descriptor for the probe itself: the process is still out of them; next round.
      } finally {
        port.resolve(0);
        probe?.close();
        this.#probe = undefined;
      }
      if (!this.#stopped) this.#timer = setTimeout(round, this.opts.handshakeTimeoutMs);
    };
    this.#timer = setTimeout(round, this.opts.handshakeTimeoutMs);
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Hands an accepted socket to `serve` unless it is our own probe, which is dropped. A
   *  socket from the probe's host while a probe is under way waits the moment it takes the
   *  probe to learn its port; every other is handed on at once. */
  sort(raw: Socket, serve: (raw: Socket) => void): void {
    const probe = this.#probe;
    if (!probe || unmapped(raw.remoteAddress ?? "") !== unmapped(probe.host)) return serve(raw);
    probe.port.then((port) => {
      if (port !== raw.remotePort) return raw.destroyed ? undefined : serve(raw);
      this.#seen = true;
      raw.destroy();
    });
  }

  async #relisten(addr: Deno.NetAddr) {
    this.opts.onError(new Error("the TLS listener stopped accepting (out of file descriptors?)"));
    // Closing stops only the listening socket (its callback would wait for every connection).
    this.server.close();
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen({ host: this.opts.hostname, port: addr.port }, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }
}
