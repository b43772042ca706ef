/**
 * A raw connection for tests/core/fuzz_test.ts: writes malformed input in batches while it
 * reads, and checks, everything the server says back (no stack traces, no internal errors).
 */
import { LineSplitter } from "../../protocol/framing.ts";
import type { Rng } from "../../bench/rng.ts";

const STACK = [/\.(?:ts|js|mjs|cjs)\b:\d+/, /file:\/\//, /\bat (?:async )?\S+ \(/, /\\n\s+at /];
const INTERNAL =
  /\b(?:TypeError|RangeError|ReferenceError|SyntaxError|Maximum call stack|Unexpected token|is not a function|Cannot read prop|at position \d)/;

const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Test = (f: Record<string, unknown> | undefined, line: string) => boolean;

/** A raw client: writes bytes as given, reads and checks every line the server sends. */
export class FuzzConn {
  readonly codes = new Map<string, number>();
  /** Frames received, by type. */
  readonly types = new Map<string, number>();
  /** Transfer ids this connection was given (its offers' acks, sendfile.incoming); the next
   *  chunk index it sends for each, and the last it received (for FuzzConn.fill). */
  readonly #files: string[] = [];
  readonly #nextChunk = new Map<string, number>();
  readonly #gotChunk = new Map<string, number>();
  /** Lines that looked like a leaked stack trace or internal error. */
  readonly leaks: string[] = [];
  closing: string | undefined;
  textMode = false;
  isClosed = false;
  /** Set when the server ended the connection (rather than close() here); `readError` names
   *  how, if not with a clean end (a reset loses what the server still had queued). */
  byServer = false;
  readError: string | undefined;
  #ended = false;
  readonly done: Promise<void>;
  #want: Array<{ test: Test; done: (ok: boolean) => void }> = [];

  private constructor(readonly conn: Deno.Conn) {
    this.done = this.#read();
  }

  static async open(port: number, caCert: string): Promise<FuzzConn> {
    return new FuzzConn(await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [caCert] }));
  }

  /** Writes all bytes, in a few pieces (frames split across writes); false if it is closed. */
  async write(data: Uint8Array, r?: Rng): Promise<boolean> {
    const cuts = [0, data.length];
    if (r) cuts.push(r.int(data.length), r.int(data.length));
    cuts.sort((a, b) => a - b);
    try {
      for (let i = 0; i + 1 < cuts.length; i++) {
        for (let off = cuts[i]; off < cuts[i + 1];) {
          off += await this.conn.write(data.subarray(off, cuts[i + 1]));
        }
      }
      return true;
    } catch {
      return false;
    }
  }

  /** Whether the server still answers a ping (or, in plain-text mode, help). The fuzzing may
   *  have spent the connection's frame budget, so RATE_LIMITED means: wait as told, then ask
   *  again. */
  async stillAnswers(): Promise<boolean> {
    for (let tries = 0; tries < 10; tries++) {
      let retryMs: number | undefined;
      await this.write(enc.encode('{"type":"session.ping","id":"alive"}\nserver:help\n'));
      const heard = await this.waitFor((f, line) => {
        if ((f?.re === "alive" && f.type === "ack") || line === "commands:") return true;
        const wait = f?.re === "alive" && f.code === "RATE_LIMITED"
          ? f.retryAfterMs
          : line.match(/^error RATE_LIMITED: .* (\d+) ms$/)?.[1];
        if (wait !== undefined) retryMs = Number(wait);
        return retryMs !== undefined;
      }, 20_000);
      if (!heard) return false;
      if (retryMs === undefined) return true;
      await sleep(retryMs);
    }
    return false;
  }

  /** Fills in the placeholders of fuzz_gen's file-transfer frames: `"@F<k>"` becomes the
   *  k-th (modulo) transfer id this connection knows, `"@C"` its next chunk index for that
   *  transfer and `"@A"` the last chunk index it received of it. */
  fill(line: Uint8Array): Uint8Array {
    const text = dec.decode(line);
    const m = text.match(/"@F(\d+)"/);
    if (!m) return line;
    const file = this.#files[Number(m[1]) % this.#files.length] ?? `f${m[1]}`;
    const next = this.#nextChunk.get(file) ?? 0;
    if (text.includes('"@C"')) this.#nextChunk.set(file, next + 1);
    return enc.encode(
      text.replace(m[0], JSON.stringify(file)).replace('"@C"', String(next))
        .replace('"@A"', String(this.#gotChunk.get(file) ?? 0)),
    );
  }

  /** Waits for a line (f is undefined if it is not a JSON object); false if the connection
   *  closed or ms passed first. */
  waitFor(test: Test, ms = 10_000): Promise<boolean> {
    if (this.#ended) return Promise.resolve(false);
    return new Promise((resolve) => {
      const w = {
        test,
        done: (ok: boolean) => {
          clearTimeout(timer);
          this.#want.splice(this.#want.indexOf(w), 1);
          resolve(ok);
        },
      };
      const timer = setTimeout(() => w.done(false), ms);
      this.#want.push(w);
    });
  }

  close() {
    this.isClosed = true;
    try {
      this.conn.close();
    } catch { /* closed already */ }
  }

  #check(line: string, f?: Record<string, unknown>) {
    const risky = !f || f.type === "error" || f.type === "session.closing" || f.type === "ack" ||
      f.type === "sendfile.cancelled";
    if (STACK.some((re) => re.test(line)) || (risky && INTERNAL.test(line))) this.leaks.push(line);
    const code = f
      ? (f.type === "error" ? String(f.code) : undefined)
      : line.match(/^error (\w+)/)?.[1];
    if (code) this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    if (f) this.types.set(String(f.type), (this.types.get(String(f.type)) ?? 0) + 1);
    if (typeof f?.file === "string") {
      if (f.type === "ack" || f.type === "sendfile.incoming") this.#files.push(f.file);
      if (f.type === "sendfile.chunk") this.#gotChunk.set(f.file, Number(f.n));
    }
    // session.closing, or its plain-text rendering `closing CODE: message`.
    const closing = f
      ? (f.type === "session.closing" ? f.code : undefined)
      : line.match(/^closing (\w+): /)?.[1];
    if (closing !== undefined) this.closing = String(closing);
    for (const w of [...this.#want]) if (w.test(f, line)) w.done(true);
  }

  async #read() {
    const splitter = new LineSplitter(16 * 1024 * 1024);
    const buf = new Uint8Array(64 * 1024);
    try {
      for (let n; (n = await this.conn.read(buf)) !== null;) {
        for (const ev of splitter.push(buf.subarray(0, n))) {
          if (ev.kind !== "line") continue;
          const line = dec.decode(ev.bytes);
          let f: unknown;
          try {
            f = JSON.parse(line);
          } catch { /* a plain-text mode line */ }
          const frame = typeof f === "object" && f !== null
            ? f as Record<string, unknown>
            : undefined;
          if (!frame) this.textMode = true;
          this.#check(line, frame);
        }
      }
    } catch (e) {
      this.readError = e instanceof Error ? e.name : String(e);
    }
    this.byServer = !this.isClosed;
    this.isClosed = this.#ended = true;
    for (const w of [...this.#want]) w.done(false);
    this.close();
  }
}
