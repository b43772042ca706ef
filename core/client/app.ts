/**
 * The chat client's event loop: keyboard lines and socket frames each trigger work as they
 * arrive (no polling). Input lines become slash commands or plugin line shapes; pushed frames
 * are shown by the plugin that owns their type (core/client/show.ts). A dropped connection is
 * re-established (core/client/reconnect.ts) and the session resumed with its token; the server
 * then sends what was missed from the account's cursor. Messages typed meanwhile, and those
 * whose answer the drop cut off, are sent (again) after the resume, each answered once
 * (core/client/sends.ts). The terminal or pipe specifics live in the Ui and input source
 * handed in by commands/connect.ts.
 */
import { SessionAck, SessionQuit } from "../../protocol/core.ts";
import { type ClientCtx, type Plugin, type Ui, UsageError } from "../../plugins/types.ts";
import { ClientConnection, type CloseInfo } from "./connection.ts";
import { FrameShow } from "./show.ts";
import { coreCommands } from "./commands.ts";
import { TrustError } from "./tls.ts";
import { buildClientRegistry, type ClientRegistry } from "./registry.ts";
import { badgedUi } from "./badges.ts";
import { type Credentials, logIn, passwdCommand } from "./login.ts";
import { parseSlash } from "./slash.ts";
import type { Sends } from "./sends.ts";
import { ClientOutbox } from "./requests.ts";
import { Backoff } from "./reconnect.ts";
import { plural } from "../../protocol/words.ts";

export interface ClientOptions {
  name: string;
  /** Where the server is, as the person named it (`host:port`); shown, and keys local state. */
  server: string;
  /** Opens the transport: TLS with the pinned key, or plain TCP with --no-tls. */
  dial(): Promise<Deno.Conn>;
  plugins: Plugin[];
  ui: Ui;
  creds: Credentials;
  /** Reconnect by itself when the connection drops (the CLI does; tests may not). */
  reconnect?: boolean;
  /** Plugins' own connect options as written, by long name without dashes (e.g.
   *  { "max-pins": ["5"] }); each plugin reads them typed, through its declarations
   *  (api.setting), which throws naming the flag for a bad one. */
  pluginOptions?: Record<string, string[]>;
}

/** How the session ended: "quit" (asked to), "eof" (input ended), or the connection was lost. */
export type EndReason = "quit" | "eof" | "lost";

/** Reasons after which reconnecting would be wrong: another client took over the session. */
const FINAL_CLOSE_CODES = new Set(["SESSION_REPLACED"]);
/** A second /quit within this leaves although messages are not confirmed (see quitAsked). */
const QUIT_CONFIRM_MS = 30_000;
/** Online, /quit first waits this long at most for the messages typed before it to be sent
 *  and answered (a message being encrypted has not left yet): a few round trips. */
const QUIT_DRAIN_MS = 5_000;

export class ClientApp {
  readonly registry: ClientRegistry;
  readonly ctx: ClientCtx;
  #conn: ClientConnection | undefined;
  #me = "";
  #token: string | undefined;
  readonly #frames: FrameShow;
  /** ctx for intercepts: its requests bypass the intercepts and the send order. */
  readonly #direct: ClientCtx;
  /** ctx for the login hooks: its requests go before those waiting for the login. */
  readonly #hookCtx: ClientCtx;
  #inflight = new Set<Promise<unknown>>();
  readonly #out: ClientOutbox;
  /** Messages kept until answered, across reconnects (the outbox's). */
  readonly #sends: Sends;
  #quitWarned = -Infinity;
  /** Set when the session is over (see #end). */
  #over = false;
  readonly #backoff = new Backoff();
  #ending: EndReason | undefined;
  #ended!: (r: EndReason) => void;
  /** Resolves when the session is over, saying why. */
  readonly ended = new Promise<EndReason>((r) => (this.#ended = r));

  private readonly opts: ClientOptions;

  constructor(options: ClientOptions) {
    const passwd = passwdCommand(options.creds, () => this.#connection(), (t) => (this.#token = t));
    this.registry = buildClientRegistry(
      options.plugins,
      [...coreCommands(this), passwd],
      options.pluginOptions,
    );
    // Names are shown with the marks plugins put on them (staff), wherever they are shown.
    const opts = this.opts = { ...options, ui: badgedUi(options.ui, this.registry.badges) };
    const me = () => this.#me;
    this.ctx = {
      ui: opts.ui,
      server: opts.server,
      get me() {
        return me();
      },
      request: (spec, body) => this.#out.request(spec, body),
      notify: (spec, body) => this.#conn?.notify(spec, body),
      settled: () => this.#frames.settled(),
      quit: () => this.quit(),
    };
    this.#direct = {
      ...this.ctx,
      get me() {
        return me();
      },
      request: (spec, body) => this.#connection().request(spec, body),
    };
    this.#hookCtx = {
      ...this.ctx,
      get me() {
        return me();
      },
      request: (spec, body) => this.#out.request(spec, body, false),
    };
    this.#out = new ClientOutbox({
      registry: this.registry,
      ui: opts.ui,
      direct: () => this.#direct,
      connection: () => this.#connection(),
      nextTry: () => this.#backoff.nextTry(),
      ending: () => this.#ending !== undefined,
    });
    this.#sends = this.#out.sends;
    this.#frames = new FrameShow(
      this.registry,
      opts.ui,
      this.#direct,
      (upTo) => this.#conn?.notify(SessionAck, { upTo }),
    );
  }

  /** Connects, greets, logs in (asking for another name if allowed). False if login failed. */
  start(): Promise<boolean> {
    return this.#connect(false);
  }

  /**
   * Dials, greets, logs in (with the resume token after a reconnect) and runs the plugins'
   * login hooks. Frames pushed meanwhile (the missed-message summary and backlog) are held
   * until then, so they are shown after "logged in" and with the keys the hooks loaded.
   */
  async #connect(again: boolean): Promise<boolean> {
    const { ui } = this.opts;
    const conn = await ClientConnection.open(await this.opts.dial());
    let release!: () => void;
    this.#frames.hold(new Promise<void>((r) => (release = r)));
    conn.onPush = (f) => this.#frames.push(f);
    this.#conn = conn;
    /** Set once #lost watches this connection: before that a drop is this call's to report. */
    let watched = false;
    try {
      const w = conn.welcome;
      if (!again) {
        ui.notice(
          `connected to ${w.server} ${w.version} at ${this.opts.server}` +
            ` (protocol ${w.protocol}; plugins: ${w.plugins.join(", ") || "none"})`,
        );
      }
      const who = await logIn(conn, ui, this.opts.creds, this.#me || this.opts.name, this.#token);
      if (!who) {
        conn.close();
        return false;
      }
      this.#me = who.name;
      this.#token = who.token;
      // From here a drop is a lost connection to reconnect, even during the hooks below.
      conn.closed.then((info) => this.#lost(conn, info));
      watched = true;
      for (const fn of this.registry.onLogin) await fn(this.#hookCtx);
      ui.notice(
        again
          ? `reconnected as ${ui.style.name(who.name)}`
          : `logged in as ${ui.style.name(who.name)}; type /help for commands`,
      );
    } catch (e) {
      // A drop once #lost watches the connection is its to report and retry (a second retry
      // loop here would race it). Anything else, such as a login hook the server refused, is
      // this call's error: #lost must not take our own close below for a drop and reconnect
      // for ever without saying why.
      if (watched && conn.isClosed) return true;
      if (this.#conn === conn) this.#conn = undefined;
      conn.close();
      throw e;
    } finally {
      release();
    }
    // A drop during the login hooks is #lost's to handle.
    if (conn.isClosed) return true;
    // What waited for this session goes first, in order, then what was typed meanwhile.
    this.#backoff.stop(ui);
    this.#sends.connected(conn);
    return true;
  }

  /** The connection dropped: say so, then reconnect until it works or we quit. */
  async #lost(conn: ClientConnection, info: CloseInfo) {
    if (this.#ending || conn !== this.#conn) return;
    this.#sends.disconnected();
    const { ui } = this.opts;
    const code = info.code ?? "DISCONNECTED";
    const waiting = this.#sends.size;
    ui.error(
      code,
      (info.message ?? "the connection to the server dropped") +
        (waiting ? `; ${plural(waiting, "message")} not yet confirmed will be sent again` : ""),
    );
    if (!this.opts.reconnect || FINAL_CLOSE_CODES.has(code)) return this.#end("lost");
    const back = await this.#backoff.retry(
      ui,
      this.ended,
      () => this.#ending ? Promise.resolve(true) : this.#connect(true),
    );
    if (back === true) return;
    // A changed server key is a decision for the person, not something to retry.
    if (back instanceof TrustError) this.#frames.report(back);
    if (back !== undefined) this.#end("lost");
  }

  /** Handles one line the person typed; runs concurrently with what else is in flight. */
  input(raw: string): void {
    const line = raw.trim();
    if (!line || this.#ending) return;
    // Someone wants to send: offline, the next try is now.
    this.#backoff.wake();
    // Once the session is over, what failed because of it was summed up by quit (NOT_SENT).
    const p = this.#run(line).catch((e) => this.#over || this.#report(e))
      .finally(() => this.#inflight.delete(p));
    this.#inflight.add(p);
  }

  /** Input has ended (stdin closed): wait for our own requests to be answered, then quit. */
  async endOfInput(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    await this.quit("eof");
  }

  /** /quit: messages the server has not confirmed (typed offline, say) would be lost, so the
   *  first /quit says so and a second one leaves. */
  quitAsked(): Promise<void> | void {
    // Online, what is in flight is answered before the quit is (answers come in order).
    const n = this.#sends.online ? 0 : this.#sends.unconfirmed;
    if (n > 0 && performance.now() - this.#quitWarned > QUIT_CONFIRM_MS) {
      this.#quitWarned = performance.now();
      return this.opts.ui.error(
        "NOT_SENT",
        `${plural(n, "message")} not confirmed by the server yet (they are sent when the` +
          " connection is back); /quit again to leave without them",
      );
    }
    return this.quit();
  }

  async quit(reason: EndReason = "quit"): Promise<void> {
    if (this.#ending) return;
    this.#ending = reason;
    // What was typed before the quit goes first: handed over in order, then answered.
    if (this.#sends.online) await this.#out.drain(QUIT_DRAIN_MS);
    this.#frames.flushAck();
    try {
      await this.#conn?.request(SessionQuit, {});
    } catch { /* the server may already be gone; we are leaving either way */ }
    const lost = this.#sends.unconfirmed;
    if (lost > 0) {
      this.opts.ui.error("NOT_SENT", `${plural(lost, "message")} never confirmed by the server`);
    }
    this.#conn?.close();
    this.#end(reason);
  }

  #end(reason: EndReason) {
    this.#ending ??= reason;
    this.#over = true;
    this.#sends.end(new Error("not confirmed: the session ended before the server answered"));
    this.#backoff.stop(this.opts.ui);
    this.#ended(reason);
  }

  #connection(): ClientConnection {
    if (!this.#conn || this.#conn.isClosed) {
      throw new Error(`not connected to the server (not sent); ${this.#backoff.nextTry()}`);
    }
    return this.#conn;
  }

  async #run(line: string): Promise<void> {
    // The assignment's `server:who` / `server:exit` are the same as `/who` / `/exit`.
    if (/^server:/i.test(line)) line = "/" + line.slice("server:".length);
    const slash = parseSlash(line);
    if (slash) {
      const cmd = this.registry.byName.get(slash.name);
      if (!cmd) {
        return this.opts.ui.error("UNKNOWN_COMMAND", `/${slash.name} is not a command; try /help`);
      }
      try {
        return await cmd.run(slash.input, this.ctx);
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        // The command's one usage text, after what was wrong when the command said.
        const { ui } = this.opts;
        return ui.error("USAGE", e.detail ? `${e.detail} (${cmd.usage})` : cmd.usage);
      }
    }
    for (const def of this.registry.lines) {
      const m = line.match(def.match);
      if (m) return void await def.run(m, this.ctx);
    }
    this.opts.ui.error("USAGE", "type <user>: <text> to message someone, or /help for commands");
  }

  #report(e: unknown) {
    this.#frames.report(e);
  }
}
