/**
 * One connection's outgoing side: a bounded byte queue drained by its own writer task.
 * `push` is synchronous and never awaits the socket, so a slow reader cannot stall whoever
 * sends to it; frames waiting together are coalesced into one write. A queue over its bound
 * calls `onOverflow` (the server disconnects that reader) instead of growing.
 */
export interface Writable {
  write(p: Uint8Array): Promise<number>;
}

export class Outbox {
  #chunks: Uint8Array[] = [];
  /** Bytes queued plus bytes of the write in flight: all the memory this reader pins. */
  #bytes = 0;
  #wake: (() => void) | undefined;
  #closing = false;
  #done: Promise<void>;

  constructor(
    private readonly sink: Writable,
    private readonly limit: number,
    private readonly onOverflow: () => void,
    private readonly onWriteError: (e: unknown) => void,
  ) {
    this.#done = this.#run();
  }

  get queuedBytes(): number {
    return this.#bytes;
  }

  /** Queues bytes; returns false if the outbox is closing or would overflow. */
  push(bytes: Uint8Array): boolean {
    if (this.#closing) return false;
    if (this.#bytes + bytes.length > this.limit) {
      this.#closing = true;
      this.#chunks = [];
      this.#wakeWriter();
      this.onOverflow();
      return false;
    }
    this.#chunks.push(bytes);
    this.#bytes += bytes.length;
    this.#wakeWriter();
    return true;
  }

  /** Stops accepting bytes; resolves once what was queued is written (or writing failed). */
  drain(): Promise<void> {
    this.#closing = true;
    this.#wakeWriter();
    return this.#done;
  }

  #wakeWriter() {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #run(): Promise<void> {
    try {
      while (true) {
        if (this.#chunks.length === 0) {
          if (this.#closing) return;
          await new Promise<void>((resolve) => (this.#wake = resolve));
          continue;
        }
        const batch = this.#chunks.length === 1 ? this.#chunks[0] : concat(this.#chunks);
        this.#chunks = [];
        let off = 0;
        while (off < batch.length) off += await this.sink.write(batch.subarray(off));
        this.#bytes -= batch.length;
      }
    } catch (e) {
      this.#closing = true;
      this.#chunks = [];
      this.onWriteError(e);
    }
  }
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
