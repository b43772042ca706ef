/**
 * One load-generator connection: a read loop over a single reused buffer feeding a LineScanner,
 * and whole-buffer writes. It deliberately knows nothing of frames beyond a few byte prefixes
 * (see classify) so that the generator spends far less CPU per frame than the server does.
 * It answers the server's keepalive session.ping itself, so that no workload's idle client is
 * closed for silence.
 */
import { LineSplitter } from "../protocol/framing.ts";
import { includes, LineScanner, startsWith } from "./lines.ts";

/** A partial line longer than this means the stream is broken (the server caps frames at
 *  64 KiB by default; this leaves room for a raised --max-frame-bytes). */
const MAX_LINE_BYTES = 1024 * 1024;

const enc = new TextEncoder();
/** The server's keepalive: pushed (without an id) to a connection it has not heard from for
 *  half its idle timeout, which it closes with IDLE_TIMEOUT unless something arrives. */
const SERVER_PING = enc.encode('{"type":"session.ping"');
/** The answer: the same frame without an id, which the server takes as a sign of life and
 *  does not acknowledge. */
const PING_ANSWER = enc.encode('{"type":"session.ping"}\n');
/** Longest line taken for a ping (a few fields could be added); longer lines skip the check. */
const MAX_PING_BYTES = 128;

/** Keepalive pings answered by every client of this process, for the reports. */
export const keepalive = { pingsAnswered: 0 };

export interface ClientHandler {
  /** Called once per read, before its lines: `now` is performance.now() for the whole chunk. */
  onChunk?(now: number): void;
  onLine(buf: Uint8Array, start: number, end: number): void;
  /** Set by a client that reads binary frames (file chunks): its lines then come through the
   *  protocol's own splitter, as copies, and each binary frame (header, `\n`, body) here. */
  onBinary?(bytes: Uint8Array): void;
  /** Called once per read, after its lines (the place to top up a send window). */
  afterChunk?(): void;
  /** The connection ended; `reason` is undefined when we closed it ourselves. */
  onClose?(reason: string | undefined): void;
}

export class BenchClient {
  closed = false;
  /** Why the connection ended, if the server (or the network) ended it. */
  closeReason: string | undefined;
  readonly done: Promise<void>;
  #closedByUs = false;
  /** The last write queued: writes go out one after another, never interleaved. */
  #lastWrite: Promise<boolean> = Promise.resolve(true);

  private constructor(
    readonly conn: Deno.Conn,
    readBufferBytes: number,
    readonly handler: ClientHandler,
  ) {
    this.done = this.#readLoop(readBufferBytes);
  }

  static async connect(
    opts: {
      hostname: string;
      port: number;
      signal?: AbortSignal;
      readBufferBytes: number;
      /** PEM to pin: TLS when set, plain TCP otherwise. */
      caCert?: string;
    },
    handler: ClientHandler,
  ): Promise<BenchClient> {
    const conn = await Deno.connect({
      hostname: opts.hostname,
      port: opts.port,
      signal: opts.signal,
    });
    // We batch frames ourselves; Nagle would only add delay to the latency being measured.
    conn.setNoDelay(true);
    // TLS over the TCP connection just made (Deno.TlsConn has no setNoDelay of its own).
    // Handshake now: otherwise it happens inside the first write and is timed as part of
    // whatever that write sends (backlog times its login from there).
    let tls: Deno.Conn = conn;
    if (opts.caCert) {
      const t = await Deno.startTls(conn, { hostname: opts.hostname, caCerts: [opts.caCert] });
      await t.handshake();
      tls = t;
    }
    return new BenchClient(tls, opts.readBufferBytes, handler);
  }

  async #readLoop(bytes: number): Promise<void> {
    const buf = new Uint8Array(bytes);
    const lineOf = (b: Uint8Array, start: number, end: number) => {
      // Answered here, for every workload, so that no idle bench client is cut off.
      if (end - start <= MAX_PING_BYTES && startsWith(b, start, end, SERVER_PING)) {
        const next = b[start + SERVER_PING.length];
        if (next === 0x7d /* } */ || next === 0x2c /* , */) {
          keepalive.pingsAnswered++;
          void this.write(PING_ANSWER);
          return;
        }
      }
      this.handler.onLine(b, start, end);
    };
    const scanner = new LineScanner(MAX_LINE_BYTES, lineOf);
    const onBinary = this.handler.onBinary?.bind(this.handler);
    const splitter = onBinary && new LineSplitter(MAX_LINE_BYTES, () => true);
    let reason: string | undefined;
    try {
      while (true) {
        const n = await this.conn.read(buf);
        if (n === null) {
          reason = "connection closed by the server";
          break;
        }
        this.handler.onChunk?.(performance.now());
        if (splitter) {
          const events = splitter.push(buf.subarray(0, n));
          for (const ev of events) {
            if (ev.kind === "line") lineOf(ev.bytes, 0, ev.bytes.length);
            else if (ev.kind === "binary") onBinary!(ev.bytes);
          }
          if (events.some((ev) => ev.kind === "oversize")) {
            reason = `a frame exceeded ${MAX_LINE_BYTES} bytes`;
            break;
          }
        } else if (!scanner.push(buf.subarray(0, n))) {
          reason = `a line exceeded ${MAX_LINE_BYTES} bytes`;
          break;
        }
        this.handler.afterChunk?.();
      }
    } catch (e) {
      reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    if (this.#closedByUs) reason = undefined;
    this.closeReason = reason;
    this.#shutdown();
    this.handler.onClose?.(reason);
  }

  /** Writes all of `bytes` after any write still in progress (a partial write must not be
   *  interleaved with another); false if the connection failed or was closed meanwhile.
   *  `bytes` must not change until the returned promise settles. */
  write(bytes: Uint8Array): Promise<boolean> {
    const p = this.#lastWrite.then(() => this.#writeAll(bytes));
    this.#lastWrite = p;
    return p;
  }

  async #writeAll(bytes: Uint8Array): Promise<boolean> {
    try {
      let off = 0;
      while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
      return true;
    } catch {
      return false;
    }
  }

  /** Closes from our side; the read loop then ends without reporting a failure. */
  close(): void {
    if (!this.closed) this.#closedByUs = true;
    this.#shutdown();
  }

  #shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }
}

// Cheap frame classification ----------------------------------------------------------------------

const TYPE_PREFIX = enc.encode('{"type":"');
const DM_MESSAGE = enc.encode('{"type":"dm.message"');
const PRESENCE = enc.encode('{"type":"presence.');
const WELCOME = enc.encode('{"type":"welcome"');
/** The router builds acks as {...result, type, re}, so every ack line ends with this + id. */
const ACK_TAIL = enc.encode('"type":"ack","re":"');

export type FrameKind = "dm" | "ack" | "presence" | "welcome" | "other";

/**
 * Classifies a server frame by its bytes, relying on the key order JSON.stringify keeps from
 * the server's object literals. "other" (errors, closing notices, anything unexpected) must
 * be parsed properly by the caller, so a change on the server costs speed, not correctness.
 */
export function classify(buf: Uint8Array, start: number, end: number): FrameKind {
  if (startsWith(buf, start, end, TYPE_PREFIX)) {
    if (startsWith(buf, start, end, DM_MESSAGE)) return "dm";
    if (startsWith(buf, start, end, PRESENCE)) return "presence";
    if (startsWith(buf, start, end, WELCOME)) return "welcome";
    return "other";
  }
  // Our request ids are at most ~12 characters, so the ack tail is within the last 40 bytes.
  if (buf[end - 1] === 0x7d && includes(buf, end - 40, end, ACK_TAIL)) return "ack";
  return "other";
}

const dec = new TextDecoder();

/** Parses a line the slow way; undefined if it is not a JSON object. */
export function parseLine(
  buf: Uint8Array,
  start: number,
  end: number,
): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(dec.decode(buf.subarray(start, end)));
    return typeof v === "object" && v !== null && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
