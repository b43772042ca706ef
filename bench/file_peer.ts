/**
 * The file workload's bytes and clients. FileSource makes a file of any size from one 1 MiB
 * random buffer, so nothing ever holds the file. FileSender streams it with the sendfile
 * protocol within the credit window; FileReceiver checks order, size and SHA-256 like the real
 * client, without disk. Frames go through the plugin's own specs, so drift shows at once.
 */
import { createHash } from "node:crypto";
import * as sf from "../plugins/sendfile/protocol.ts";
import type { MessageSpec, RawFrame } from "../protocol/spec.ts";
import { parseBinaryFrame } from "../protocol/core.ts";
import { encodeBinaryFrame } from "../protocol/framing.ts";
import { type FrameKind, parseLine } from "./client.ts";
import { type ErrorTally, Peer } from "./peer.ts";
import type { Stopper } from "./wait.ts";

/** The raw baseline's write size, the same as the server's chunk, so both cut alike. */
export const PIECE_BYTES = 32 * 1024;
/** Random bytes behind every piece (a view, never a copy), filled 64 KiB at a time: the limit
 *  of crypto.getRandomValues. */
const RANDOM_BYTES = 1024 * 1024;
const FILL_BYTES = 64 * 1024;
/** Offset step between pieces, coprime to the buffer size: the stream does not repeat every MiB
 *  (a compressing or deduplicating path would flatter the figures). */
const OFFSET_STEP = 40_503;

const enc = new TextEncoder();

export class FileSource {
  readonly #buf = new Uint8Array(RANDOM_BYTES);

  constructor(readonly size: number) {
    for (let off = 0; off < RANDOM_BYTES; off += FILL_BYTES) {
      crypto.getRandomValues(this.#buf.subarray(off, off + FILL_BYTES));
    }
  }

  /** Pieces of `piece` bytes in the file: an empty file is still one (empty) chunk. */
  count(piece: number): number {
    return Math.max(1, Math.ceil(this.size / piece));
  }

  /** Piece k of the file cut into `piece`-byte pieces (the last may be shorter). */
  piece(k: number, piece: number): Uint8Array {
    if (piece < 1 || piece > RANDOM_BYTES) throw new RangeError(`piece of ${piece} bytes`);
    const len = Math.max(0, Math.min(piece, this.size - k * piece));
    const off = (k * OFFSET_STEP) % (RANDOM_BYTES - piece + 1);
    return this.#buf.subarray(off, off + len);
  }
}

/** One frame as a line, typed by its spec (the server's frameOf, without the core import). */
function line(spec: MessageSpec<unknown>, body: Record<string, unknown>): string {
  return JSON.stringify({ type: spec.type, ...body }) + "\n";
}

/** What both clients share: frames parsed into specs, failures stopping the whole run. */
abstract class FilePeer extends Peer {
  constructor(name: string, errors: ErrorTally, readonly stopper: Stopper) {
    super(name, errors, stopper.stop);
  }

  /** A sendfile frame, decoded; false if it is not one of ours (the base class handles it). */
  protected abstract sendfile(f: RawFrame): boolean;

  protected override frame(kind: FrameKind, buf: Uint8Array, start: number, end: number): void {
    // The base class drops acks after login; here an ack can answer the offer.
    if (kind !== "ack" || !this.loggedIn) return super.frame(kind, buf, start, end);
    const f = parseLine(buf, start, end);
    if (f === undefined) this.errors.add("BENCH_UNPARSEABLE_FRAME");
    else this.parsed(f);
  }

  protected override parsed(frame: Record<string, unknown>): void {
    const f = frame as RawFrame;
    try {
      if (f.type === sf.FileCancelled.type) {
        const c = sf.FileCancelled.decode(f);
        return this.stopper.stop(`${this.name} got sendfile.cancelled: ${c.code}: ${c.message}`);
      }
      if (this.sendfile(f)) return;
    } catch (e) {
      this.errors.add("BENCH_BAD_FRAME");
      const why = e instanceof Error ? e.message : String(e);
      return this.stopper.stop(`${this.name}: bad ${f.type} frame: ${why}`);
    }
    super.parsed(f);
  }

  /** A failed write needs no handling here: the closed connection reports itself (onLost). */
  protected write(text: string): Promise<boolean> {
    return this.client!.write(enc.encode(text));
  }
}

export class FileSender extends FilePeer {
  /** From the offer's ack: the transfer id, bytes per chunk, chunks allowed past the credit. */
  file: string | undefined;
  chunkBytes = 0;
  window = 0;
  /** Highest chunk the receiver acknowledged (-1: none yet), credits seen, chunks written. */
  credit = -1;
  credits = 0;
  chunks = 0;
  sha256: string | undefined;
  verifiedOk: boolean | undefined;
  /** performance.now() of each step; ackAt starts the clock, verifiedAt stops it. */
  offerAt: number | undefined;
  ackAt: number | undefined;
  lastChunkAt: number | undefined;
  verifiedAt: number | undefined;
  readonly #ack = Promise.withResolvers<void>();
  readonly #verified = Promise.withResolvers<void>();
  #wake: (() => void) | undefined;

  constructor(name: string, errors: ErrorTally, stopper: Stopper, readonly source: FileSource) {
    super(name, errors, stopper);
    // One wake-up on failure for the whole run: racing every wait against the stopper would
    // leave a reaction on it per wait, tens of thousands in a long run.
    void stopper.until(new Promise(() => {})).then(() => this.#wakeUp());
  }

  #wakeUp(): void {
    this.#wake?.();
    this.#wake = undefined;
  }

  /** Offers the file to `to`; returns once the server acked it (or the run stopped). */
  async offer(to: string): Promise<void> {
    const size = this.source.size;
    this.offerAt = performance.now();
    await this.write(line(sf.FileOffer, { id: "offer", to, name: "bench.bin", size }));
    await this.stopper.until(this.#ack.promise);
  }

  /** Streams every chunk within the window, then the end; returns once verified (or stopped). */
  async send(): Promise<void> {
    const client = this.client!;
    const hash = createHash("sha256");
    const total = this.source.count(this.chunkBytes);
    for (let n = 0; n < total; n++) {
      // Awaiting here is the flow control: a credit (or a failure) wakes us.
      while (n - this.credit > this.window && !this.stopper.stopped) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
      if (this.stopper.stopped || client.closed) return;
      const piece = this.source.piece(n, this.chunkBytes);
      hash.update(piece);
      // As the real client sends them: a binary frame, the bytes unencoded.
      const chunk = encodeBinaryFrame({ type: sf.FileChunk.type, file: this.file, n }, piece);
      if (!(await client.write(chunk))) {
        return this.stopper.stop(`${this.name}: writing chunk ${n} failed`);
      }
      this.chunks++;
    }
    this.lastChunkAt = performance.now();
    this.sha256 = hash.digest("hex");
    await this.write(line(sf.FileEnd, { file: this.file, sha256: this.sha256 }));
    await this.stopper.until(this.#verified.promise);
  }

  protected sendfile(f: RawFrame): boolean {
    if (f.type === "ack" && f.re === "offer") {
      const a = sf.FileOffer.decodeAck(f);
      this.ackAt = this.now;
      this.file = a.file;
      this.chunkBytes = a.chunk;
      this.window = a.window;
      this.#ack.resolve();
    } else if (f.type === "error" && f.re === "offer") {
      this.stopper.stop(`sendfile.offer refused: ${f.code}: ${f.message}`);
      return false; // the base class counts the error code
    } else if (f.type === sf.FileCredit.type) {
      const c = sf.FileCredit.decode(f);
      if (c.file !== this.file) return true;
      this.credits++;
      if (c.n > this.credit) this.credit = c.n;
      this.#wakeUp();
    } else if (f.type === sf.FileVerified.type) {
      // Servers before stored files send no `name`; it names the file, which we know.
      const v = sf.FileVerified.decode({ name: "bench.bin", ...f });
      if (v.file !== this.file) return true;
      this.verifiedAt = this.now;
      this.verifiedOk = v.ok;
      this.#verified.resolve();
    } else return false;
    return true;
  }
}

export class FileReceiver extends FilePeer {
  /** From sendfile.incoming: the transfer id and its size. */
  file: string | undefined;
  size: number | undefined;
  /** Next chunk index expected, bytes received; our SHA-256 and the one the sender claimed. */
  next = 0;
  bytes = 0;
  sha256: string | undefined;
  claimed: string | undefined;
  lastChunkAt: number | undefined;
  readonly #hash = createHash("sha256");
  /** Acks made while reading one batch of frames go out in one write after it. */
  #out = "";
  #writing = false;

  constructor(name: string, errors: ErrorTally, stopper: Stopper, readonly sender: string) {
    super(name, errors, stopper);
    // Reads chunks as binary frames, like the real client.
    this.onBinary = (bytes) => {
      try {
        this.parsed(parseBinaryFrame(bytes));
      } catch {
        this.errors.add("BENCH_UNPARSEABLE_FRAME");
      }
    };
  }

  /** After each read: one write for what it produced, and again for what came meanwhile. */
  async afterChunk(): Promise<void> {
    if (this.#out === "" || this.#writing) return;
    const s = this.#out;
    this.#out = "";
    this.#writing = true;
    await this.write(s);
    this.#writing = false;
    return this.afterChunk();
  }

  protected sendfile(f: RawFrame): boolean {
    if (f.type === sf.FileChunk.type) {
      const c = sf.FileChunk.decode(f);
      if (c.file !== this.file) return true;
      const bytes = c.data;
      if (!bytes) throw new Error(`chunk ${c.n} is not base64`);
      if (c.n !== this.next || this.bytes + bytes.length > this.size!) {
        throw new Error(`chunk ${c.n} out of order or past the size (expected ${this.next})`);
      }
      this.#hash.update(bytes);
      this.next++;
      this.bytes += bytes.length;
      this.lastChunkAt = this.now;
      // One ack per chunk, like the real client: the server relays each as a credit.
      this.#out += line(sf.FileAck, { file: c.file, n: c.n });
    } else if (f.type === sf.FileIncoming.type) {
      const i = sf.FileIncoming.decode(f);
      if (i.from !== this.sender) return true;
      this.file = i.file;
      this.size = i.size;
    } else if (f.type === sf.FileEnd.type) {
      const e = sf.FileEnd.decode(f);
      if (e.file !== this.file) return true;
      this.sha256 = this.#hash.digest("hex");
      this.claimed = e.sha256;
      const ok = this.bytes === this.size && this.sha256 === e.sha256;
      this.#out += line(sf.FileVerdict, { file: e.file, ok });
    } else return false;
    return true;
  }
}
