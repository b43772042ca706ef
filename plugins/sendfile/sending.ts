/** The sending side of one transfer, a client's or the server's delivering a kept file: the
 *  credit window, and how it ends. */
import { ChatError, ERROR_CODE_PATTERN } from "../../protocol/errors.ts";

/** How a transfer ended well: the receiver's verdict, or the server kept the file. */
export type Outcome =
  | { kind: "verified"; by: string; ok: boolean }
  | { kind: "stored"; to: string; now: number; later: number };

export class Outgoing {
  /** Highest chunk index the receiver acknowledged (-1: none yet). */
  #acked = -1;
  #wake: (() => void) | undefined;
  #failure: ChatError | undefined;
  #finished = false;
  #settle!: { resolve(v: Outcome): void; reject(e: unknown): void };
  /** The receiver's verdict, or the reason the transfer ended unfinished. */
  readonly result = new Promise<Outcome>((resolve, reject) => (this.#settle = { resolve, reject }));

  constructor(readonly window: number) {
    this.result.catch(() => {}); // awaited by the sender; never an unhandled rejection
  }

  /** The transfer ended well (or with a verdict) before every chunk went: send no more. */
  get finished(): boolean {
    return this.#finished;
  }

  /** Resolves when chunk n may be sent (fewer than `window` unacknowledged before it), or
   *  the transfer is finished; throws if it failed. */
  async room(n: number): Promise<void> {
    while (n - this.#acked > this.window && !this.#finished) {
      if (this.#failure) throw this.#failure;
      await new Promise<void>((r) => (this.#wake = r));
    }
    if (this.#failure) throw this.#failure;
  }

  /** Takes the receiver's ack of chunks up to n; false if it moved nothing. */
  credit(n: number): boolean {
    if (n <= this.#acked) return false;
    this.#acked = n;
    this.#wakeUp();
    return true;
  }

  finish(v: Outcome): void {
    this.#finished = true;
    this.#settle.resolve(v);
    this.#wakeUp();
  }

  fail(message: string, code = "TRANSFER_CANCELLED"): void {
    const c = ERROR_CODE_PATTERN.test(code) ? code : "TRANSFER_CANCELLED";
    this.#failure ??= new ChatError(c, message);
    this.#settle.reject(this.#failure);
    this.#wakeUp();
  }

  #wakeUp() {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }
}

/** Reads until `buf` is full or the file ends; returns the bytes read. */
export async function readChunk(file: Deno.FsFile, buf: Uint8Array): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const n = await file.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  return got;
}
