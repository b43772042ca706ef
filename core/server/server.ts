/**
 * The listener and connection lifecycle: one async task per connection on Deno's event loop.
 * Each task reads with a bounded splitter and awaits each frame's handler before reading the
 * next, which keeps a connection's frames in order and gives read backpressure. Everything
 * feature-specific lives in plugins; the core only knows sessions, names and frames. The
 * state and ways out that every server module shares are the Hub (hub.ts), which this extends.
 */
import { encodeFrame } from "../../protocol/framing.ts";
import { PROTOCOL_VERSION } from "../../protocol/limits.ts";
import type { Plugin } from "../../plugins/types.ts";
import type { Db } from "./storage/db.ts";
import { openSqlite } from "./storage/sqlite.ts";
import { openStore } from "./storage/open.ts";
import { localBus, openNatsBus } from "./bus.ts";
import { Cluster, CLUSTER_MIGRATIONS, CLUSTER_OWNER } from "./cluster.ts";
import { passFrames } from "./cluster_frames.ts";
import { migrate } from "./storage/migrate.ts";
import { ServerSession } from "./session.ts";
import { installPlugins } from "./plugin_host.ts";
import { readLoop } from "./read_loop.ts";
import { type Accepted, listen, type Listening } from "./listener.ts";
import { listenWeb, type WebAsset, type WebListening } from "./web.ts";
import { VERSION } from "../version.ts";
import { Hub, type HubOptions } from "./hub.ts";

export interface ServerOptions extends HubOptions {
  plugins: Plugin[];
  hostname?: string;
  /** 0 picks a free port (tests). */
  port?: number;
  /** PEM certificate chain and private key: with them the server speaks only TLS. */
  tls?: { cert: string; key: string };
  /** The web client: its files, served with a WebSocket endpoint on `port` (0 picks a free
   *  one) over the same TLS (web.ts). Omitted: no web listener. */
  web?: { port: number; assets: ReadonlyMap<string, WebAsset>; names?: string[] };
}

/** How long the health check waits for the store before it says the node cannot work. */
const HEALTH_TIMEOUT_MS = 2000;

export class ChatServer extends Hub {
  #nextId = 1;
  #listener: Listening | undefined;
  #web: WebListening | undefined;
  #tasks = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;
  /** The welcome frame, the same for every connection: encoded once. */
  #welcome: Uint8Array | undefined;

  private constructor(opts: ServerOptions, db: Db) {
    super(opts, db);
  }

  static async start(opts: ServerOptions): Promise<ChatServer> {
    const db: Db = opts.store || opts.dataDir
      ? await openStore({ dataDir: opts.dataDir ?? ".", store: opts.store })
      : openSqlite(":memory:");
    const server = new ChatServer(opts, db);
    try {
      await server.#joinCluster(opts);
      await installPlugins(server, opts.plugins);
      server.tls = opts.tls !== undefined;
      let failures = 0;
      server.#listener = await listen({
        hostname: opts.hostname ?? "127.0.0.1",
        port: opts.port ?? 0,
        tls: opts.tls,
        handshakeTimeoutMs: server.limits.handshakeTimeoutMs,
        onConn: (a) => server.#accepted(a),
        onError: (e) => {
          if (failures++ % 100 === 0) server.log.error(`accept failed (retrying): ${e}`);
        },
      });
      if (opts.web) {
        server.#web = await listenWeb({
          hostname: opts.hostname ?? "127.0.0.1",
          port: opts.web.port,
          tls: opts.tls,
          assets: opts.web.assets,
          names: opts.web.names ?? [],
          // A binary message is a frame without its 5-byte prefix; a text one, without "\n".
          maxMessageBytes: server.limits.maxFrameBytes,
          log: server.log,
          onSocket: (conn) => server.#accepted({ conn }),
          health: () => server.health(),
        });
      }
    } catch (e) {
      server.#listener?.close();
      for (const fn of server.registry.shutdown) await Promise.resolve().then(fn).catch(() => {});
      await server.cluster?.stop().catch(() => {});
      await server.bus.close();
      await db.close();
      throw e;
    }
    server.guard.start();
    return server;
  }

  /** With --bus: the bus, and the cluster's session directory (before the plugins install:
   *  they subscribe to the bus). */
  async #joinCluster(opts: ServerOptions): Promise<void> {
    const node = opts.nodeId ?? `${Deno.hostname()}:${opts.port ?? 0}`;
    if (!opts.bus) {
      this.bus = localBus(node);
      return;
    }
    if (!opts.store) throw new Error("--bus needs --store: the nodes of a cluster share one store");
    this.bus = await openNatsBus(opts.bus, node, (line) => this.log.error(line));
    await migrate(this.db, CLUSTER_OWNER, CLUSTER_MIGRATIONS);
    this.cluster = new Cluster(
      this.db,
      this.bus,
      (account) => {
        const s = this.sessions.get(account);
        if (s) this.closeLater(s, "SESSION_REPLACED");
      },
      () => [...this.sessions.loggedIn()].map((s) => s.name!.toLowerCase()),
      (line) => this.log.error(line),
    );
    await this.cluster.start();
    this.sessions.elsewhere = this.cluster;
    // Accounts made on other nodes: told at once, and read again at each heartbeat.
    this.accounts.onCreated = (name) => this.bus.publish("core.account", { name });
    this.bus.subscribe("core.account", (m) => {
      const name = (m as { name?: unknown } | null)?.name;
      if (typeof name === "string") this.accounts.noteName(name);
    });
    this.cluster.onBeat = (since) => this.accounts.loadSince(since);
    passFrames(this.bus, this);
  }

  /** For an orchestrator (GET /healthz on the web port): whether this node can take work,
   *  i.e. reaches its store (and its bus, in a cluster) and is not shutting down. */
  async health(): Promise<{ ok: boolean; node: string; store: boolean; bus: boolean }> {
    const store = await Promise.race([
      this.db.get("SELECT 1 AS one").then(() => true, () => false),
      new Promise<boolean>((r) => setTimeout(() => r(false), HEALTH_TIMEOUT_MS)),
    ]);
    const bus = this.bus.healthy();
    return { ok: store && bus && !this.stopping, node: this.bus.node, store, bus };
  }

  get addr(): Deno.NetAddr {
    return this.#listener!.addr as Deno.NetAddr;
  }

  /** The web client's address, if it is served. */
  get webAddr(): Deno.NetAddr | undefined {
    return this.#web?.addr;
  }

  #accepted(a: Accepted) {
    if (this.stopping) return a.conn.close();
    const task = this.#serveConnection(a).catch((e) => this.log.error(`connection: ${e}`))
      .finally(() => this.#tasks.delete(task));
    this.#tasks.add(task);
  }

  /** One connection, from accept until its socket is closed. Promise chains rather than
   *  nested async functions: each suspended async function is a generator kept for as long
   *  as the connection lives, and thousands of idle connections pay for every one. */
  #serveConnection({ conn, handshake }: Accepted): Promise<void> {
    const remote = conn.remoteAddr as Deno.NetAddr;
    const s: ServerSession = new ServerSession(
      this.#nextId++,
      `${remote.hostname}:${remote.port}`,
      conn,
      this.limits.sendQueueBytes,
      () => {
        this.log.warn(
          `session ${s.id} (${s.name ?? s.remote}): send queue exceeded, disconnecting`,
        );
        this.closeLater(s, "SEND_QUEUE_EXCEEDED");
      },
      () => this.closeLater(s, "disconnected"),
    );
    this.guard.opened(s);
    if (handshake) this.guard.handshaking(s, handshake);
    let served: Promise<void>;
    try {
      served = this.#serveSession(s, remote);
    } catch (e) {
      served = Promise.reject(e);
    }
    return served.finally(() =>
      s.socketClosed.promise.then(() => {
        this.guard.ended(s);
      })
    );
  }

  #serveSession(s: ServerSession, remote: Deno.NetAddr): Promise<void> {
    if (this.stopping) {
      void this.closeSession(s, "SERVER_SHUTDOWN");
      return Promise.resolve();
    }
    const refused = this.guard.admit(s, remote.hostname);
    if (refused === "closed") return Promise.resolve(); // refused at once, without a word
    if (refused) {
      void this.closeSession(s, "TOO_MANY_CONNECTIONS", refused);
      return Promise.resolve();
    }
    this.sessions.all.add(s);
    s.outbox.push(
      this.#welcome ??= encodeFrame({
        type: "welcome",
        server: this.name,
        version: VERSION,
        protocol: PROTOCOL_VERSION,
        plugins: this.pluginNames,
        binary: true,
        limits: {
          maxFrameBytes: this.limits.maxFrameBytes,
          maxTextLength: this.limits.maxTextLength,
          maxNameLength: this.limits.maxNameLength,
          framesPerSecond: this.limits.framesPerSecond,
          frameBurst: this.limits.frameBurst,
          idleTimeoutMs: this.limits.idleTimeoutMs,
        },
      }),
    );
    return readLoop(this, s)
      .then(() => this.closeSession(s, "disconnected"))
      .then(() => s.closeSocket());
  }

  /** Stops accepting, tells every client, flushes what is queued, closes the store. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.stopping = true;
      this.guard.stop();
      this.#listener?.close();
      await Promise.all([...this.sessions.all].map((s) => this.closeSession(s, "SERVER_SHUTDOWN")));
      await this.#web?.close();
      this.guard.closeAll(); // sockets still in a TLS handshake: nobody to wait for now
      await Promise.allSettled([...this.#tasks]);
      for (const fn of this.registry.shutdown) {
        await Promise.resolve().then(fn).catch((e) => this.log.error(`shutdown hook: ${e}`));
      }
      await this.cluster?.stop().catch((e) => this.log.error(`leaving the cluster: ${e}`));
      await this.bus.close();
      await this.db.close();
    })();
    return this.#closing;
  }
}
