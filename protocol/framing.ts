/**
 * Framing with a hard cap, applied before any bytes are buffered: a peer that never sends a
 * newline can make this hold at most `maxBytes`, never more. (The standard TextLineStream has
 * no cap, which is why this exists.)
 *
 * Two kinds of frame share a stream. A line is UTF-8 ending in `\n` (JSON or plain text). A
 * binary frame carries raw bytes without base64 (file chunks), and starts with a byte no line
 * starts with:
 *
 *   0x01, length (4 bytes, big-endian), then `length` bytes: a JSON header, `\n`, the body
 *
 * Its length is known up front, so one over the cap is skipped exactly and the stream stays in
 * step. Binary frames are recognised only where the splitter's owner allows (`binary()`): not
 * in typed terminal input, nor on a plain-text (nc) session.
 */

const NEWLINE = 0x0a;
const EMPTY = new Uint8Array(0);
const CR = 0x0d;
/** The first byte of a binary frame, and the bytes before its header: mark and length. */
export const BINARY_MARK = 0x01;
const BINARY_PREFIX = 5;

export type LineEvent =
  | { kind: "line"; bytes: Uint8Array }
  /** A binary frame: its header line, `\n` and body (see parseBinaryFrame). */
  | { kind: "binary"; bytes: Uint8Array }
  /** A frame went over the cap; a line's bytes up to the next newline are being discarded, a
   *  binary frame's exactly. */
  | { kind: "oversize" };

const NEVER = () => false;
const OVERSIZE: LineEvent = { kind: "oversize" };

export class LineSplitter {
  #buf: Uint8Array;
  #len = 0;
  /** True while discarding the rest of an oversize line, until its newline arrives. */
  #skipping = false;
  /** While a binary frame is being read: its whole size with the prefix (0 until known). */
  #binary: number | undefined;
  /** Bytes of an oversize binary frame still to discard. */
  #skipBytes = 0;

  /** The buffer for an unfinished frame is made when one is first kept, not before: most
   *  lines arrive whole in one read, and an idle connection should hold nothing. `binary` says
   *  whether a frame starting with BINARY_MARK is a binary frame (asked only when one does). */
  constructor(
    readonly maxBytes: number,
    readonly binary: () => boolean = NEVER,
    /** Where a binary frame's bytes go (the server's pool of buffers; a new one by default). */
    readonly alloc: (n: number) => Uint8Array = (n) => new Uint8Array(n),
  ) {
    this.#buf = EMPTY;
  }

  /** Bytes currently held for an unfinished frame (for tests and stats). */
  get buffered(): number {
    return this.#len;
  }

  /** Feeds one read's bytes; returns the complete frames (lines without `\n` or a trailing
   *  `\r`). */
  push(chunk: Uint8Array): LineEvent[] {
    return Array.from(this.frames(chunk));
  }

  /** The same frames, cut one at a time as they are asked for: what the caller does with one
   *  (a session's first line choosing its mode) can decide how the next is cut (`binary()`).
   *  `chunk` must not change until the iteration ends. */
  *frames(chunk: Uint8Array): Generator<LineEvent, void, undefined> {
    let start = 0;
    while (start < chunk.length) {
      if (this.#skipBytes > 0) {
        const k = Math.min(this.#skipBytes, chunk.length - start);
        this.#skipBytes -= k;
        start += k;
        continue;
      }
      if (
        this.#binary !== undefined ||
        (this.#len === 0 && !this.#skipping && chunk[start] === BINARY_MARK && this.binary())
      ) {
        const { at, ev } = this.#binaryPart(chunk, start);
        start = at;
        if (ev) yield ev;
        continue;
      }
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl === -1 ? chunk.length : nl;
      let ev: LineEvent | undefined;
      if (this.#skipping) {
        if (nl !== -1) this.#skipping = false;
      } else if (this.#len + (end - start) > this.maxBytes) {
        this.#len = 0;
        ev = OVERSIZE;
        this.#skipping = nl === -1;
      } else if (nl === -1) {
        this.#append(chunk.subarray(start, end));
      } else if (this.#len === 0) {
        // Fast path: the whole line is inside this chunk; copy it so the caller may reuse chunk.
        ev = { kind: "line", bytes: trimCr(chunk.slice(start, end)) };
      } else {
        this.#append(chunk.subarray(start, end));
        ev = { kind: "line", bytes: trimCr(this.#buf.slice(0, this.#len)) };
        this.#len = 0;
      }
      start = end + 1;
      if (ev) yield ev;
    }
  }

  /** Takes what `chunk` holds of a binary frame from `start`: where it stopped, and the frame
   *  (or the oversize event) if it ended there. */
  #binaryPart(chunk: Uint8Array, start: number): { at: number; ev?: LineEvent } {
    if (this.#binary === undefined) {
      // Fast path: prefix and frame whole inside this chunk.
      if (this.#len === 0 && chunk.length - start >= BINARY_PREFIX) {
        const size = BINARY_PREFIX + lengthAt(chunk, start);
        if (size - BINARY_PREFIX <= this.maxBytes && chunk.length - start >= size) {
          const bytes = this.#copy(chunk.subarray(start + BINARY_PREFIX, start + size));
          return { at: start + size, ev: { kind: "binary", bytes } };
        }
      }
      const k = Math.min(BINARY_PREFIX - this.#len, chunk.length - start);
      this.#append(chunk.subarray(start, start + k));
      start += k;
      if (this.#len < BINARY_PREFIX) {
        this.#binary = 0;
        return { at: start };
      }
      const length = lengthAt(this.#buf, 0);
      if (length > this.maxBytes) {
        this.#len = 0;
        this.#binary = undefined;
        this.#skipBytes = length;
        return { at: start, ev: OVERSIZE };
      }
      this.#binary = BINARY_PREFIX + length;
    } else if (this.#binary === 0) {
      // Still reading the prefix: go round again with what is held.
      this.#binary = undefined;
      return this.#binaryPart(chunk, start);
    }
    const k = Math.min(this.#binary - this.#len, chunk.length - start);
    this.#append(chunk.subarray(start, start + k));
    if (this.#len === this.#binary) {
      const bytes = this.#copy(this.#buf.subarray(BINARY_PREFIX, this.#len));
      this.#len = 0;
      this.#binary = undefined;
      return { at: start + k, ev: { kind: "binary", bytes } };
    }
    return { at: start + k };
  }

  #copy(part: Uint8Array): Uint8Array {
    const out = this.alloc(part.length);
    out.set(part);
    return out;
  }

  #append(part: Uint8Array): void {
    const need = this.#len + part.length;
    if (need > this.#buf.length) {
      const grown = new Uint8Array(
        Math.min(this.maxBytes + BINARY_PREFIX, Math.max(need, this.#buf.length * 2, 256)),
      );
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf.set(part, this.#len);
    this.#len = need;
  }
}

/** The big-endian length after a binary frame's mark at `at`. */
function lengthAt(b: Uint8Array, at: number): number {
  return ((b[at + 1] << 24) >>> 0) + (b[at + 2] << 16) + (b[at + 3] << 8) + b[at + 4];
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

/** Encodes a frame with a binary body (see the top of this file): `header` must not hold the
 *  body itself. */
export function encodeBinaryFrame(header: object, body: Uint8Array): Uint8Array {
  const head = encoder.encode(JSON.stringify(header) + "\n");
  const out = withPrefix(head.length + body.length);
  out.set(head, BINARY_PREFIX);
  out.set(body, BINARY_PREFIX + head.length);
  return out;
}

/** A binary frame's first part, for a body sent after it as it is (no copy): mark, length (of
 *  header line and body), and the header line. */
export function binaryFrameHead(header: object, bodyLength: number): Uint8Array {
  const head = encoder.encode(JSON.stringify(header) + "\n");
  const out = new Uint8Array(BINARY_PREFIX + head.length);
  out[0] = BINARY_MARK;
  new DataView(out.buffer).setUint32(1, head.length + bodyLength);
  out.set(head, BINARY_PREFIX);
  return out;
}

/** A binary frame around a payload already made (header line, `\n`, body), as a WebSocket's
 *  binary message carries it: the mark and length put before it. */
export function binaryFrame(payload: Uint8Array): Uint8Array {
  const out = withPrefix(payload.length);
  out.set(payload, BINARY_PREFIX);
  return out;
}

/** A binary frame's buffer with its mark and length written, the payload still to fill. */
function withPrefix(length: number): Uint8Array {
  const out = new Uint8Array(BINARY_PREFIX + length);
  out[0] = BINARY_MARK;
  new DataView(out.buffer).setUint32(1, length);
  return out;
}

/** A frame whose `data` field may be bytes: those go as a binary frame to a peer that reads
 *  them (`binary`), as base64 in the JSON line to one that does not. */
export function encodeFrameFor(frame: Record<string, unknown>, binary: boolean): Uint8Array {
  const data = frame.data;
  if (!(data instanceof Uint8Array)) return encodeFrame(frame);
  const { data: _, ...header } = frame;
  if (binary) return encodeBinaryFrame(header, data);
  return encodeFrame({ ...header, data: data.toBase64() });
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
