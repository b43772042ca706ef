/**
 * The chat client's event loop: keyboard lines and socket frames each trigger work as they
 * arrive (no polling). Input lines become slash commands or plugin line shapes; pushed frames
 * are shown by the plugin that owns their type. The terminal or pipe specifics live in the Ui
 * and input source handed in by commands/connect.ts.
 */
import { ErrorFrame, SessionLogin, SessionQuit } from "../protocol/core.ts";
import { ChatError } from "../protocol/errors.ts";
import type { RawFrame } from "../protocol/spec.ts";
import type { ClientCtx, CommandDef, Plugin, Ui } from "../plugins/types.ts";
import { ClientConnection } from "./client.ts";
import { buildClientRegistry, type ClientRegistry } from "./client_registry.ts";
import { parseSlash } from "./slash.ts";

export interface ClientOptions {
  name: string;
  hostname: string;
  port: number;
  plugins: Plugin[];
  ui: Ui;
  /** Asks the person for another name after BAD_NAME or NAME_IN_USE; absent when scripted. */
  askName?: (problem: string) => Promise<string | undefined>;
}

/** How the session ended: "quit" (asked to), "eof" (input ended), or the connection was lost. */
export type EndReason = "quit" | "eof" | "lost";

export class ClientApp {
  readonly registry: ClientRegistry;
  readonly ctx: ClientCtx;
  #conn: ClientConnection | undefined;
  #me = "";
  #inflight = new Set<Promise<unknown>>();
  #ending: EndReason | undefined;
  #ended!: (r: EndReason) => void;
  /** Resolves when the session is over, saying why. */
  readonly ended = new Promise<EndReason>((r) => (this.#ended = r));

  constructor(private readonly opts: ClientOptions) {
    this.registry = buildClientRegistry(opts.plugins, coreCommands(this));
    const me = () => this.#me;
    this.ctx = {
      ui: opts.ui,
      get me() {
        return me();
      },
      request: (spec, body) => this.#connection().request(spec, body),
      quit: () => this.quit(),
    };
  }

  /** Connects, greets, logs in (asking for another name if allowed). False if login failed. */
  async start(): Promise<boolean> {
    const { ui } = this.opts;
    const conn = await ClientConnection.connect(this.opts);
    this.#conn = conn;
    const w = conn.welcome;
    ui.notice(
      `connected to ${w.server} ${w.version} at ${this.opts.hostname}:${this.opts.port}` +
        ` (protocol ${w.protocol}; plugins: ${w.plugins.join(", ") || "none"})`,
    );
    conn.onPush = (f) => this.#show(f);
    let name: string | undefined = this.opts.name;
    while (true) {
      try {
        await conn.request(SessionLogin, { name });
        break;
      } catch (e) {
        if (!(e instanceof ChatError)) throw e;
        ui.error(e.code, e.message);
        const retry = e.code === "NAME_IN_USE" || e.code === "BAD_NAME";
        name = retry && this.opts.askName ? await this.opts.askName(e.message) : undefined;
        if (!name) {
          conn.close();
          return false;
        }
      }
    }
    this.#me = name;
    ui.notice(`logged in as ${ui.style.name(name)}; type /help for commands`);
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

  #show(frame: RawFrame) {
    const { ui } = this.opts;
    try {
      if (frame.type === "error") {
        const e = ErrorFrame.decode(frame);
        return ui.error(e.rawCode, e.message);
      }
      if (frame.type === "session.closing") return; // reported when the connection closes
      this.registry.shows.get(frame.type)?.show(frame, ui); // unknown types: a newer server
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
