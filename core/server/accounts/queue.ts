/**
 * One account's slowdown queue (budget.ts): password logins from addresses the account never
 * logged in from are served one at a time, `gap` ms apart, in arrival order. Each address
 * holds at most one place (budget.ts refuses a second), and a place left unused goes to the
 * next in line at once, so the queue is only as long as the number of addresses in it.
 */

/** A place in the queue: `turn` resolves when it is served (undefined: served at once). */
export interface Place {
  readonly turn: Promise<void> | undefined;
  /** Gives the place up: leaves the line, or, once served, hands the turn to the next. */
  leave(): void;
}

interface Waiter {
  address: string;
  go: () => void;
}

export class TurnQueue {
  /** When the next turn may start: when the last one was served, plus `gap`. */
  #next = 0;
  readonly #waiting: Waiter[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly gap: number) {}

  /** Milliseconds a place taken now would wait for its turn. */
  waitFor(now = Date.now()): number {
    return Math.max(0, this.#next - now) + this.#waiting.length * this.gap;
  }

  /** Whether `address` already waits in this queue. */
  holds(address: string): boolean {
    return this.#waiting.some((w) => w.address === address);
  }

  /** Takes a place for `address`: served at once if the queue is free, else in turn. */
  take(address: string, now = Date.now()): Place {
    if (this.#waiting.length === 0 && this.#next <= now) {
      const ends = this.#next = now + this.gap;
      return { turn: undefined, leave: () => this.#giveBack(ends) };
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    let ends: number | undefined; // set when served
    const waiter: Waiter = {
      address,
      go: () => {
        ends = this.#next;
        resolve();
      },
    };
    this.#waiting.push(waiter);
    this.#arm();
    return {
      turn: promise,
      leave: () => {
        if (ends !== undefined) return this.#giveBack(ends);
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
        if (this.#waiting.length === 0) this.#disarm();
      },
    };
  }

  /** Serves everyone waiting at once: the queue is being forgotten (budget.ts bounds the
   *  accounts it tracks), and nobody may be left waiting for a turn that never comes. */
  releaseAll(): void {
    this.#disarm();
    for (const w of this.#waiting.splice(0)) w.go();
  }

  /** The turn that set #next to `ends` went unused: the next in line goes now. */
  #giveBack(ends: number) {
    if (this.#next !== ends) return; // a later turn has begun already
    this.#next = Date.now();
    this.#disarm();
    this.#arm();
  }

  #arm() {
    if (this.#timer !== undefined || this.#waiting.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const now = Date.now();
      if (this.#next <= now) {
        this.#next = now + this.gap;
        this.#waiting.shift()!.go();
      }
      this.#arm();
    }, Math.max(0, this.#next - Date.now()));
  }

  #disarm() {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
