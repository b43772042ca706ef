/**
 * Buffers for binary frames (file chunks), used again once written. A relayed chunk is read
 * into one, queued to its receiver as it is, and handed back when the write is done; without
 * this every 32 KiB chunk is a new buffer outside V8's heap, which V8 collects late: moving a
 * 200 MiB file grew the server by 70 MiB in some runs and 47 in others, where these bound it.
 * A buffer not handed back (a chunk kept on disk, a reader cut off) is simply garbage.
 */

/** Each buffer's size: a binary frame at the default frame limit (64 KiB) fits. */
const BUFFER_BYTES = 64 * 1024 + 8;
/** Buffers kept for reuse at most: 8 transfers' credit windows; more are left to the GC. */
const MAX_KEPT = 64;

const free: ArrayBuffer[] = [];
/** Buffers out of the pool now: only these are taken back (once each). */
const lent = new WeakSet<ArrayBuffer>();

/** `n` bytes, from the pool when they fit. */
export function takeBuffer(n: number): Uint8Array {
  if (n > BUFFER_BYTES) return new Uint8Array(n);
  const b = free.pop() ?? new ArrayBuffer(BUFFER_BYTES);
  lent.add(b);
  return new Uint8Array(b, 0, n);
}

/** Takes back the buffer under `piece` if it came from the pool: its bytes may be reused. */
export function giveBack(piece: Uint8Array): void {
  const b = piece.buffer as ArrayBuffer;
  if (!lent.has(b)) return;
  lent.delete(b);
  if (free.length < MAX_KEPT) free.push(b);
}
