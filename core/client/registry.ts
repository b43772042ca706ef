/**
 * The client-side registry: slash commands (by name and alias), free-form line shapes and
 * frame renderers from every plugin. Built once at start-up; duplicates and commands without
 * usage or summary are start-up errors, like a missing help entry in Ergo.
 */
import type { MessageSpec, RawFrame } from "../../protocol/spec.ts";
import type {
  ClientApi,
  ClientCtx,
  CommandDef,
  Plugin,
  Replayed,
  Ui,
} from "../../plugins/types.ts";
import { configDir, homeDir } from "../config_dir.ts";
import { optionName, readSetting } from "../../protocol/settings.ts";
import { ErrorCatalog } from "../../protocol/errors.ts";
import type { Badge } from "./badges.ts";

export interface LineDef {
  plugin: string;
  usage: string;
  summary: string;
  match: RegExp;
  run(m: RegExpMatchArray, ctx: ClientCtx): unknown;
}

export interface ClientRegistry {
  /** Every command once, in registration order (for /help). */
  commands: Array<CommandDef & { plugin: string }>;
  /** Lookup by lower-case name or alias. */
  byName: Map<string, CommandDef & { plugin: string }>;
  lines: LineDef[];
  shows: Map<
    string,
    {
      plugin: string;
      decode(frame: RawFrame): unknown;
      show(frame: RawFrame, ui: Ui, ctx: ClientCtx): void | Promise<void>;
    }
  >;
  /** Rewrites per frame type, in registration order: "out" before a request is sent, "in"
   *  before a pushed frame is shown. */
  intercepts: Map<string, { out: Intercept[]; in: Intercept[] }>;
  onLogin: Array<(ctx: ClientCtx) => void | Promise<void>>;
  /** Services plugins offer each other by name (see ClientApi.provide). */
  services: Map<string, unknown>;
  /** How a replayed frame is marked (ClientApi.replayed), and by whom. */
  replayed: { plugin: string; fn: (m: Replayed, ui: Ui) => string } | undefined;
  /** The codes the client may show: the core's and its plugins' (Plugin.errors). */
  errors: ErrorCatalog;
  /** Marks after names (ClientApi.badge), in registration order. */
  badges: Badge[];
}

type Intercept = (msg: unknown, ctx: ClientCtx) => unknown;

export function buildClientRegistry(
  plugins: Plugin[],
  core: CommandDef[] = [],
  options: Readonly<Record<string, string[]>> = {},
): ClientRegistry {
  const reg: ClientRegistry = {
    commands: [],
    byName: new Map(),
    lines: [],
    shows: new Map(),
    intercepts: new Map(),
    onLogin: [],
    services: new Map(),
    errors: new ErrorCatalog(),
    replayed: undefined,
    badges: [],
  };
  const apiFor = (plugin: string): ClientApi => ({
    command(def) {
      if (!def.usage?.trim() || !def.summary?.trim()) {
        throw new Error(`command /${def.name} of ${plugin} lacks usage or summary`);
      }
      const entry = { ...def, plugin };
      for (const n of [def.name, ...(def.aliases ?? [])].map((n) => n.toLowerCase())) {
        const prior = reg.byName.get(n);
        if (prior) throw new Error(`command /${n} claimed by both ${prior.plugin} and ${plugin}`);
        reg.byName.set(n, entry);
      }
      reg.commands.push(entry);
    },
    line: (def) => void reg.lines.push({ ...def, plugin }),
    on<T>(spec: MessageSpec<T>, show: (msg: T, ui: Ui, ctx: ClientCtx) => void | Promise<void>) {
      if (plugin !== "core" && !spec.type.startsWith(plugin + ".")) {
        throw new Error(`plugin "${plugin}" may not render frame type "${spec.type}"`);
      }
      const prior = reg.shows.get(spec.type);
      if (prior) {
        throw new Error(`frame "${spec.type}" shown by both ${prior.plugin} and ${plugin}`);
      }
      reg.shows.set(spec.type, {
        plugin,
        decode: (f) => spec.decode(f),
        show: (f, ui, ctx) => show(spec.decode(f), ui, ctx),
      });
    },
    intercept(spec, dir, fn) {
      let entry = reg.intercepts.get(spec.type);
      if (!entry) reg.intercepts.set(spec.type, entry = { out: [], in: [] });
      entry[dir].push(fn as Intercept);
    },
    onLogin: (fn) => void reg.onLogin.push(fn),
    replayed(fn) {
      if (reg.replayed) {
        throw new Error(`replays are marked by both ${reg.replayed.plugin} and ${plugin}`);
      }
      reg.replayed = { plugin, fn };
    },
    badge: (fn) => void reg.badges.push(fn),
    setting: (def) => readSetting(def, options[optionName(def)]),
    provide(name, service) {
      if (!name.startsWith(plugin + ".") || reg.services.has(name)) {
        throw new Error(`plugin "${plugin}" may not provide service "${name}" (twice?)`);
      }
      reg.services.set(name, service);
    },
    service: <T>(name: string) => reg.services.get(name) as T | undefined,
    configDir,
    homeDir,
  });
  const coreApi = apiFor("core");
  for (const def of core) coreApi.command(def);
  for (const p of plugins) if (p.errors) reg.errors.add(p.name, p.errors);
  for (const p of plugins) p.client?.(apiFor(p.name));
  return reg;
}
