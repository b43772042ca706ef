/**
 * Waiting that a failure can cut short: a workload sleeps through its phases with `pause`,
 * and the first connection the server drops calls `stop`, so a dead server ends the run at
 * once instead of after the full measuring window.
 */

export class Stopper {
  reason: string | undefined;
  #wake!: () => void;
  readonly #stopped = new Promise<void>((resolve) => (this.#wake = resolve));

  get stopped(): boolean {
    return this.reason !== undefined;
  }

  /** Records the first reason only: later ones are usually consequences of it. */
  stop = (reason: string): void => {
    this.reason ??= reason;
    this.#wake();
  };

  /** Resolves after `ms`, or as soon as stop is called. */
  pause(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
      this.#stopped,
    ]).finally(() => clearTimeout(timer));
  }

  /** Resolves when `p` settles, or as soon as stop is called. */
  until(p: Promise<unknown>): Promise<void> {
    return Promise.race([p.then(() => {}, () => {}), this.#stopped]);
  }
}
