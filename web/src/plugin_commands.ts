/// <reference lib="dom" />
/**
 * The plugins' own slash commands and line shapes in the page, from the same definitions the
 * terminal runs: each plugin's client half registers on a ClientApi, and the page keeps only
 * its commands and line shapes (it shows pushed frames itself: conversations, not lines).
 * Encrypt and sendfile are not among them: their client halves keep keys and files on disk,
 * and the page has its own (e2e.ts, files.ts) for /verify and /sendfile.
 */
import { dmClient } from "../../plugins/dm/client.ts";
import { groupsClient } from "../../plugins/groups/client.ts";
import { staffClient } from "../../plugins/staff/client.ts";
import { handsClient } from "../../plugins/hands/client.ts";
import { offlineClient } from "../../plugins/offline/client.ts";
import { presence } from "../../plugins/presence/mod.ts";
import { pollsClient } from "../../plugins/polls/client.ts";
import { queueClient } from "../../plugins/queue/client.ts";
import { questionsClient } from "../../plugins/questions/client.ts";
import type { ClientApi, ClientCtx, CommandDef, Ui } from "../../plugins/types.ts";
import type { MessageSpec, RawFrame } from "../../protocol/spec.ts";
import { UsageError } from "../../plugins/types.ts";
import { parseSlash } from "../../core/client/slash.ts";
import { type Badge, marksOf } from "../../core/client/badges.ts";
import { RequestError } from "./conn.ts";

type LineDef = Parameters<ClientApi["line"]>[0];

/** The client halves the page runs, by plugin name. */
const CLIENTS: Array<[string, (api: ClientApi) => void]> = [
  ["presence", (api) => presence.client!(api)],
  ["dm", dmClient],
  ["offline", offlineClient],
  ["groups", groupsClient],
  ["staff", staffClient],
  ["hands", handsClient],
  ["polls", pollsClient],
  ["queue", queueClient],
  ["questions", questionsClient],
];

/** The pushed frames the page shows itself (conversations, files, rooms, keys): the plugins'
 *  own renderings of these are not used. Any other plugin frame (a hand raised, a poll) is
 *  shown the plugin's way, as a notice. */
const PAGE_SHOWS = new Set([
  // What came while away is marked in each conversation, with its unread count.
  "offline.summary",
  "dm.message",
  "groups.message",
  "groups.mode",
  "groups.joined",
  "groups.left",
  "encrypt.changed",
]);

type Shown = (msg: unknown, ui: Ui) => void | Promise<void>;

export class PluginCommands {
  readonly byName = new Map<string, CommandDef>();
  readonly commands: CommandDef[] = [];
  readonly lines: LineDef[] = [];
  /** Marks after names (ClientApi.badge): staff. */
  readonly badges: Badge[] = [];
  readonly #shows = new Map<string, { spec: MessageSpec<unknown>; show: Shown }>();

  /** Registers the client halves of the plugins this server runs (its welcome's list). */
  constructor(plugins: string[]) {
    const api: ClientApi = {
      command: (def) => {
        this.commands.push(def);
        for (const n of [def.name, ...(def.aliases ?? [])]) this.byName.set(n, def);
      },
      line: (def) => void this.lines.push(def),
      // Pushed frames, rewrites and login hooks are the page's own (main.ts, e2e.ts).
      on: (spec, show) => {
        if (!PAGE_SHOWS.has(spec.type)) {
          this.#shows.set(spec.type, { spec: spec as MessageSpec<unknown>, show: show as Shown });
        }
      },
      intercept: () => {},
      onLogin: () => {},
      replayed: () => {},
      badge: (fn) => void this.badges.push(fn),
      provide: () => {},
      service: () => undefined,
      setting: () => {
        throw new Error("the page runs no client half that has options");
      },
      configDir: () => {
        throw new Error("a browser has no configuration directory");
      },
      homeDir: () => undefined,
    };
    for (const [name, client] of CLIENTS) if (plugins.includes(name)) client(api);
  }

  /** The marks on a name, e.g. ["staff"]. */
  marks(name: string): string[] {
    return marksOf(this.badges, name);
  }

  /** Runs a slash command; false if no plugin has it. A usage error shows the usage. */
  async slash(line: string, ctx: ClientCtx): Promise<boolean> {
    const slash = parseSlash(line);
    const cmd = slash && this.byName.get(slash.name);
    if (!slash || !cmd) return false;
    try {
      await cmd.run(slash.input, ctx);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      throw new RequestError("USAGE", e.detail ? `${e.detail} (${cmd.usage})` : cmd.usage);
    }
    return true;
  }

  /** Shows a pushed frame the plugin's way; false if no plugin the page runs shows it. */
  async push(f: RawFrame, ui: Ui): Promise<boolean> {
    const entry = this.#shows.get(f.type);
    if (!entry) return false;
    // Sent while away (a poll that closed, a question answered): said so, as the terminal does.
    const away = f.replay === "missed"
      ? { ...ui, notice: (t: string) => ui.notice(`while you were away: ${t}`) }
      : ui;
    await entry.show(entry.spec.decode(f), away);
    return true;
  }

  /** Runs a line shape (`Bob: hi`, `@cs350 hello`); false if none matches. */
  async line(line: string, ctx: ClientCtx): Promise<boolean> {
    for (const def of this.lines) {
      const m = line.match(def.match);
      if (m) return await def.run(m, ctx), true;
    }
    return false;
  }
}
