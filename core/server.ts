/**
 * The listener and connection lifecycle: one async task per connection on Deno's event loop.
 * Each task reads with a bounded splitter and awaits each frame's handler before reading the
 * next, which keeps a connection's frames in order and gives read backpressure. Everything
 * feature-specific lives in plugins; the core only knows sessions, names and frames.
 */
import { encodeFrame, encodeLine, LineSplitter } from "../protocol/framing.ts";
import { ERROR_CODES, type ErrorCode } from "../protocol/errors.ts";
import { DEFAULT_LIMITS, type Limits, PROTOCOL_VERSION } from "../protocol/limits.ts";
import type { LogoutReason, Plugin } from "../plugins/types.ts";
import type { Db } from "./storage/db.ts";
import { openSqlite } from "./storage/sqlite.ts";
import { createLogger, type Logger, type LogLevel } from "./log.ts";
import { Registry } from "./registry.ts";
import { ServerSession, SessionTable } from "./session.ts";
import { installPlugins } from "./plugin_host.ts";
import { handleLine } from "./router.ts";
import { renderText } from "./text_mode.ts";
import { VERSION } from "./version.ts";
import { Accounts } from "./accounts/accounts.ts";
import { DEFAULT_SCRYPT, type ScryptParams } from "./accounts/password.ts";

export interface ServerOptions {
  plugins: Plugin[];
  hostname?: string;
  /** 0 picks a free port (tests). */
  port?: number;
  /** Directory for the store; omitted means an in-memory store (tests, demos). */
  dataDir?: string;
  limits?: Partial<Limits>;
  /** Shown to clients in the welcome frame. */
  serverName?: string;
  logLevel?: LogLevel;
  /** Password hashing cost; lower it only for tests and load generation. */
  scrypt?: ScryptParams;
  /** PEM certificate chain and private key: with them the server speaks only TLS. */
  tls?: { cert: string; key: string };
  /** Server admins (e.g. the instructor): account names, case-insensitive. */
  admins?: string[];
  /** Plugins' own serve options, by long name without dashes (see Plugin.options). */
  pluginOptions?: Record<string, string[]>;
}

/** Bytes read from a socket at a time: one buffer per connection, reused, so it is most of an
 *  idle connection's cost; 8 KiB holds a burst of chat lines, and longer frames span reads. */
const READ_BUFFER_BYTES = 8 * 1024;
/** How long shutdown waits for each connection's queued frames to be written. */
const SHUTDOWN_FLUSH_MS = 2000;

export class ChatServer {
  readonly registry = new Registry();
  readonly sessions = new SessionTable();
  readonly limits: Readonly<Limits>;
  readonly log: Logger;
  readonly name: string;
  readonly accounts: Accounts;
  readonly admins: ReadonlySet<string>;
  readonly pluginOptions: Readonly<Record<string, string[]>>;
  /** Where the store lives; undefined with an in-memory store. */
  readonly dataDir: string | undefined;
  pluginNames: string[] = [];
  /** True when the listener speaks TLS. */
  tls = false;
  #nextId = 1;
  /** Connections refused for a limit, for a log line every hundred. */
  #refusedLogged = 0;
  #listener: Deno.Listener | undefined;
  #tasks = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;
  #stopping = false;
  /** Open connections per client address (maxConnectionsPerAddress). */
  readonly #perAddress = new Map<string, number>();
  /** The welcome frame, the same for every connection: encoded once. */
  #welcome: Uint8Array | undefined;

  private constructor(opts: ServerOptions, readonly db: Db) {
    this.limits = Object.freeze({ ...DEFAULT_LIMITS, ...opts.limits });
    this.log = createLogger(opts.logLevel ?? "info");
    this.name = opts.serverName ?? "ClassChat";
    this.accounts = new Accounts(db, opts.scrypt ?? DEFAULT_SCRYPT, this.limits);
    this.admins = new Set((opts.admins ?? []).map((n) => n.toLowerCase()));
    this.pluginOptions = opts.pluginOptions ?? {};
    this.dataDir = opts.dataDir;
  }

  static async start(opts: ServerOptions): Promise<ChatServer> {
    let db: Db;
    if (opts.dataDir) {
      await Deno.mkdir(opts.dataDir, { recursive: true });
      db = openSqlite(`${opts.dataDir}/classchat.db`);
    } else {
      db = openSqlite(":memory:");
    }
    const server = new ChatServer(opts, db);
    try {
      await installPlugins(server, opts.plugins);
      const where = { hostname: opts.hostname ?? "127.0.0.1", port: opts.port ?? 0 };
      server.#listener = opts.tls ? Deno.listenTls({ ...where, ...opts.tls }) : Deno.listen(where);
      server.tls = opts.tls !== undefined;
    } catch (e) {
      for (const fn of server.registry.shutdown) await Promise.resolve().then(fn).catch(() => {});
      await db.close();
      throw e;
    }
    server.#acceptLoop(server.#listener);
    return server;
  }

  get addr(): Deno.NetAddr {
    return this.#listener!.addr as Deno.NetAddr;
  }

  /** Queues one frame for one session, rendered for its mode; never awaits the socket.
   *  False if it was not queued: the session is closing or was just cut off as too slow. */
  send(s: ServerSession, frame: Record<string, unknown>, json?: Uint8Array): boolean {
    if (s.closed) return false;
    if (s.mode === "text") return s.outbox.push(encodeLine(renderText(this, frame)));
    return s.outbox.push(json ?? encodeFrame(frame));
  }

  /** Sends an error frame; `re` names the request it answers, if it had an id. */
  error(
    s: ServerSession,
    code: ErrorCode,
    message: string,
    re?: string,
    extra?: Record<string, unknown>,
  ): void {
    const frame = re === undefined
      ? { type: "error", code, message, ...extra }
      : { type: "error", re, code, message, ...extra };
    this.send(s, frame);
  }

  /** Runs plugin hooks one by one; a hook that throws is logged and does not stop the rest. */
  runHooks<A extends unknown[]>(hooks: Array<(...args: A) => void>, ...args: A): void {
    for (const fn of hooks) {
      try {
        fn(...args);
      } catch (e) {
        this.log.error(`hook failed: ${e instanceof Error ? e.stack : e}`);
      }
    }
  }

  /** Sends one frame to every logged-in session, encoding the JSON once for all of them. */
  broadcast(frame: Record<string, unknown>, except?: ServerSession): void {
    // While stopping, everyone is being told already; n departures x n receivers is waste.
    if (this.#stopping) return;
    const json = encodeFrame(frame);
    for (const s of this.sessions.loggedIn()) if (s !== except) this.send(s, frame, json);
  }

  /** Ends a session: frees its name, tells plugins, optionally says why, then closes. */
  async closeSession(s: ServerSession, reason: LogoutReason, message?: string): Promise<void> {
    if (s.closed) return;
    if (reason !== "quit" && reason !== "disconnected") {
      this.send(s, {
        type: "session.closing",
        code: reason,
        message: message ?? ERROR_CODES[reason],
      });
    }
    s.closed = true;
    clearTimeout(s.loginTimer);
    if (this.sessions.release(s)) this.runHooks(this.registry.logout, s, reason);
    if (this.sessions.all.delete(s)) {
      const left = (this.#perAddress.get(s.address) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(s.address, left);
      else this.#perAddress.delete(s.address);
    }
    if (reason !== "SEND_QUEUE_EXCEEDED") await withTimeout(s.outbox.drain(), SHUTDOWN_FLUSH_MS);
    try {
      s.conn.close();
    } catch { /* already closed by the peer */ }
  }

  async #acceptLoop(listener: Deno.Listener) {
    try {
      for await (const conn of listener) {
        const task = this.#serveConnection(conn).catch((e) => this.log.error(`connection: ${e}`));
        this.#tasks.add(task);
        task.finally(() => this.#tasks.delete(task));
      }
    } catch (e) {
      if (!this.#stopping) this.log.error(`listener failed: ${e}`);
    }
  }

  async #serveConnection(conn: Deno.Conn) {
    // Chat frames are small and latency matters: without TCP_NODELAY, Nagle's algorithm meets
    // the peer's delayed ACKs and replies wait ~40 ms (measured: p99 43 ms vs 3 ms at 1 pair).
    (conn as Deno.TcpConn).setNoDelay?.(true);
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
    if (this.#stopping) return void this.closeSession(s, "SERVER_SHUTDOWN");
    const fromHere = this.#perAddress.get(remote.hostname) ?? 0;
    const full = this.sessions.all.size >= this.limits.maxConnections
      ? `the server has its maximum of ${this.limits.maxConnections} connections`
      : fromHere >= this.limits.maxConnectionsPerAddress
      ? `${remote.hostname} has its maximum of ${this.limits.maxConnectionsPerAddress} connections`
      : undefined;
    if (full) {
      // Counted per refusal burst, not per connection: a flood must not flood the log too.
      if (this.#refusedLogged++ % 100 === 0) this.log.warn(`refusing connections: ${full}`);
      return void this.closeSession(s, "TOO_MANY_CONNECTIONS", `${full}; try again later`);
    }
    s.address = remote.hostname;
    this.#perAddress.set(s.address, fromHere + 1);
    this.sessions.all.add(s);
    s.loginTimer = setTimeout(() => {
      if (!s.name) this.closeLater(s, "LOGIN_TIMEOUT");
    }, this.limits.loginTimeoutMs);
    s.outbox.push(
      this.#welcome ??= encodeFrame({
        type: "welcome",
        server: this.name,
        version: VERSION,
        protocol: PROTOCOL_VERSION,
        plugins: this.pluginNames,
        limits: {
          maxFrameBytes: this.limits.maxFrameBytes,
          maxTextLength: this.limits.maxTextLength,
          maxNameLength: this.limits.maxNameLength,
        },
      }),
    );
    const splitter = new LineSplitter(this.limits.maxFrameBytes);
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    try {
      while (!s.closed) {
        const n = await conn.read(buf);
        if (n === null) break;
        for (const ev of splitter.push(buf.subarray(0, n))) {
          if (s.closed) break;
          if (ev.kind === "oversize") {
            this.error(s, "FRAME_TOO_LARGE", `a line exceeded ${this.limits.maxFrameBytes} bytes`);
          } else {
            const pending = handleLine(this, s, ev.bytes);
            if (pending) await pending;
          }
        }
      }
    } catch (e) {
      this.#readFailed(s, e);
    }
    await this.closeSession(s, "disconnected");
  }

  /** One log line per failed connection, at a level that matches how unusual it is. */
  #readFailed(s: ServerSession, e: unknown) {
    if (s.closed || e instanceof Deno.errors.ConnectionReset) return;
    // A TLS peer that leaves without close_notify is just a peer that left.
    if (e instanceof Deno.errors.UnexpectedEof) return;
    if (e instanceof Deno.errors.InvalidData) {
      // Failed TLS: a client refusing our self-signed certificate before its person trusts it
      // (expected on first contact), or plain text sent to the TLS port.
      return this.log.info(`session ${s.id} (${s.remote}): TLS failed: ${e.message}`);
    }
    this.log.warn(`session ${s.id} (${s.remote}): read failed: ${e}`);
  }

  /** Closes from a callback that cannot await; a failure is logged, never unhandled. */
  closeLater(s: ServerSession, reason: LogoutReason) {
    this.closeSession(s, reason).catch((e) => this.log.error(`closing session ${s.id}: ${e}`));
  }

  /** Stops accepting, tells every client, flushes what is queued, closes the store. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopping = true;
      this.#listener?.close();
      await Promise.all([...this.sessions.all].map((s) => this.closeSession(s, "SERVER_SHUTDOWN")));
      await Promise.allSettled([...this.#tasks]);
      for (const fn of this.registry.shutdown) {
        await Promise.resolve().then(fn).catch((e) => this.log.error(`shutdown hook: ${e}`));
      }
      await this.db.close();
    })();
    return this.#closing;
  }
}

/** Waits for p, but no longer than ms; the timer is cleared either way. */
async function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
