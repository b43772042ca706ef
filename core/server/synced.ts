/**
 * State a plugin keeps in memory and in the store, kept the same on every node of a cluster
 * (the hands line, the queue, open polls, named staff): the store is the truth and memory its
 * copy. A handler changes memory first (its checks and the change are one synchronous step),
 * then writes through `write`; once written, the other nodes are told on the bus and read the
 * state again (`read`, then `apply`). A snapshot is never applied while a write of this node
 * is under way, nor if one ended during its read: it might lack that write, and would undo
 * in memory what is in the store. It is read again once the writes are done. A message lost
 * (NATS reconnecting) or a read that failed is made good at the bus's next resync (every
 * 30 s, and when NATS is back). On one node the bus tells nobody and nothing is read again.
 */
/** What it needs of the plugin's bus (ServerApi.bus). */
interface Bus {
  readonly clustered: boolean;
  publish(topic: string, msg: unknown): void;
  subscribe(topic: string, fn: (msg: unknown) => void): void;
  onResync(fn: () => void): void;
}

/** Reads `fresh` tries before it answers from memory as it is. */
const FRESH_TRIES = 3;

export class Synced<T> {
  /** Writes of this node under way, and how many have ended. */
  #pending = 0;
  #ended = 0;
  /** A reload is due once no write is under way. */
  #due = false;
  #reading = false;

  constructor(
    readonly bus: Bus,
    /** Reads the state from the store. */
    readonly read: () => Promise<T>,
    /** Replaces memory with what was read. */
    readonly apply: (state: T) => void,
    readonly onError: (e: unknown) => void,
    /** The bus topic, in the plugin's namespace (`hands.synced`); a plugin with two kinds of
     *  state names each its own. */
    readonly topic = "synced",
  ) {
    bus.subscribe(topic, () => this.reload());
    bus.onResync(() => this.reload());
  }

  /** The store changed under this node's feet (the operator's command, read at a login):
   *  the other nodes read it again too. */
  announce(): void {
    this.bus.publish(this.topic, {});
  }

  /** Runs a write of a change already made in memory; once it is in the store, the other
   *  nodes are told. A failed write tells nobody (the caller puts memory back). */
  async write<R>(fn: () => Promise<R>): Promise<R> {
    this.#pending++;
    try {
      const r = await fn();
      this.bus.publish(this.topic, {});
      return r;
    } finally {
      this.#pending--;
      this.#ended++;
      if (this.#due && this.#pending === 0) this.reload();
    }
  }

  /** In a cluster, reads the state now, for an answer that must count what another node
   *  just changed (a place in a line); at once on one node. Raced by writes here every time
   *  it tries, or unable to read, it leaves memory as it is; it never throws. */
  async fresh(): Promise<void> {
    if (!this.bus.clustered) return;
    try {
      for (let i = 0; i < FRESH_TRIES; i++) {
        const ended = this.#ended;
        const state = await this.read();
        if (this.#pending === 0 && this.#ended === ended) return this.apply(state);
      }
    } catch (e) {
      this.onError(e); // the store is out of reach: answer from memory as it is
    }
  }

  /** Reads the state again (another node changed it), when no write of this node is under
   *  way; asked again while reading, it reads once more after. */
  reload(): void {
    this.#due = true;
    if (this.#reading || this.#pending > 0) return;
    this.#reading = true;
    (async () => {
      while (this.#due && this.#pending === 0) {
        this.#due = false;
        const ended = this.#ended;
        const state = await this.read();
        if (this.#pending > 0 || this.#ended !== ended) this.#due = true;
        else this.apply(state);
      }
    })().catch(this.onError).finally(() => (this.#reading = false));
  }
}
