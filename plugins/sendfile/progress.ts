/** A transfer's live progress line (percent, bytes, rate, time left), redrawn at most five
 *  times a second; and the same figures for the line at the end. */
import type { Ui } from "../types.ts";
import { sizeText } from "./protocol.ts";

const REDRAW_MS = 200;

export class Progress {
  readonly #start = Date.now();
  #last = 0;

  constructor(
    readonly ui: Ui,
    readonly id: string,
    readonly label: string,
    readonly total: number,
  ) {}

  update(done: number): void {
    const now = Date.now();
    if (now - this.#last < REDRAW_MS) return;
    this.#last = now;
    const rate = done / Math.max(0.001, (now - this.#start) / 1000);
    const pct = this.total ? Math.floor((done * 100) / this.total) : 100;
    const left = rate > 0 ? `, ${duration((this.total - done) / rate)} left` : "";
    this.ui.progress(
      this.id,
      `${this.label}: ${pct}%, ${sizeText(done)} of ${sizeText(this.total)}, ` +
        `${sizeText(rate)}/s${left}`,
    );
  }

  /** Removes the line; returns "in 3.2 s, 9.1 MB/s" for the closing message. */
  finish(): string {
    this.ui.progress(this.id, undefined);
    const secs = (Date.now() - this.#start) / 1000;
    const rate = this.total / Math.max(0.001, secs);
    return `in ${duration(secs)}, ${sizeText(rate)}/s`;
  }
}

/** `0.4 s`, `12 s`, `3 min 5 s`, `1 h 2 min`. */
export function duration(secs: number): string {
  if (secs < 10) return `${secs.toFixed(1)} s`;
  if (secs < 60) return `${Math.round(secs)} s`;
  const m = Math.floor(secs / 60);
  if (m < 60) return `${m} min ${Math.round(secs % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
