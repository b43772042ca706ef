/**
 * Newline scanning for the load generator. Unlike protocol/framing.ts it hands out views into
 * the caller's read buffer instead of copying every line: at hundreds of thousands of frames a
 * second the copies (and their garbage) would make the client, not the server, the bottleneck.
 * Only a line split across two reads is copied, and that copy is capped.
 */

const NEWLINE = 0x0a;

/** Called for each complete line: `buf[start, end)` without the newline. The view is valid only
 *  during the call, because the buffer is reused by the next read. */
export type LineHandler = (buf: Uint8Array, start: number, end: number) => void;

export class LineScanner {
  #pending = new Uint8Array(0);
  #pendingLen = 0;

  constructor(readonly maxLineBytes: number, readonly onLine: LineHandler) {}

  /** Scans one read's bytes; returns false if a partial line grew past the cap (stream broken). */
  push(chunk: Uint8Array): boolean {
    const n = chunk.length;
    let start = 0;
    if (this.#pendingLen > 0) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl === -1) return this.#keep(chunk, 0, n);
      if (!this.#keep(chunk, 0, nl)) return false;
      this.onLine(this.#pending, 0, this.#pendingLen);
      this.#pendingLen = 0;
      start = nl + 1;
    }
    while (start < n) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) return this.#keep(chunk, start, n);
      if (nl > start) this.onLine(chunk, start, nl);
      start = nl + 1;
    }
    return true;
  }

  /** Appends an unfinished line's bytes to the pending copy, growing it up to the cap. */
  #keep(chunk: Uint8Array, start: number, end: number): boolean {
    const need = this.#pendingLen + (end - start);
    if (need > this.maxLineBytes) return false;
    if (need > this.#pending.length) {
      const grown = new Uint8Array(
        Math.min(this.maxLineBytes, Math.max(need, 2 * this.#pending.length, 4096)),
      );
      grown.set(this.#pending.subarray(0, this.#pendingLen));
      this.#pending = grown;
    }
    this.#pending.set(chunk.subarray(start, end), this.#pendingLen);
    this.#pendingLen = need;
    return true;
  }
}

/** True if `buf[start..]` begins with `prefix` (and the line is long enough to hold it). */
export function startsWith(buf: Uint8Array, start: number, end: number, prefix: Uint8Array) {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[start + i] !== prefix[i]) return false;
  return true;
}

/** True if `needle` occurs in `buf[from, end)`; used only on short tails of lines. */
export function includes(buf: Uint8Array, from: number, end: number, needle: Uint8Array) {
  return indexOf(buf, from, end, needle) !== -1;
}

/** Where `needle` first occurs in `buf[from, end)`, or -1; a naive scan, for short spans. */
export function indexOf(buf: Uint8Array, from: number, end: number, needle: Uint8Array): number {
  const last = end - needle.length;
  outer: for (let i = Math.max(from, 0); i <= last; i++) {
    for (let j = 0; j < needle.length; j++) if (buf[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Parses the decimal digits at `buf[pos..]`; returns -1 if there are none. */
export function readUint(buf: Uint8Array, pos: number, end: number): number {
  let v = 0;
  let i = pos;
  for (; i < end; i++) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  return i === pos ? -1 : v;
}
