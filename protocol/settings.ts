/**
 * The one shape of an option, for the core's limits (protocol/limits.ts) and plugins' options
 * (Plugin.options) alike: its flag, one line of help, its default as written, and how a value
 * as written is checked and converted. The CLI (commands/options.ts), the server and client
 * (api.setting), `--help` and the README's table (docs/generate.ts) all follow from it, so no
 * option is written twice.
 */
import { parseDuration, parseSize } from "./units.ts";

/** A value that is not one the option takes; the message says what is expected. The CLI
 *  turns it into a usage error (exit 2) naming the flag. */
export class OptionError extends Error {}

export interface Setting<T = unknown> {
  /** Long flag and value name, e.g. "--login-window <seconds>". */
  readonly flag: string;
  /** One line: what it means (shown in --help and the README). */
  readonly help: string;
  /** The command it belongs to: `classchat serve` (the default) or `classchat connect`. */
  readonly command: "serve" | "connect";
  /** May be given several times (the values are kept in order). */
  readonly repeatable: boolean;
  /** The default as written on the command line (`900`, `"100MiB"`); undefined: none. */
  readonly shown: string | undefined;
  /** The unit the default is written in, for the README ("seconds", "bytes"; "" if the value
   *  says it, as 100MiB does). */
  readonly unit: string;
  /** The value when the option is not given. */
  readonly fallback: T;
  /** The value of the texts given (never empty, in order): the last one, or all of them for a
   *  repeatable option. Throws OptionError if one is not a value this option takes. */
  read(texts: readonly string[]): T;
}

/** What every constructor below takes. */
interface Common {
  flag: string;
  help: string;
  command?: "serve" | "connect";
}

/** The option's name as plugins' raw values are keyed: the long flag without its dashes. */
export function optionName(s: Setting): string {
  return s.flag.split(/[ =]/)[0].replace(/^--/, "");
}

/** The typed value of `s` from raw texts (undefined or empty: not given, its fallback). The
 *  error names the flag, for a server started from code with a bad value. */
export function readSetting<T>(s: Setting<T>, texts: readonly string[] | undefined): T {
  if (!texts?.length) return s.fallback;
  try {
    return s.read(texts);
  } catch (e) {
    if (e instanceof OptionError) throw new OptionError(`${s.flag}: ${e.message}`);
    throw e;
  }
}

function single<T>(
  c: Common,
  unit: string,
  shown: string | undefined,
  parse: (text: string) => T,
  fallback: T,
): Setting<T> {
  return {
    flag: c.flag,
    help: c.help,
    command: c.command ?? "serve",
    repeatable: false,
    shown,
    unit,
    fallback,
    read: (texts) => parse(texts[texts.length - 1]),
  };
}

function wholeNumber(text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new OptionError(`expected a whole number from ${min} to ${max}`);
  }
  return n;
}

/** A whole number from min to max, in the unit the flag names (bytes, ms, days) or none. */
export function count(
  c: Common & { default: number; min: number; max: number; unit?: string },
): Setting<number> {
  const parse = (t: string) => wholeNumber(t, c.min, c.max);
  return single(c, c.unit ?? "", String(c.default), parse, c.default);
}

/** Whole seconds on the command line, milliseconds as a value (the core's timeouts). */
export function seconds(
  c: Common & { default: number; min: number; max: number },
): Setting<number> {
  const parse = (t: string) => wholeNumber(t, c.min, c.max) * 1000;
  return single(c, "seconds", String(c.default), parse, c.default * 1000);
}

/** A size as people write it (`100MiB`, `5GB`, `1048576`): bytes as a value. */
export function size(c: Common & { default: string }): Setting<number> {
  const parse = (t: string) => {
    const n = parseSize(t);
    if (n === undefined) throw new OptionError("expected a size such as 100MiB, 5GB or 1048576");
    return n;
  };
  return single(c, "", JSON.stringify(c.default), parse, parse(c.default));
}

/** A duration as people write it (`14d`, `12h`, `30s`; `0`: never): milliseconds as a value. */
export function duration(c: Common & { default: string }): Setting<number> {
  const parse = (t: string) => {
    const n = parseDuration(t);
    if (n === undefined) {
      throw new OptionError("expected a duration such as 14d, 12h or 30m (0: never)");
    }
    return n;
  };
  return single(c, "", JSON.stringify(c.default), parse, parse(c.default));
}

type Check = (text: string) => string | undefined;

function checked(check: Check | undefined) {
  return (t: string) => {
    const problem = check?.(t);
    if (problem) throw new OptionError(problem);
    return t;
  };
}

/** A text, e.g. a room or a directory; `check` says what is wrong with one, if anything.
 *  Without a default the value is undefined when not given. */
export function text(c: Common & { default: string; check?: Check }): Setting<string>;
export function text(c: Common & { check?: Check }): Setting<string | undefined>;
export function text(c: Common & { default?: string; check?: Check }): Setting<string | undefined> {
  const shown = c.default === undefined ? undefined : JSON.stringify(c.default);
  return single(c, "", shown, checked(c.check), c.default);
}

/** A repeatable text: every value given, in order (none: empty). */
export function texts(c: Common & { check?: Check }): Setting<string[]> {
  const parse = checked(c.check);
  return {
    flag: c.flag,
    help: c.help,
    command: c.command ?? "serve",
    repeatable: true,
    shown: undefined,
    unit: "",
    fallback: [],
    read: (all) => all.map(parse),
  };
}
