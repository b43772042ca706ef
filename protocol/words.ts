/** Small pieces of wording shared by client and server texts (no I/O). */

/** `1 message`, `2 messages`. */
export function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}

/** A wait as a person reads it: `40 s`, `15 min`, `2 h 5 min` (rounded up: never too soon). */
export function waitText(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.ceil(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
}

/** A time in plain-text mode, `2026-11-20 23:04 UTC`: the server does not know the reader's
 *  time zone (the terminal client shows local time, Ui.time). */
export function utcTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}
