/**
 * What the server's handlers see of a transfer, whatever kind it is: a live relay between two
 * sessions, an upload into the file store, or a delivery out of it. Frames name a transfer by
 * id; one from a session that is not on the frame's side of it is ignored.
 */
import type { ServerApi, Session } from "../types.ts";
import {
  CHUNK_BYTES,
  CHUNK_FRAME_BYTES,
  FileCancelled,
  MAX_TRANSFERS_PER_SESSION,
} from "./protocol.ts";

/** The share of a reader's send queue one transfer may fill with chunks in flight: 3/8 (8
 *  chunks at the default 1 MiB). A reader takes at most one live transfer and one delivery
 *  from the store at a time, so together they leave a quarter of the queue for chat. The
 *  window sets the speed: it is how much data is in flight per round trip of an ack. */
const WINDOW_SHARE = 3 / 8;
/** Live transfers one session receives at once; another file for it is kept by the server
 *  and delivered next (see WINDOW_SHARE). */
export const MAX_LIVE_INCOMING = 1;

/** The rule every hop checks a chunk against (relays, uploads, both halves between nodes):
 *  chunk `n` of `length` bytes is the next one, at most CHUNK_BYTES, within the offered
 *  `size` with the `sent` bytes before it, and at most `window` past the last acknowledged. */
export function chunkBreaksRules(
  n: number,
  length: number,
  at: { next: number; sent: number; acked: number; size: number; window: number },
): boolean {
  return n !== at.next || length > CHUNK_BYTES || at.sent + length > at.size ||
    n - at.acked > at.window;
}

export interface Flow {
  readonly id: string;
  /** The session that sends the chunks (relay, upload); the server itself for a delivery. */
  readonly from?: Session;
  /** The session that receives the chunks (relay, delivery); the server for an upload. */
  readonly to?: Session;
  /** A live transfer into `to` from a sender (here or on another node), which takes the
   *  reader's live slot; not a delivery out of the store. */
  readonly live?: boolean;
  /** From `from`: sendfile.chunk and sendfile.end. */
  chunk(n: number, data: Uint8Array | undefined): void;
  end(sha256: string, check: string | undefined): void;
  /** From `to`: sendfile.ack (true if it moved the window: a repeated or early one does not,
   *  and pays the frame budget) and sendfile.verdict. */
  ack(n: number): boolean;
  verdict(ok: boolean): void;
  /** Ends it unfinished because `by` cancelled or left (`why` says which), and tells the other
   *  side, if there is one; with no `by` (it stalled), tells both. */
  stop(by: Session | undefined, why: string): void;
}

export class Flows {
  readonly #all = new Map<string, Flow>();
  /** When each transfer last moved (a frame of it arrived). */
  readonly #moved = new Map<Flow, number>();
  readonly #mine: (s: Session) => Set<Flow>;
  #next = 1;
  /** Chunks a sender may have in flight beyond the last acknowledged one. */
  readonly window: number;

  constructor(readonly api: ServerApi) {
    this.#mine = api.sessionState(() => new Set<Flow>());
    this.window = Math.max(
      1,
      Math.floor((api.limits.sendQueueBytes * WINDOW_SHARE) / CHUNK_FRAME_BYTES),
    );
  }

  newId(): string {
    return `f${this.#next++}`;
  }

  add(f: Flow): void {
    this.#all.set(f.id, f);
    this.#moved.set(f, Date.now());
    for (const s of [f.from, f.to]) if (s) this.#mine(s).add(f);
  }

  remove(f: Flow): void {
    this.#all.delete(f.id);
    this.#moved.delete(f);
    for (const s of [f.from, f.to]) if (s) this.#mine(s).delete(f);
  }

  /** The transfer `id`, if `s` is on the given side of it (or either side). */
  find(id: string, s: Session, side?: "from" | "to"): Flow | undefined {
    const f = this.#all.get(id);
    if (!f) return undefined;
    const ok = side ? f[side] === s : f.from === s || f.to === s;
    if (ok) this.#moved.set(f, Date.now());
    return ok ? f : undefined;
  }

  /** Stops every transfer nothing moved in for `idleMs`: a peer that stopped sending or
   *  acknowledging must not hold a reader's live slot or the store's space for ever. */
  stopStalled(idleMs: number): void {
    const before = Date.now() - idleMs;
    for (const [f, at] of this.#moved) {
      if (at < before) f.stop(undefined, `nothing moved for ${Math.round(idleMs / 1000)} s`);
    }
  }

  of(s: Session): Flow[] {
    return [...this.#mine(s)];
  }

  /** Live transfers (not deliveries) coming in to `s`. */
  liveIncoming(s: Session): number {
    let n = 0;
    for (const f of this.#mine(s)) if (f.to === s && f.live) n++;
    return n;
  }

  /** May `s` start one more? */
  full(s: Session): boolean {
    return this.#mine(s).size >= MAX_TRANSFERS_PER_SESSION;
  }

  /** Tells sessions a transfer ended unfinished. */
  cancelled(
    id: string,
    to: Array<Session | undefined>,
    message: string,
    code = "TRANSFER_CANCELLED",
  ) {
    for (const s of to) if (s) this.api.send(s, FileCancelled, { file: id, code, message });
  }
}
