/**
 * One async mutex: `run(fn)` calls fn once every fn run before it has settled, in call order
 * (FIFO). A fn that throws or rejects fails only its own caller; the next one still runs.
 * Only the last link is kept, so a long chain holds nothing of the links already run.
 */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => T | Promise<T>): Promise<T> {
    const p = this.#tail.then(() => fn());
    this.#tail = p.catch(() => {});
    return p;
  }

  /** Resolves once every fn run so far has settled (never rejects). */
  idle(): Promise<void> {
    return this.#tail.then(() => {});
  }
}
