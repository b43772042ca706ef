/**
 * The soak workload's delivery bookkeeping: the counters summed across all clients, and the
 * Ledger of deliveries each acked message promised against those that arrived.
 */

/** Counters across all clients. */
export class SoakCounts {
  dmSent = 0;
  dmAcked = 0;
  /** Acked "stored": the receiver was away. */
  dmStored = 0;
  dmRefused = 0;
  /** First deliveries, and those of them replayed as "missed" at a login. */
  dmDelivered = 0;
  dmMissed = 0;
  postSent = 0;
  postAcked = 0;
  postRefused = 0;
  /** Deliveries the post acks promised (sent + stored), and first deliveries made. */
  postOwed = 0;
  postDelivered = 0;
  postMissed = 0;
  /** presence.who, groups.members and session.ping requests. */
  otherSent = 0;
  otherAcked = 0;
  otherRefused = 0;
  /** Shown before but not acknowledged when the client left: replayed, as it should be. */
  redelivered = 0;
  /** Delivered again although acknowledged, or out of seq order within a session. */
  duplicates = 0;
  /** Messages whose text is not one of ours. */
  unexpected = 0;
  /** Requests whose answer was lost with a dropped connection. */
  unanswered = 0;
  logins = 0;
  reconnects = 0;
  resumes = 0;
  passwordLogins = 0;
  loginRetries = 0;
  cleanQuits = 0;
  abruptCloses = 0;
  drops = 0;
  summaries = 0;
  presenceFrames = 0;
  joinedNotices = 0;
  sessionAcks = 0;
}

/** Deliveries owed per message: +n when an ack promises n, -1 per first delivery (which may
 *  overtake its ack: the sender and the receiver read on different connections). */
export class Ledger {
  readonly #owed: Record<"dm" | "post", Map<number, number>> = { dm: new Map(), post: new Map() };
  /** Messages whose request lost its answer with its connection: either fate is fine. */
  readonly #uncertain = new Set<number>();
  #last = 0;

  newId(): number {
    return ++this.#last;
  }

  owe(kind: "dm" | "post", id: number, n: number): void {
    if (!this.#uncertain.has(id)) this.#add(kind, id, n);
  }

  delivered(kind: "dm" | "post", id: number): void {
    if (!this.#uncertain.has(id)) this.#add(kind, id, -1);
  }

  forget(kind: "dm" | "post", id: number): void {
    this.#uncertain.add(id);
    this.#owed[kind].delete(id);
  }

  /** Deliveries promised and not made. */
  undelivered(kind: "dm" | "post"): number {
    let n = 0;
    for (const v of this.#owed[kind].values()) if (v > 0) n += v;
    return n;
  }

  /** Deliveries made that no ack promised (so far: an ack may still be on its way). */
  unpromised(kind: "dm" | "post"): number {
    let n = 0;
    for (const v of this.#owed[kind].values()) if (v < 0) n -= v;
    return n;
  }

  #add(kind: "dm" | "post", id: number, n: number): void {
    const m = this.#owed[kind];
    const v = (m.get(id) ?? 0) + n;
    if (v === 0) m.delete(id);
    else m.set(id, v);
  }
}
