/**
 * Shared CLI plumbing: option parsers that turn bad values into usage errors (exit 2), kept
 * apart from runtime failures (exit 1), as in cliffy's ValidationError vs. other errors.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { PLUGINS } from "../plugins/mod.ts";
import type { Plugin } from "../plugins/types.ts";

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

/** Adds every plugin's options for this command (see Plugin.options), checked as they parse. */
export function addPluginOptions(cmd: Command, command: Command_) {
  for (const p of PLUGINS) {
    for (const def of p.options ?? []) {
      if ((def.command ?? "serve") !== command) continue;
      const opt = new Option(def.flags, `${def.description} [plugin ${p.name}]`);
      if (def.default !== undefined) opt.default(def.default);
      opt.argParser((v: string, prev: string[] | string | undefined) => {
        const problem = def.check?.(v);
        if (problem) throw new InvalidArgumentError(problem);
        return def.repeatable ? [...(Array.isArray(prev) ? prev : []), v] : v;
      });
      cmd.addOption(opt);
    }
  }
}

/** Plugin option values by long name; an option of a disabled plugin is a usage error. */
export function pluginOptionValues(
  o: Record<string, unknown>,
  enabled: Plugin[],
  command: Command_,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const p of PLUGINS) {
    for (const def of p.options ?? []) {
      if ((def.command ?? "serve") !== command) continue;
      const opt = new Option(def.flags);
      const v = o[opt.attributeName()];
      const values = v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)];
      if (values.length === 0) continue;
      const given = def.default === undefined || values[0] !== def.default;
      if (!enabled.includes(p)) {
        if (given) throw new UsageError(`${opt.long} needs plugin ${p.name}`);
        continue;
      }
      out[opt.long!.slice(2)] = values;
    }
  }
  return out;
}
