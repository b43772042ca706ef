/**
 * Shared CLI plumbing: option parsers that turn bad values into usage errors (exit 2), kept
 * apart from runtime failures (exit 1), as in cliffy's ValidationError vs. other errors.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { PLUGINS } from "../plugins/mod.ts";
import type { Plugin } from "../plugins/types.ts";
import { OptionError, optionName, type Setting } from "../protocol/settings.ts";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Port a server listens on and clients connect to unless told otherwise. */
export const DEFAULT_PORT = 5757;
export const DEFAULT_HOST = "127.0.0.1";

/** A usage mistake found after parsing (flags that do not go together): exit 2, not 1. */
export class UsageError extends Error {}

export function intOption(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

export const portOption = intOption(0, 65535);

export function describeError(e: unknown): string {
  if (e instanceof Deno.errors.ConnectionRefused) {
    return "connection refused: is the server running?";
  }
  if (e instanceof Deno.errors.AddrInUse) return "address in use: is another server on this port?";
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Repeatable options collect every value, in order. */
export const collect = (v: string, prev: string[]) => [...prev, v];

type Command_ = "serve" | "connect";

/** The commander option of a declaration (a core limit or a plugin's option): its --help line
 *  shows the default as written, and each value is read as it is parsed, so a bad one is a
 *  usage error (exit 2) naming the flag before anything starts. The value is the typed one
 *  (`--login-window 60` gives 60000); `raw` keeps the texts instead, for plugin options, which
 *  the server reads through the same declaration (api.setting). */
export function settingOption(s: Setting, opts: { note?: string; raw?: boolean } = {}): Option {
  const opt = new Option(s.flag, s.help + (opts.note ?? ""));
  // Raw texts start from none: the help shows the default, the server applies it.
  if (s.shown !== undefined) opt.default(opts.raw ? [] : s.fallback, s.shown);
  return opt.argParser((v: string, prev: unknown) => {
    let value: unknown;
    try {
      value = s.read([v]);
    } catch (e) {
      if (e instanceof OptionError) throw new InvalidArgumentError(e.message);
      throw e;
    }
    if (!opts.raw) return value;
    return s.repeatable ? [...(Array.isArray(prev) ? prev : []), v] : [v];
  });
}

/** Adds every plugin's options for this command (see Plugin.options), checked as they parse. */
export function addPluginOptions(cmd: Command, command: Command_) {
  for (const p of PLUGINS) {
    for (const s of p.options ?? []) {
      if (s.command !== command) continue;
      cmd.addOption(settingOption(s, { note: ` [plugin ${p.name}]`, raw: true }));
    }
  }
}

/** Plugin option values as given, by long name without dashes (see optionName); the server
 *  and client read them through the declarations. An option of a disabled plugin given on the
 *  command line is a usage error. */
export function pluginOptionValues(
  cmd: Command,
  enabled: Plugin[],
  command: Command_,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const o = cmd.opts();
  for (const p of PLUGINS) {
    for (const s of p.options ?? []) {
      if (s.command !== command) continue;
      const key = new Option(s.flag).attributeName();
      if (cmd.getOptionValueSource(key) !== "cli") continue;
      if (!enabled.includes(p)) {
        throw new UsageError(`${s.flag.split(" ")[0]} needs plugin ${p.name}`);
      }
      out[optionName(s)] = o[key] as string[];
    }
  }
  return out;
}

/** `--store <url>`: a PostgreSQL store instead of SQLite in --data (serve and admin take it,
 *  and CLASSCHAT_STORE when it is not given). */
export const STORE_OPTION = [
  "--store <url>",
  "PostgreSQL store (postgres://user@host/db?schema=s) instead of SQLite in --data " +
  "(default: $CLASSCHAT_STORE)",
] as const;

/** Where the store is, from --data and --store (or CLASSCHAT_STORE). */
export function storeLocation(o: { data: string; store?: string }) {
  const store = o.store ?? env("CLASSCHAT_STORE");
  if (store !== undefined && !/^postgres(ql)?:\/\//.test(store)) {
    throw new UsageError(`--store: "${store}" is not a postgres:// URL`);
  }
  return { dataDir: o.data, store };
}

/** The cluster bus, from --bus or CLASSCHAT_BUS: a nats:// URL, with a store to share. */
export function busUrl(o: { bus?: string }, store: string | undefined): string | undefined {
  const bus = o.bus ?? env("CLASSCHAT_BUS");
  if (bus === undefined) return undefined;
  if (!/^nats:\/\//.test(bus)) throw new UsageError(`--bus: "${bus}" is not a nats:// URL`);
  if (!store) {
    throw new UsageError("--bus needs --store: the nodes of a cluster share one PostgreSQL store");
  }
  return bus;
}

/** An environment variable, if this process may read it: never a permission prompt. */
function env(variable: string): string | undefined {
  if (Deno.permissions.querySync({ name: "env", variable }).state !== "granted") return undefined;
  return Deno.env.get(variable) || undefined;
}
