/**
 * One connection's outgoing side: a bounded byte queue drained by its own writer task.
 * `push` is synchronous and never awaits the socket, so a slow reader cannot stall whoever
 * sends to it; frames waiting together are coalesced into one write. The writer runs only
 * while there is something to write (started a microtask after the first push, so the pushes
 * of one turn go out in one write) and ends when the queue is empty: an idle connection holds
 * no task, no promise and no closure for it. A queue over its bound
 * calls `onOverflow` (the server disconnects that reader) instead of growing.
 */
export interface Writable {
  write(p: Uint8Array): Promise<number>;
}

export class Outbox {
  #chunks: Uint8Array[] = [];
  /** Bytes queued plus bytes of the write in flight: all the memory this reader pins. */
  #bytes = 0;
  #closing = false;
  /** The writer while it runs; undefined when the queue is empty and nothing is in flight. */
  #writing: Promise<void> | undefined;
  /** Callers of whenBelow, woken after each write (few: one per long stream). */
  #waiters: Array<{ bytes: number; resolve: () => void }> = [];

  constructor(
    private readonly sink: Writable,
    private readonly limit: number,
    private readonly onOverflow: () => void,
    private readonly onWriteError: (e: unknown) => void,
    /** Told of each piece queued on its own once it is written (buffer_pool.ts). */
    private readonly written: (piece: Uint8Array) => void = () => {},
  ) {}

  get queuedBytes(): number {
    return this.#bytes;
  }

  /** Resolves once at most `bytes` are queued, or the outbox is closing (nothing more will
   *  be written, so waiting longer is pointless). */
  whenBelow(bytes: number): Promise<void> {
    if (this.#bytes <= bytes || this.#closing) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ bytes, resolve }));
  }

  /** Queues bytes; returns false if the outbox is closing or would overflow. */
  push(bytes: Uint8Array): boolean {
    if (this.#closing) return false;
    if (this.#bytes + bytes.length > this.limit) {
      this.#closing = true;
      this.#chunks = [];
      this.onOverflow();
      return false;
    }
    this.#chunks.push(bytes);
    this.#bytes += bytes.length;
    this.#writing ??= Promise.resolve().then(() => this.#run());
    return true;
  }

  /** Stops accepting bytes; resolves once what was queued is written (or writing failed). */
  drain(): Promise<void> {
    this.#closing = true;
    return this.#writing ?? Promise.resolve();
  }

  async #run(): Promise<void> {
    try {
      // No await between finding the queue empty and ending: a push after that starts anew.
      while (this.#chunks.length > 0) {
        const chunks = this.#chunks;
        this.#chunks = [];
        for (const batch of batches(chunks)) {
          let off = 0;
          while (off < batch.length) off += await this.sink.write(batch.subarray(off));
          this.#bytes -= batch.length;
          if (batch.length >= WRITE_ALONE_BYTES) this.written(batch);
          if (this.#waiters.length) this.#wakeWaiters();
        }
      }
    } catch (e) {
      this.#closing = true;
      this.#chunks = [];
      this.onWriteError(e);
    } finally {
      this.#writing = undefined;
      this.#wakeWaiters();
    }
  }

  #wakeWaiters() {
    const ready = this.#waiters.filter((w) => this.#closing || this.#bytes <= w.bytes);
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}

/** Pieces this large are written as they are, never copied into a batch: a file chunk's bytes
 *  (a binary frame's body, queued apart from its header) would otherwise be copied once more
 *  per chunk, and those copies are memory outside V8's heap, which it collects late. */
const WRITE_ALONE_BYTES = 8 * 1024;

/** What is queued, as writes: each run of small pieces joined into one, large pieces alone. */
function batches(chunks: Uint8Array[]): Uint8Array[] {
  if (chunks.length === 1) return chunks;
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  const flush = () => {
    if (run.length) out.push(run.length === 1 ? run[0] : concat(run));
    run = [];
  };
  for (const c of chunks) {
    if (c.length >= WRITE_ALONE_BYTES) {
      flush();
      out.push(c);
    } else run.push(c);
  }
  flush();
  return out;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
