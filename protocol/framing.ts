/**
 * Newline-delimited framing with a hard cap, applied before any bytes are buffered: a peer
 * that never sends a newline can make this hold at most `maxBytes`, never more. (The standard
 * TextLineStream has no cap, which is why this exists.)
 */

const NEWLINE = 0x0a;
const EMPTY = new Uint8Array(0);
const CR = 0x0d;

export type LineEvent =
  | { kind: "line"; bytes: Uint8Array }
  /** A line went over the cap; its bytes up to the next newline are being discarded. */
  | { kind: "oversize" };

export class LineSplitter {
  #buf: Uint8Array;
  #len = 0;
  /** True while discarding the rest of an oversize line, until its newline arrives. */
  #skipping = false;

  /** The buffer for an unfinished line is made when one is first kept, not before: most lines
   *  arrive whole in one read, and an idle connection should hold nothing. */
  constructor(readonly maxBytes: number) {
    this.#buf = EMPTY;
  }

  /** Bytes currently held for an unfinished line (for tests and stats). */
  get buffered(): number {
    return this.#len;
  }

  /** Feeds one read's bytes; returns the complete lines (without `\n` or a trailing `\r`). */
  push(chunk: Uint8Array): LineEvent[] {
    const out: LineEvent[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl === -1 ? chunk.length : nl;
      if (this.#skipping) {
        if (nl !== -1) this.#skipping = false;
      } else if (this.#len + (end - start) > this.maxBytes) {
        this.#len = 0;
        out.push({ kind: "oversize" });
        this.#skipping = nl === -1;
      } else if (nl === -1) {
        this.#append(chunk.subarray(start, end));
      } else if (this.#len === 0) {
        // Fast path: the whole line is inside this chunk; copy it so the caller may reuse chunk.
        out.push({ kind: "line", bytes: trimCr(chunk.slice(start, end)) });
      } else {
        this.#append(chunk.subarray(start, end));
        out.push({ kind: "line", bytes: trimCr(this.#buf.slice(0, this.#len)) });
        this.#len = 0;
      }
      start = end + 1;
    }
    return out;
  }

  #append(part: Uint8Array): void {
    const need = this.#len + part.length;
    if (need > this.#buf.length) {
      const grown = new Uint8Array(
        Math.min(this.maxBytes, Math.max(need, this.#buf.length * 2, 256)),
      );
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf.set(part, this.#len);
    this.#len = need;
  }
}

function trimCr(line: Uint8Array): Uint8Array {
  return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes one frame as a line, once; the bytes can then be queued to many connections. */
export function encodeFrame(frame: object): Uint8Array {
  return encoder.encode(JSON.stringify(frame) + "\n");
}

export function encodeLine(text: string): Uint8Array {
  return encoder.encode(text + "\n");
}

/** Decodes UTF-8 strictly; returns undefined for invalid sequences. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}
