/**
 * The chat client's event loop: keyboard lines and socket frames each trigger work as they
 * arrive (no polling). Input lines become slash commands or plugin line shapes; pushed frames
 * are shown by the plugin that owns their type. The terminal or pipe specifics live in the Ui
 * and input source handed in by commands/connect.ts.
 */
import { ErrorFrame, SessionQuit } from "../protocol/core.ts";
import { ChatError } from "../protocol/errors.ts";
import type { MessageSpec, RawFrame } from "../protocol/spec.ts";
import type { ClientCtx, CommandDef, Plugin, Ui } from "../plugins/types.ts";
import { ClientConnection } from "./client.ts";
import { buildClientRegistry, type ClientRegistry } from "./client_registry.ts";
import { type Credentials, logIn, passwdCommand } from "./client_login.ts";
import { parseSlash } from "./slash.ts";

export interface ClientOptions {
  name: string;
  /** Where the server is, as the person named it (`host:port`); shown, and keys local state. */
  server: string;
  /** Opens the transport: TLS with the pinned key, or plain TCP with --no-tls. */
  dial(): Promise<Deno.Conn>;
  plugins: Plugin[];
  ui: Ui;
  creds: Credentials;
}

/** How the session ended: "quit" (asked to), "eof" (input ended), or the connection was lost. */
export type EndReason = "quit" | "eof" | "lost";

export class ClientApp {
  readonly registry: ClientRegistry;
  readonly ctx: ClientCtx;
  #conn: ClientConnection | undefined;
  #me = "";
  #token: string | undefined;
  /** Pushed frames are shown one after another, in arrival order, even when an intercept
   *  (decryption) takes time. */
  #shown: Promise<void> = Promise.resolve();
  /** The last request handed to the connection (see #request). */
  #sending: Promise<void> = Promise.resolve();
  /** ctx for intercepts: its requests bypass the intercepts and the send order. */
  readonly #direct: ClientCtx;
  #inflight = new Set<Promise<unknown>>();
  #ending: EndReason | undefined;
  #ended!: (r: EndReason) => void;
  /** Resolves when the session is over, saying why. */
  readonly ended = new Promise<EndReason>((r) => (this.#ended = r));

  constructor(private readonly opts: ClientOptions) {
    const passwd = passwdCommand(opts.creds, () => this.#connection(), (t) => (this.#token = t));
    this.registry = buildClientRegistry(opts.plugins, [...coreCommands(this), passwd]);
    const me = () => this.#me;
    this.ctx = {
      ui: opts.ui,
      server: opts.server,
      get me() {
        return me();
      },
      request: (spec, body) => this.#request(spec, body),
      quit: () => this.quit(),
    };
    this.#direct = {
      ...this.ctx,
      get me() {
        return me();
      },
      request: (spec, body) => this.#connection().request(spec, body),
    };
  }

  /** Connects, greets, logs in (asking for another name if allowed). False if login failed. */
  async start(): Promise<boolean> {
    const { ui } = this.opts;
    const conn = await ClientConnection.open(await this.opts.dial());
    this.#conn = conn;
    const w = conn.welcome;
    ui.notice(
      `connected to ${w.server} ${w.version} at ${this.opts.server}` +
        ` (protocol ${w.protocol}; plugins: ${w.plugins.join(", ") || "none"})`,
    );
    conn.onPush = (f) => (this.#shown = this.#shown.then(() => this.#show(f)));
    const who = await logIn(conn, ui, this.opts.creds, this.opts.name, this.#token);
    if (!who) {
      conn.close();
      return false;
    }
    this.#me = who.name;
    this.#token = who.token;
    for (const fn of this.registry.onLogin) await fn(this.ctx);
    ui.notice(`logged in as ${ui.style.name(who.name)}; type /help for commands`);
    conn.closed.then((info) => {
      if (this.#ending) return;
      ui.error(info.code ?? "DISCONNECTED", info.message ?? "the server closed the connection");
      this.#end("lost");
    });
    return true;
  }

  /** Handles one line the person typed; runs concurrently with what else is in flight. */
  input(raw: string): void {
    const line = raw.trim();
    if (!line || this.#ending) return;
    const p = this.#run(line).catch((e) => this.#report(e)).finally(() => this.#inflight.delete(p));
    this.#inflight.add(p);
  }

  /** Input has ended (stdin closed): wait for our own requests to be answered, then quit. */
  async endOfInput(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    await this.quit("eof");
  }

  async quit(reason: EndReason = "quit"): Promise<void> {
    if (this.#ending) return;
    this.#ending = reason;
    try {
      await this.#conn?.request(SessionQuit, {});
    } catch { /* the server may already be gone; we are leaving either way */ }
    this.#conn?.close();
    this.#end(reason);
  }

  #end(reason: EndReason) {
    this.#ending ??= reason;
    this.#ended(reason);
  }

  /**
   * A request through the plugins' outgoing intercepts (e.g. encryption). Requests leave in
   * the order they were made even when an intercept takes time: each waits for the one
   * before it to be sent (not answered). Intercepts get a context whose requests go straight
   * out, so one that looks something up does not queue behind itself.
   */
  #request<T>(spec: MessageSpec<T>, body: T): Promise<RawFrame> {
    const fns = this.registry.intercepts.get(spec.type)?.out ?? [];
    const send = async () => {
      for (const fn of fns) body = await fn(body, this.#direct) as T;
      return { ack: this.#connection().request(spec, body) };
    };
    const sent = this.#sending.then(send);
    this.#sending = sent.then(() => {}, () => {});
    return sent.then((s) => s.ack);
  }

  #connection(): ClientConnection {
    if (!this.#conn) throw new Error("not connected");
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
      return await cmd.run(slash.input, this.ctx);
    }
    for (const def of this.registry.lines) {
      const m = line.match(def.match);
      if (m) return void await def.run(m, this.ctx);
    }
    this.opts.ui.error("USAGE", "type <user>: <text> to message someone, or /help for commands");
  }

  async #show(frame: RawFrame) {
    const { ui } = this.opts;
    try {
      if (frame.type === "error") {
        const e = ErrorFrame.decode(frame);
        return ui.error(e.rawCode, e.message);
      }
      if (frame.type === "session.closing") return; // reported when the connection closes
      const show = this.registry.shows.get(frame.type);
      if (!show) return; // unknown types: a newer server
      for (const fn of this.registry.intercepts.get(frame.type)?.in ?? []) {
        frame = { ...frame, ...await fn(show.decode(frame), this.#direct) as object };
      }
      show.show(frame, ui);
    } catch (e) {
      this.#report(e);
    }
  }

  #report(e: unknown) {
    if (e instanceof ChatError) this.opts.ui.error(e.code, e.message);
    else this.opts.ui.error("CLIENT", e instanceof Error ? e.message : String(e));
  }
}

function coreCommands(app: ClientApp): CommandDef[] {
  return [
    {
      name: "help",
      aliases: ["h", "?"],
      usage: "/help [command]",
      summary: "list commands, or explain one",
      run(input, ctx) {
        const { ui } = ctx;
        const want = input.args[0]?.replace(/^\//, "").toLowerCase();
        if (want) {
          const c = app.registry.byName.get(want);
          if (!c) return ui.error("UNKNOWN_COMMAND", `/${want} is not a command`);
          const aliases = c.aliases?.length
            ? ` (also ${c.aliases.map((a) => "/" + a).join(", ")})`
            : "";
          return ui.notice(`${c.usage}  ${c.summary}${aliases}`);
        }
        ui.notice("commands:");
        for (const c of app.registry.commands) ui.notice(`  ${c.usage.padEnd(24)} ${c.summary}`);
        for (const l of app.registry.lines) ui.notice(`  ${l.usage.padEnd(24)} (${l.plugin})`);
      },
    },
    {
      name: "quit",
      aliases: ["exit", "q"],
      usage: "/quit",
      summary: "leave the chat (also server:exit)",
      run: () => app.quit(),
    },
  ];
}
