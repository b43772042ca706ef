/**
 * Result printing: a block for people and one JSON line for scripts (the last line of output,
 * or the only one with --json). Figures that could not be measured are "n/a" in the block and
 * null in the JSON, never a made-up zero.
 */

export type Figure =
  | number
  | string
  | boolean
  | null
  | undefined
  | Record<string, number>
  | (number | undefined)[];

export interface Result {
  /** Headline, e.g. "dm: 10 pairs (20 connections), window 100, 10 s". */
  title: string;
  /** False when the run failed or hit its deadline; the exit code is then 1. */
  complete: boolean;
  failure: string | undefined;
  /** Labelled, formatted lines for people. */
  lines: [string, string][];
  /** Machine-readable figures, in a stable order. */
  json: Record<string, Figure>;
}

/** Both processes compete for the same two cores, so every figure includes that contention. */
export const SHARED_MACHINE_NOTE = "the load generator and the server share this machine " +
  `(${navigator.hardwareConcurrency} cores); client CPU competes with the server's`;

export function printResult(r: Result, jsonOnly: boolean): void {
  const json = JSON.stringify({
    ...r.json,
    complete: r.complete,
    failure: r.failure ?? null,
  }, (_k, v) => (v === undefined ? null : v));
  if (!jsonOnly) {
    const width = Math.max(...r.lines.map(([label]) => label.length));
    const out = [`ClassChat bench ${r.title}`];
    for (const [label, value] of r.lines) out.push(`  ${label.padEnd(width)}  ${value}`);
    if (!r.complete) out.push(`  INCOMPLETE: ${r.failure ?? "unknown failure"}`);
    out.push(`  note: ${SHARED_MACHINE_NOTE}`);
    console.log(out.join("\n"));
  }
  console.log(json);
}

/** A whole number with thousands separators and a unit, or a bare n/a. */
export function count(x: number | undefined, unit = ""): string {
  if (x === undefined || !Number.isFinite(x)) return "n/a";
  return withUnit(Math.round(x).toLocaleString("en-US"), unit);
}

/** A number with `digits` decimals and a unit, or a bare n/a. */
export function fixed(x: number | undefined, digits: number, unit = ""): string {
  return x === undefined || !Number.isFinite(x) ? "n/a" : withUnit(x.toFixed(digits), unit);
}

function withUnit(v: string, unit: string): string {
  return unit === "" || unit === "%" ? v + unit : `${v} ${unit}`;
}

/** KiB as MiB with one decimal, or n/a. */
export function mib(kib: number | undefined): string {
  return kib === undefined ? "n/a" : `${(kib / 1024).toFixed(1)} MiB`;
}

/** Rounds for JSON so the line stays short; keeps undefined (becomes null). */
export function round(x: number | undefined, digits = 0): number | undefined {
  if (x === undefined || !Number.isFinite(x)) return undefined;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
