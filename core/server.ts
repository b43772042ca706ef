/**
 * The listener and connection lifecycle: one async task per connection on Deno's event loop.
 * Each task reads with a bounded splitter and awaits each frame's handler before reading the
 * next, which keeps a connection's frames in order and gives read backpressure. Everything
 * feature-specific lives in plugins; the core only knows sessions, names and frames.
 */
import { encodeFrame, encodeLine } from "../protocol/framing.ts";
import { ERROR_CODES, type ErrorCode } from "../protocol/errors.ts";
import {
  DEFAULT_LIMITS,
  type Limits,
  PROTOCOL_VERSION,
  VIOLATION_CODES,
} from "../protocol/limits.ts";
import type { LogoutReason, Plugin } from "../plugins/types.ts";
import type { Db } from "./storage/db.ts";
import { TxnLog } from "./txn.ts";
import { openSqlite } from "./storage/sqlite.ts";
import { createLogger, type Logger, type LogLevel } from "./log.ts";
import { Registry } from "./registry.ts";
import { ServerSession, SessionTable } from "./session.ts";
import { installPlugins } from "./plugin_host.ts";
import { readLoop } from "./read_loop.ts";
import { type Accepted, listen, type Listening } from "./listener.ts";
import { renderText } from "./text_mode.ts";
import { VERSION } from "./version.ts";
import { Accounts } from "./accounts/accounts.ts";
import { Guard } from "./guard.ts";
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
  /** Server admins for this run besides those marked in the store (e.g. the instructor):
   *  account names, case-insensitive. The caller checks they exist (commands/serve.ts does):
   *  a name with no account would make an admin of whoever registers it first. */
  admins?: string[];
  /** Plugins' own serve options, by long name without dashes (see Plugin.options). */
  pluginOptions?: Record<string, string[]>;
}

/** How long shutdown waits for each connection's queued frames to be written. */
const SHUTDOWN_FLUSH_MS = 2000;
/** How long a closed session waits for its peer to close too (see closeSession; the read
 *  loop discards what the peer still sends meanwhile, up to LINGER_BYTES). */
const LINGER_MS = 2000;

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
  /** Connection limits, the frame budget and bad-frame allowance, the idle sweep. */
  readonly guard: Guard;
  /** Requests' transaction ids and their recorded answers (core/txn.ts). */
  readonly txns: TxnLog;
  #nextId = 1;
  #listener: Listening | undefined;
  #tasks = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;
  #stopping = false;
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
    this.guard = new Guard(this);
    this.txns = new TxnLog(db, this.log, (name) => this.sessions.get(name) !== undefined);
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
    } catch (e) {
      for (const fn of server.registry.shutdown) await Promise.resolve().then(fn).catch(() => {});
      await db.close();
      throw e;
    }
    server.guard.start();
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
    if (VIOLATION_CODES.has(code)) this.guard.violation(s, code, message);
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
    this.sessions.all.delete(s);
    if (reason === "SEND_QUEUE_EXCEEDED" || reason === "disconnected") return s.closeSocket();
    const flushed = await withTimeout(s.outbox.drain(), SHUTDOWN_FLUSH_MS);
    // A connection without a read loop (refused at accept) has nobody to linger for, and
    // one whose queue did not flush has a stalled reader: close those at once.
    if (!flushed || !s.reading) return s.closeSocket();
    // Half-close, then close when the peer does (the read loop discards what it still sends)
    // or after LINGER_MS: closing with input unread makes the kernel send a reset, which
    // destroys what was just written, the closing frame included. The timer is armed first:
    // a TLS closeWrite can wait on a write or a handshake that never completes.
    s.lingerTimer = setTimeout(() => s.closeSocket(), LINGER_MS);
    s.conn.closeWrite().catch(() => s.closeSocket());
  }

  #accepted(a: Accepted) {
    if (this.#stopping) return a.conn.close();
    const task = this.#serveConnection(a).catch((e) => this.log.error(`connection: ${e}`));
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  async #serveConnection({ conn, handshake }: Accepted) {
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
    try {
      await this.#serveSession(s, remote);
    } finally {
      await s.socketClosed.promise;
      this.guard.ended(s);
    }
  }

  async #serveSession(s: ServerSession, remote: Deno.NetAddr) {
    if (this.#stopping) return void this.closeSession(s, "SERVER_SHUTDOWN");
    const refused = this.guard.admit(s, remote.hostname);
    if (refused === "closed") return; // refused at once, without a word
    if (refused) return void this.closeSession(s, "TOO_MANY_CONNECTIONS", refused);
    this.sessions.all.add(s);
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
          framesPerSecond: this.limits.framesPerSecond,
          frameBurst: this.limits.frameBurst,
          idleTimeoutMs: this.limits.idleTimeoutMs,
        },
      }),
    );
    await readLoop(this, s);
    await this.closeSession(s, "disconnected");
    s.closeSocket();
  }

  /** Closes from a callback that cannot await; a failure is logged, never unhandled. */
  closeLater(s: ServerSession, reason: LogoutReason, message?: string) {
    this.closeSession(s, reason, message).catch((e) =>
      this.log.error(`closing session ${s.id}: ${e}`)
    );
  }

  /** Stops accepting, tells every client, flushes what is queued, closes the store. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopping = true;
      this.guard.stop();
      this.#listener?.close();
      await Promise.all([...this.sessions.all].map((s) => this.closeSession(s, "SERVER_SHUTDOWN")));
      this.guard.closeAll(); // sockets still in a TLS handshake: nobody to wait for now
      await Promise.allSettled([...this.#tasks]);
      for (const fn of this.registry.shutdown) {
        await Promise.resolve().then(fn).catch((e) => this.log.error(`shutdown hook: ${e}`));
      }
      await this.db.close();
    })();
    return this.#closing;
  }
}

/** Waits for p, but no longer than ms; true if p settled in time. */
async function withTimeout(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const done = await Promise.race([
    p.then(() => true, () => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  return done;
}
