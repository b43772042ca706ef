/**
 * The hub every server module works through: the shared state of one server (its registry,
 * sessions, limits, store, accounts, guard and transaction log) and the ways out to a client
 * (send, error, broadcast, close). It knows nothing of sockets being accepted or lines being
 * read: that is ChatServer (server.ts), which is a Hub. Modules below it (the router, the
 * plain-text mode, the core frames, the plugin host) take a Hub and never import server.ts,
 * so the server's modules import each other in one direction only.
 */
import {
  binaryFrameHead,
  encodeFrame,
  encodeFrameFor,
  encodeLine,
} from "../../protocol/framing.ts";
import { CORE_ERRORS, ErrorCatalog, type ErrorCode } from "../../protocol/errors.ts";
import { DEFAULT_LIMITS, type Limits, VIOLATION_CODES } from "../../protocol/limits.ts";
import type { LogoutReason } from "../../plugins/types.ts";
import type { Db } from "./storage/db.ts";
import { TxnLog } from "./txn.ts";
import { createLogger, type Logger, type LogLevel } from "../log.ts";
import { Registry } from "./registry.ts";
import { type ServerSession, SessionTable } from "./session.ts";
import { renderText } from "./text_render.ts";
import { Accounts } from "./accounts/accounts.ts";
import { Guard } from "./guard.ts";
import { type Bus, localBus } from "./bus.ts";
import type { Cluster } from "./cluster.ts";
import { DEFAULT_SCRYPT, type ScryptParams } from "./accounts/password.ts";

/** What a Hub is made from (see ServerOptions in server.ts, which adds the rest). */
export interface HubOptions {
  limits?: Partial<Limits>;
  /** Shown to clients in the welcome frame. */
  serverName?: string;
  logLevel?: LogLevel;
  /** Password hashing cost; lower it only for tests and load generation. */
  scrypt?: ScryptParams;
  /** Server admins for this run besides those marked in the store (e.g. the instructor):
   *  account names, case-insensitive. The caller checks they exist (commands/serve.ts does):
   *  a name with no account would make an admin of whoever registers it first. */
  admins?: string[];
  /** Plugins' own serve options as written, by long name without dashes (e.g.
   *  { "max-pins": ["5"] }); each plugin reads them typed, through its declarations
   *  (api.setting), so a bad one fails start-up naming its flag. */
  pluginOptions?: Record<string, string[]>;
  /** Directory for the store (and files, certificates); omitted means an in-memory store
   *  (tests, demos). */
  dataDir?: string;
  /** A PostgreSQL store instead of SQLite in dataDir: `postgres://user@host/db?schema=s`. */
  store?: string;
  /** The cluster bus (`nats://host:4222?prefix=p`): several nodes on one store (needs store). */
  bus?: string;
  /** This node's name in a cluster; default: the host name and port. */
  nodeId?: string;
}

/** How long shutdown waits for each connection's queued frames to be written. */
const SHUTDOWN_FLUSH_MS = 2000;
/** How long a closed session waits for its peer to close too (see closeSession; the read
 *  loop discards what the peer still sends meanwhile, up to LINGER_BYTES). */
const LINGER_MS = 2000;

export class Hub {
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
  /** The enabled plugins' names, in order (set once they are installed). */
  pluginNames: string[] = [];
  /** True when the listener speaks TLS. */
  tls = false;
  /** Connection limits, the frame budget and bad-frame allowance, the idle sweep. */
  readonly guard: Guard;
  /** Every error code this server may send: the core's and its plugins' (Plugin.errors). */
  readonly errors = new ErrorCatalog();
  /** Requests' transaction ids and their recorded answers (core/server/txn.ts). */
  readonly txns: TxnLog;
  /** Set once the server is shutting down: nobody needs to hear of departures then. */
  protected stopping = false;
  /** What this node tells the others (a bus that tells nobody on a single node). */
  bus: Bus = localBus("local");
  /** Who is logged in on the other nodes; undefined on a single node. */
  cluster: Cluster | undefined;

  protected constructor(opts: HubOptions, readonly db: Db) {
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

  /** Queues one frame for one session, rendered for its mode; never awaits the socket.
   *  False if it was not queued: the session is closing or was just cut off as too slow. */
  send(s: ServerSession, frame: Record<string, unknown>, json?: Uint8Array): boolean {
    if (s.closed) return false;
    if (s.mode === "text") return s.outbox.push(encodeLine(renderText(this.registry, frame)));
    if (json) return s.outbox.push(json);
    // File chunks carry bytes: to a client that reads binary frames, the frame's head and then
    // the bytes themselves, not copied (the caller hands them over: it must not change them);
    // base64 in a line to one that reads only lines.
    const data = frame.data;
    if (data instanceof Uint8Array && s.binary) {
      const { data: _, ...header } = frame;
      return s.outbox.push(binaryFrameHead(header, data.length)) && s.outbox.push(data);
    }
    return s.outbox.push(encodeFrameFor(frame, s.binary));
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
    if (this.stopping) return;
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
        message: message ?? CORE_ERRORS[reason],
      });
    }
    s.closed = true;
    this.guard.closing(s);
    if (this.sessions.release(s)) {
      this.runHooks(this.registry.logout, s, reason);
      this.cluster?.release(s.name!).catch((e) => this.log.error(`cluster release: ${e}`));
    }
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

  /** Closes from a callback that cannot await; a failure is logged, never unhandled. */
  closeLater(s: ServerSession, reason: LogoutReason, message?: string) {
    this.closeSession(s, reason, message).catch((e) =>
      this.log.error(`closing session ${s.id}: ${e}`)
    );
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
