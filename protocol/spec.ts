/**
 * Message specs: a frame type together with its runtime decoder, defined once and imported by
 * both client and server so the TypeScript type and the wire check cannot drift apart.
 *
 *   export const DmSend = message("dm.send", (f) => ({
 *     receiver: field.name(f, "receiver"), text: field.text(f, "text"),
 *   }));
 *
 * A request declares its ack the same way, with it: `{ ack: (f) => ({ seq: field.number(f,
 * "seq") }) }`. The server's handler must return that type (ServerApi.on) and the client
 * decodes the ack with it (ClientCtx.request), so an ack's fields are written down once.
 */
import { ChatError } from "./errors.ts";

/** A decoded JSON object straight off the wire: nothing about its fields is trusted yet. */
export type RawFrame = Record<string, unknown> & { type: string; id?: string };

/** The ack body of a request: A is what its ack decoder returns, `void` for an ack with no
 *  fields (and for frames that are not requests, which get no ack). */
export interface MessageSpec<T, A = void> {
  readonly type: string;
  /** Checks an untrusted frame and returns the typed body, or throws ChatError(BAD_FRAME). */
  decode(frame: RawFrame): T;
  /** Checks the ack of this request (`{type: "ack", re, ...fields}`, untrusted: it comes from
   *  the server) and returns its fields, or throws ChatError(BAD_FRAME). Only the client runs
   *  it: the server's own answers are checked at compile time instead (ServerApi.on). */
  decodeAck(frame: RawFrame): A;
  /** Frames of a stream bounded by its own credit window (file chunks and their acks): they
   *  are exempt from the frames-per-second limit on both sides unless refused. */
  readonly windowed?: boolean;
  /** A request the client keeps until it is answered: held while disconnected and sent again
   *  after a reconnect with the same transaction id, which the server answers once (a chat
   *  message). Only for requests whose effect does not depend on the connection. */
  readonly resend?: boolean;
}

export interface SpecOptions {
  windowed?: boolean;
  resend?: boolean;
}

/** A request whose ack carries fields, checked by `ack`. (This overload comes first: tried
 *  second, the decoder's parameter would be left without its type.) */
export function message<T, A>(
  type: string,
  decode: (frame: RawFrame) => T,
  opts: SpecOptions & { ack: (frame: RawFrame) => A },
): MessageSpec<T, A>;
/** A frame without ack fields (most pushes, and requests answered by a bare ack). */
export function message<T>(
  type: string,
  decode: (frame: RawFrame) => T,
  opts?: SpecOptions,
): MessageSpec<T>;
export function message<T, A>(
  type: string,
  decode: (frame: RawFrame) => T,
  opts: SpecOptions & { ack?: (frame: RawFrame) => A } = {},
): MessageSpec<T, A | void> {
  return {
    type,
    decode,
    // A bare ack's extra fields are ignored, not refused: they carry nothing the client uses.
    decodeAck: opts.ack ?? (() => {}),
    windowed: opts.windowed === true,
    resend: opts.resend === true,
  };
}

/** Field readers for decoders: each names the field in its error so a client knows what to fix. */
export const field = {
  string(f: RawFrame, key: string, opts: { min?: number; max?: number } = {}): string {
    const v = at(f, key);
    if (typeof v !== "string") throw bad(key, "must be a string");
    if (opts.min !== undefined && v.length < opts.min) {
      throw bad(key, `is shorter than ${opts.min}`);
    }
    if (opts.max !== undefined && v.length > opts.max) throw bad(key, `is longer than ${opts.max}`);
    return v;
  },
  /** Text shown to people: no control characters but tab (C0, DEL, C1), and well-formed
   *  Unicode. A newline or an ANSI escape in a message could forge lines or repaint someone
   *  else's terminal; a lone surrogate (`"\ud800"` in JSON) is text no one can read, which
   *  would be stored and relayed as it is. Bidi embeddings, overrides and isolates are removed
   *  (see withoutBidiControls); `min` counts what is left. */
  text(f: RawFrame, key: string, opts: { min?: number; max?: number } = {}): string {
    const v = withoutBidiControls(field.string(f, key, { max: opts.max }));
    if (opts.min !== undefined && v.length < opts.min) {
      throw bad(key, `is shorter than ${opts.min} (bidi controls do not count)`);
    }
    shown(key, v);
    return v;
  },
  /** `read()` when the field is present, undefined when it is absent. */
  optional<T>(f: RawFrame, key: string, read: () => T): T | undefined {
    return at(f, key) === undefined ? undefined : read();
  },
  optionalString(f: RawFrame, key: string): string | undefined {
    return at(f, key) === undefined ? undefined : field.string(f, key);
  },
  /** Raw bytes: a binary frame's body (parseBinaryFrame), or base64 in a JSON line, decoded
   *  strictly. `max` is in bytes. */
  bytes(f: RawFrame, key: string, opts: { max?: number } = {}): Uint8Array {
    const v = at(f, key);
    let b: Uint8Array;
    if (v instanceof Uint8Array) b = v;
    else if (typeof v !== "string") throw bad(key, "must be bytes (base64 in a JSON line)");
    else {
      // Checked before decoding: at most max bytes is at most 4 * ceil(max / 3) characters.
      if (opts.max !== undefined && v.length > Math.ceil(opts.max / 3) * 4) {
        throw bad(key, `is longer than ${opts.max} bytes`);
      }
      try {
        b = Uint8Array.fromBase64(v, { lastChunkHandling: "strict" });
      } catch {
        throw bad(key, "must be base64");
      }
    }
    if (opts.max !== undefined && b.length > opts.max) {
      throw bad(key, `is longer than ${opts.max} bytes`);
    }
    return b;
  },
  number(f: RawFrame, key: string): number {
    const v = at(f, key);
    if (typeof v !== "number" || !Number.isFinite(v)) throw bad(key, "must be a finite number");
    return v;
  },
  optionalNumber(f: RawFrame, key: string): number | undefined {
    return at(f, key) === undefined ? undefined : field.number(f, key);
  },
  boolean(f: RawFrame, key: string): boolean {
    const v = at(f, key);
    if (typeof v !== "boolean") throw bad(key, "must be true or false");
    return v;
  },
  stringArray(f: RawFrame, key: string): string[] {
    const v = at(f, key);
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
      throw bad(key, "must be an array of strings");
    }
    return v;
  },
  /** An array of `text` strings (see text). */
  textArray(f: RawFrame, key: string): string[] {
    const v = field.stringArray(f, key).map(withoutBidiControls);
    for (const x of v) shown(key, x);
    return v;
  },
  object(f: RawFrame, key: string): Record<string, unknown> {
    const v = at(f, key);
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw bad(key, "must be an object");
    }
    return v as Record<string, unknown>;
  },
};

/** Unicode's bidi embeddings and overrides (U+202A-U+202E) and isolates (U+2066-U+2069). An
 *  override reorders the characters after it: "Bob: \u202Egnp.exe" reads "Bob: exe.png", and a
 *  line can be made to say something its bytes do not. They are removed from shown text, as
 *  from file names. The marks U+200E, U+200F and U+061C stay: they only give a direction, as
 *  any Hebrew or Arabic letter does, and phones put them in text in those languages. */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

/** `text` without bidi embeddings, overrides and isolates (see BIDI_CONTROLS). */
export function withoutBidiControls(text: string): string {
  return text.replace(BIDI_CONTROLS, "");
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

/** Throws BAD_FRAME unless `v` is text fit to show (see field.text). */
function shown(key: string, v: string) {
  if (CONTROL.test(v)) throw bad(key, "must not contain control characters (newlines, escapes)");
  if (!v.isWellFormed()) throw bad(key, "must be well-formed Unicode (no lone surrogates)");
}

/** The field's value; a non-object in place of a frame (an entry of an array field, say) is
 *  BAD_FRAME like any other wrong shape, never a TypeError. */
function at(f: RawFrame, key: string): unknown {
  if (typeof f !== "object" || f === null || Array.isArray(f)) {
    throw bad(key, "is not in an object");
  }
  return Object.hasOwn(f, key) ? f[key] : undefined;
}

function bad(key: string, why: string): ChatError {
  return new ChatError("BAD_FRAME", `field "${key}" ${why}`);
}
