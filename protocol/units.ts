/** Sizes and durations as people write them in options (serve, plugins, bench): `100MiB`, `5GB`,
 *  `14d`, `90m`. The one parser of each; protocol/settings.ts
 *  builds options on them. */

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  tib: 1024 ** 4,
};

const DURATION_UNITS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** Bytes in `100MiB`, `1.5GB`, `500k`, `1048576`; undefined if it does not read as a size. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m && SIZE_UNITS[m[2].toLowerCase()];
  if (!m || unit === undefined || unit === null) return undefined;
  const n = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Milliseconds in `14d`, `12h`, `90m`, `30s`, `2w`; `0` means never. Undefined if unreadable. */
export function parseDuration(text: string): number | undefined {
  if (text.trim() === "0") return 0;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Math.round(Number(m[1]) * DURATION_UNITS[m[2].toLowerCase()]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
