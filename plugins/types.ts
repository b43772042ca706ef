/**
 * The plugin interface: everything a capability may touch. A plugin is a folder under plugins/
 * plus one line in plugins/mod.ts; if a feature needs a core edit, extend this interface once,
 * generally, instead.
 */
import type { CoreErrorCode, ErrorCode, ErrorTable } from "../protocol/errors.ts";
import type { Limits } from "../protocol/limits.ts";
import type { Setting } from "../protocol/settings.ts";
import type { MessageSpec, RawFrame } from "../protocol/spec.ts";
import type { Db, Migration, SqlValue } from "../core/server/storage/db.ts";
import type { Logger } from "../core/log.ts";

export type { Db, Logger, Migration, SqlValue };
/** Runtime helpers a plugin may use (stateless: no state of the core). */
export { Mutex } from "../core/mutex.ts";
export { Synced } from "../core/server/synced.ts";
export { writePrivateFile } from "../core/config_dir.ts";
/** Conversation keys (the message log's `conv`), shared by the plugins that post. */
export { dmConversation, ROOM_CONVERSATION, roomConversation } from "./conversations.ts";

export interface Plugin {
  /** Also the frame-type namespace: plugin `dm` may only register `dm.*` frames. */
  name: string;
  summary: string;
  /** Plugins that must be enabled too; checked at start-up. */
  requires?: string[];
  /** The error codes this plugin's server sends or its client reports, each with what it
   *  means (upper snake case). A code may be declared once across the core and every
   *  plugin: start-up fails on a clash. Thrown without a message, a code reads as its
   *  meaning; thrown undeclared, it reaches the client as INTERNAL (and is logged). */
  errors?: ErrorTable;
  /** Append-only: never edit or reorder a shipped migration, add a new one. */
  migrations?: Migration[];
  /** Options this plugin adds to `classchat serve` or `connect` (read with api.setting). */
  options?: PluginOption[];
  /** Operator commands this plugin adds to `classchat admin`, run on the server's machine
   *  against its data directory (e.g. staff's `add-staff <name>`). */
  operator?: OperatorCommand[];
  server?(api: ServerApi): void | Promise<void>;
  client?(api: ClientApi): void;
}

/** One `classchat admin <name> [<argument>]` subcommand of a plugin. It runs beside the server
 *  (the store is SQLite in WAL mode), so what it changes reaches a running server the way the
 *  plugin says: its summary should say when. */
export interface OperatorCommand {
  /** The subcommand, e.g. "add-staff"; a clash with another is a start-up error. */
  name: string;
  /** Its one argument, if it takes one, e.g. "name". */
  argument?: string;
  summary: string;
  /** Resolves with the lines to print; throws an Error whose message says what is wrong
   *  (printed as `classchat: error: ...`, exit 1). */
  run(op: OperatorCtx, arg: string | undefined): Promise<string[]>;
}

export interface OperatorCtx {
  /** The store, with this plugin's migrations applied. */
  db: Db;
  /** An account's registered name (its case), or undefined if there is none. */
  account(name: string): Promise<string | undefined>;
}

/** An option owned by a plugin, e.g. groups' `--class-room <room>`: declared with the same
 *  shape as the core's limits (protocol/settings.ts: count, seconds, size, duration, text,
 *  texts), shown in --help, checked at the CLI, and read typed with api.setting(def). Its flag
 *  must not clash with another option (commander refuses it when the CLI starts). */
export type PluginOption = Setting;

// Server side ----------------------------------------------------------------------------------

/** What a plugin sees of a connection. `name` is set once the session has logged in. */
export interface Session {
  readonly id: number;
  readonly name: string | undefined;
  readonly remote: string;
  /** "json" for protocol clients, "text" for nc/telnet users. */
  readonly mode: "json" | "text";
}

export interface SessionView {
  /** The logged-in session with this name on this node, case-insensitively. */
  get(name: string): Session | undefined;
  /** Names of the sessions logged in on this node, sorted case-insensitively. */
  names(): string[];
  readonly count: number;
  /** Names of everyone logged in, on this node or another of its cluster, sorted. */
  everyone(): string[];
  /** Logged in here or on another node of the cluster. */
  online(name: string): boolean;
  /** The other node of the cluster `name` is logged in on; undefined if here or away. */
  remoteNode(name: string): string | undefined;
}

/** The cluster bus as a plugin sees it (ServerApi.bus): its topics are in its namespace
 *  (`groups.changed` for groups' `changed`); a node never hears its own. On a single node it
 *  tells nobody. What must survive a crash goes to the store first: the bus is for live news,
 *  at most once. */
export interface PluginBus {
  /** This node's id. */
  readonly node: string;
  /** Whether other nodes may be listening. */
  readonly clustered: boolean;
  /** To every other node, or to `node` only (SessionView.remoteNode says where someone is). */
  publish(topic: string, msg: unknown, node?: string): void;
  /** Hears `topic` published to every node and to this one alone. A message is JSON from
   *  another node (maybe of another version): check its shape before use. */
  subscribe(topic: string, fn: (msg: unknown, from: string) => void): void;
  /** Called in a cluster every 30 s and when the bus is back after losing NATS: read again
   *  what is kept from the bus's news, in case a message was lost. Never on one node. */
  onResync(fn: () => void): void;
}

/** Fields merged into the ack of a request; `void` acks with no extra fields. What a given
 *  request's handler returns is its spec's ack type (see Answer and ServerApi.on). */
export type HandlerResult = Record<string, unknown> | void;

/** What a handler of a request whose ack is A returns: A, or a promise of it. NoInfer: A comes
 *  from the spec alone, so a handler returning other fields is refused, not taken as the type. */
export type Answer<A> = NoInfer<A> | Promise<NoInfer<A>>;

export interface HandlerCtx {
  session: Session;
  /** Posts a conversation message (a direct or room message) from this session's user to
   *  `to`. With a journal (the offline plugin) it is appended to the log first and resolves
   *  once on disk, with its `seq`; then the journal delivers it. Without one it is pushed to
   *  whoever of `to` is online, synchronously (no promise on the hot path). */
  post<T>(m: Post<T>): PostResult | Promise<PostResult>;
  /** Sends a frame to this session only. */
  reply<T>(spec: MessageSpec<T>, body: T): void;
  /** Ends the handler with an error frame carrying `code` (the core's or one this plugin
   *  declares in Plugin.errors); without a message, the code's declared meaning is sent. */
  fail(code: ErrorCode, message?: string): never;
  /** Charges this frame to the connection's frame budget, throwing RATE_LIMITED when it is
   *  empty. Windowed frames (MessageSpec.windowed) skip the budget at the edge; a handler calls
   *  this for one that did not move its stream (no such transfer, a repeated ack), so a
   *  client cannot flood with them. */
  meter(): void;
}

/** One conversation message: `conv` names the conversation (`dm:<a>:<b>` with the two names
 *  lower-cased and sorted, or `room:<name>`), `to` the accounts it is for (the sender's own
 *  name is never among them), `spec`/`body` the frame they are pushed. */
export interface Post<T> {
  conv: string;
  to: string[];
  spec: MessageSpec<T>;
  body: T;
}

/** Who got a post at once (`sent`), who gets it when they next connect (`stored`), and who
 *  did not get it at all (`offline`: no journal, not online). `seq` is its log id, if logged. */
export interface PostResult {
  seq?: number;
  sent: string[];
  stored: string[];
  offline: string[];
}

/** The durable message log (the offline plugin provides it; at most one per server). */
export interface Journal {
  /** Appends one message for `to` from `sender`; resolves once it is on disk with its seq,
   *  after pushing it (with `seq`) to the recipients who are online. */
  append(
    m: { conv: string; sender: string; to: string[]; frame: RawFrame },
  ): Promise<PostResult>;
  /** session.ack {upTo} from this session: it has shown every logged message up to upTo. */
  ack(s: Session, upTo: number): void;
}

/** Thrown by a client command whose input does not fit it: the host prints the command's own
 *  usage text (`! USAGE: /pins <room>`), after `detail` when there is one, so each usage is
 *  written once, on the command. */
export class UsageError extends Error {
  constructor(readonly detail?: string) {
    super(detail ?? "usage");
  }
}

/** What marks a frame replayed from the message log (protocol/core.ts loggedFields):
 *  "missed" was sent while the account was away, "history" was asked for again; `ts` is when
 *  it was sent. */
export interface Replayed {
  replay: "missed" | "history";
  ts?: number;
}

export type LogoutReason = "quit" | "disconnected" | CoreErrorCode;

/** A plain-text (nc/telnet) command: a line matching `match` becomes a frame of this plugin. */
export interface TextCommand {
  usage: string;
  summary: string;
  match: RegExp;
  toFrame(m: RegExpMatchArray): Record<string, unknown> & { type: string };
  /** Readable reply for the ack of that frame; omitted means "ok". */
  ack?(result: RawFrame): string;
}

export interface HandlerOptions {
  /** Allowed before login (core frames only, in practice). */
  preAuth?: boolean;
  /** The handler does everything that depends on frame order before its first await (e.g.
   *  ctx.post, which appends to the log at once and resolves at the commit), so the
   *  connection may read and start its next frames while it waits. Answers still go out in
   *  request order, and any frame not marked pipelined waits for those before it. */
  pipelined?: boolean;
}

export interface ServerApi {
  /** Handles requests of `spec`; the handler returns the spec's ack fields (nothing for an
   *  ack without fields), checked at compile time against the spec's ack decoder. */
  on<T, A extends HandlerResult>(
    spec: MessageSpec<T, A>,
    handler: (msg: T, ctx: HandlerCtx) => Answer<A>,
    opts?: HandlerOptions,
  ): void;
  onStartup(fn: () => void | Promise<void>): void;
  /** Runs when the server stops, after every connection closed and before the store does. */
  onShutdown(fn: () => void | Promise<void>): void;
  onLogin(fn: (s: Session) => void): void;
  /** Runs before a session of `account` logs in (or resumes), awaited: for a plugin to read
   *  again what it keeps of an account that the operator may have changed on the server's
   *  machine (staff's `classchat admin add-staff`), so that every login hook and handler after
   *  it sees the account as it is now. A throw fails that login with INTERNAL. */
  onLoginLoad(fn: (account: string) => Promise<void>): void;
  onLogout(fn: (s: Session, reason: LogoutReason) => void): void;
  /** Makes this plugin the server's message log: every HandlerCtx.post goes through it. */
  journal(j: Journal): void;
  /** Typed per-plugin, per-session state, created on first use. */
  sessionState<S>(init: () => S): (s: Session) => S;
  /** Sends a frame to one session; the bytes are queued, never awaited. Bytes in the body
   *  (a file chunk's `data`) are queued as they are, not copied: do not change them after. */
  send<T>(to: Session, spec: MessageSpec<T>, body: T): void;
  /** Sends an already-built frame of any plugin to these sessions, encoded once: for a
   *  plugin that stores and forwards others' frames (the journal). `json`, if given, is the
   *  frame as JSON already (JSON.stringify(frame), which the caller vouches for), so a frame
   *  stored as JSON is not stringified again on the hot path. */
  relay(to: Session[], frame: RawFrame, json?: string): void;
  /** Resolves when this session's outgoing queue is at most half full (or it closed): lets a
   *  plugin that sends a long stream (a backlog, a file) go no faster than the reader. */
  writable(s: Session): Promise<void>;
  /** Sends one frame to every logged-in session (except one), encoded once; in a cluster,
   *  to those on the other nodes too. */
  broadcast<T>(spec: MessageSpec<T>, body: T, except?: Session): void;
  /** Sends a frame to the account `name` wherever it is logged in: this node, or the other
   *  node of the cluster it is on (over the bus, at most once). False if not online as this
   *  node last heard (a node that just died may still be named, for up to 10 s: its
   *  sessions' frames are then lost, as on a connection that drops). No bytes in `body`. */
  sendTo<T>(name: string, spec: MessageSpec<T>, body: T): boolean;
  text: {
    command(def: TextCommand): void;
    /** How a frame of this plugin reads in plain-text mode. */
    render<T>(spec: MessageSpec<T>, fn: (msg: T) => string): void;
    /** How a frame replayed from the message log is marked before its rendering (e.g.
     *  `(while you were away) [time] `): for the plugin that provides the journal; at most
     *  one per server. */
    replayed(fn: (m: Replayed) => string): void;
    /** Adds a mark shown after names in plain text (text.name), e.g. staff's `(staff)`: `fn`
     *  returns it for a name, or undefined. */
    badge(fn: (name: string) => string | undefined): void;
    /** A name as plain text shows it: with every plugin's marks (text.badge). */
    name(name: string): string;
  };
  sessions: SessionView;
  accounts: {
    /** The account's registered name (its case), or undefined if the name never existed. */
    canonical(name: string): string | undefined;
    /** Every account's registered name. */
    names(): string[];
    /** A server admin (`classchat serve --admin <name>`, e.g. the instructor)? */
    isAdmin(name: string): boolean;
  };
  /** The value of one of this plugin's serve options (a declaration in its `options`), typed;
   *  its default when it was not given. */
  setting<T>(def: Setting<T>): T;
  /** Offers an object to other plugins under `name`, which must start with this plugin's name
   *  and a dot (e.g. groups' "groups.audience"); start-up fails if it is offered twice. */
  provide<T>(name: string, service: T): void;
  /** Another plugin's service, or undefined when that plugin is disabled. Look it up when it
   *  is used, not at install time: plugins install in list order. */
  service<T>(name: string): T | undefined;
  /** Declares who an account is related to by this plugin (people it shares a room or a
   *  conversation with): `fn` returns their account names, any case, synchronously (it is
   *  asked at every login and logout). Plugins that tell people about each other (presence)
   *  ask `related` instead of knowing which plugins relate people, and how. */
  relations(fn: (account: string) => Iterable<string>): void;
  /** Every account some plugin relates to `account`, lower-cased, `account` itself left out. */
  related(account: string): Set<string>;
  /** The other nodes of this server's cluster (`serve --bus`). */
  bus: PluginBus;
  /** The server's data directory (the store is in it); undefined with an in-memory store. */
  dataDir: string | undefined;
  db: Db;
  limits: Readonly<Limits>;
  log: Logger;
}

// Client side ----------------------------------------------------------------------------------

/** Output for people: one line per event. Colour is applied only on a colour terminal. */
export interface Ui {
  /** A chat line, e.g. `Bob: hello`. */
  line(text: string): void;
  /** A status notice, printed as `* text`. */
  notice(text: string): void;
  /** An error, printed as `! CODE: message`. */
  error(code: string, message: string): void;
  /** A live status line, e.g. a file's progress, redrawn in place under the output in a
   *  terminal; `undefined` removes it. Ignored elsewhere (pipes keep one line per event). */
  progress(id: string, text: string | undefined): void;
  /** Styling helpers; identity functions without colour. */
  style: { name(s: string): string; dim(s: string): string; bold(s: string): string };
  /** A time (ms since the epoch) as the client shows times: local `YYYY-MM-DD HH:MM`. */
  time(ms: number): string;
}

export interface ClientCtx {
  ui: Ui;
  /** The server as the person named it (`host:port`): keys what the client stores locally. */
  readonly server: string;
  /** Own user name once logged in. */
  readonly me: string;
  /** Sends a request and resolves with its ack's fields, decoded by the spec (see
   *  MessageSpec.decodeAck); rejects with ChatError on an error frame, and with BAD_FRAME on a
   *  malformed ack. A request of a `resend` spec (a chat message) made while disconnected, or
   *  cut off by a drop, is sent (again) after the reconnect and resolves once, with its one
   *  answer. */
  request<T, A>(spec: MessageSpec<T, A>, body: T): Promise<A>;
  /** Sends a frame that gets no answer (no request id), e.g. a file chunk; dropped when not
   *  connected. */
  notify<T>(spec: MessageSpec<T>, body: T): void;
  /** Resolves once every frame received so far has been shown (e.g. a reply's pushes). */
  settled(): Promise<void>;
  quit(): Promise<void>;
}

export interface SlashInput {
  /** Words after the command, with "double quoted" words kept whole. */
  args: string[];
  /** The raw text after the first `n` words, spacing kept (for message text). */
  tail(n: number): string;
}

export interface CommandDef {
  name: string;
  aliases?: string[];
  /** e.g. "/msg <user> <text>" */
  usage: string;
  summary: string;
  run(input: SlashInput, ctx: ClientCtx): void | Promise<void>;
}

export interface ClientApi {
  command(def: CommandDef): void;
  /** A non-slash input line shape, e.g. `Bob: hello`; the first plugin whose regex matches runs. */
  line(
    def: {
      usage: string;
      /** What the shape does, in words, for /help. */
      summary: string;
      match: RegExp;
      run(m: RegExpMatchArray, ctx: ClientCtx): unknown;
    },
  ): void;
  /** Shows (or handles) a pushed frame of this plugin. Frames are handled one at a time in
   *  arrival order: a handler that returns a promise (e.g. writing a file chunk) holds the
   *  ones after it until it settles. */
  on<T>(spec: MessageSpec<T>, show: (msg: T, ui: Ui, ctx: ClientCtx) => void | Promise<void>): void;
  /** Rewrites a frame of `spec` on its way out (before the request is sent) or in (before it
   *  is shown), e.g. end-to-end encryption. A rewrite that throws stops the frame: out, the
   *  request fails with that error; in, the error is shown instead. */
  intercept<T>(
    spec: MessageSpec<T>,
    dir: "out" | "in",
    fn: (msg: T, ctx: ClientCtx) => T | Promise<T>,
  ): void;
  /** The value of one of this plugin's `connect` options (see ServerApi.setting). */
  setting<T>(def: Setting<T>): T;
  /** Offers an object to other plugins' client halves (see ServerApi.provide). */
  provide<T>(name: string, service: T): void;
  /** Another plugin's client service, or undefined when that plugin is disabled. */
  service<T>(name: string): T | undefined;
  /** Runs after each login (and re-login after a reconnect), before input is read. */
  onLogin(fn: (ctx: ClientCtx) => void | Promise<void>): void;
  /** How a frame replayed from the message log is marked before it is shown (e.g. a dim
   *  `(while you were away) [time] `): for the plugin that keeps the log; at most one. */
  replayed(fn: (m: Replayed, ui: Ui) => string): void;
  /** Adds a mark shown after names wherever the client shows one (Ui.style.name), e.g.
   *  staff's `(staff)`: `fn` returns it for a name, or undefined. */
  badge(fn: (name: string) => string | undefined): void;
  /** The client's configuration directory, where it keeps what it must remember between runs
   *  (e.g. end-to-end keys); write private files in it with writePrivateFile. Ask when it is
   *  needed: it may be chosen after install. */
  configDir(): string;
  /** The user's home directory, if there is one (for `~` in paths the person types). */
  homeDir(): string | undefined;
}
