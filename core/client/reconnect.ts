/**
 * When the client tries to reconnect after a drop. A student waits for the chat to come back,
 * and a server restart takes about a second, so during the first minute of an outage the
 * client tries at least once a second; after that it waits longer and longer (a tenth of the
 * time it has been offline, at most 30 s), so a class of clients does not hammer a server that
 * stays down. A random spread keeps clients from trying in lockstep. Typing cuts a wait short:
 * the person who wants to send is the best sign that it is worth trying now.
 */

import type { Ui } from "../../plugins/types.ts";
import { TrustError } from "./tls.ts";

/** The status line that says when the next try is (Ui.progress). */
const OFFLINE_STATUS = "reconnect";

/** The first try: a drop is often a blip, so almost at once. */
export const RECONNECT_FIRST_MS = 250;
/** The longest wait between tries during the first RECONNECT_FAST_FOR_MS of an outage: the
 *  client is back within a second of the server. */
export const RECONNECT_FAST_MS = 1000;
export const RECONNECT_FAST_FOR_MS = 60_000;
/** The longest wait between tries later on. */
export const RECONNECT_MAX_MS = 30_000;

export class Backoff {
  #since = 0;
  #attempt = 0;
  #wake: (() => void) | undefined;
  /** Woken while not waiting (during a try): the next wait is skipped. */
  #woken = false;
  /** When the next try is due (Date.now() ms): set while waiting for it. */
  #nextAt: number | undefined;
  /** True from a drop until the session is back (see start, stop). */
  offline = false;

  /** The connection dropped: count the outage from now. */
  start(): void {
    this.#since = performance.now();
    this.#attempt = 0;
    this.#woken = false;
    this.offline = true;
  }

  /** The session is back (or over). */
  stop(ui: Ui): void {
    this.offline = false;
    this.#nextAt = undefined;
    ui.progress(OFFLINE_STATUS, undefined);
  }

  /**
   * Tries `connect` until it works (true), says it cannot (false, returned as is: the login
   * was refused), or fails in a way not worth retrying (a changed server key, returned);
   * undefined if `over` resolved first. Tries come at least once a second for the first
   * minute, so the wait is said in the first notice, for waits over a second, and in the
   * status line; a failed try only when its reason changes.
   */
  async retry(
    ui: Ui,
    over: Promise<unknown>,
    connect: () => Promise<boolean>,
  ): Promise<boolean | TrustError | undefined> {
    this.start();
    let why = "";
    while (true) {
      const { attempt, delay } = this.next();
      const when = `${(delay / 1000).toFixed(1)} s`;
      if (attempt === 1 || delay > RECONNECT_FAST_MS) {
        ui.notice(`reconnecting in ${when} (attempt ${attempt})`);
      }
      ui.progress(
        OFFLINE_STATUS,
        `offline: next try in ${when} (attempt ${attempt}); type to try now`,
      );
      if (await this.sleep(delay, over)) return undefined;
      try {
        return await connect();
      } catch (e) {
        if (e instanceof TrustError) return e;
        const now = e instanceof Error ? e.message : String(e);
        if (now !== why) ui.notice(`still offline: ${now}`);
        why = now;
      }
    }
  }

  /** When the next try is, in words. */
  nextTry(): string {
    if (this.#nextAt === undefined) return "reconnecting now";
    return `next try in ${(Math.max(0, this.#nextAt - Date.now()) / 1000).toFixed(1)} s`;
  }

  /** The next try's number and how long to wait for it. */
  next(): { attempt: number; delay: number } {
    const attempt = ++this.#attempt;
    const offline = performance.now() - this.#since;
    if (attempt === 1) return { attempt, delay: spread(RECONNECT_FIRST_MS, 0.5) };
    // Within the first minute: from half a second to one, never more.
    if (offline < RECONNECT_FAST_FOR_MS) return { attempt, delay: spread(RECONNECT_FAST_MS, 0.5) };
    const later = Math.min(RECONNECT_MAX_MS, Math.max(RECONNECT_FAST_MS, offline / 10));
    return { attempt, delay: spread(later, 0.75) };
  }

  /** Waits ms, or less if woken (wake) or `over` resolves; true if `over` did. */
  async sleep(ms: number, over: Promise<unknown>): Promise<boolean> {
    if (this.#woken) ms = 0;
    this.#woken = false;
    this.#nextAt = Date.now() + ms;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = await Promise.race([
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), ms);
        this.#wake = () => r(false);
      }),
      over.then(() => true),
    ]);
    clearTimeout(timer);
    this.#wake = undefined;
    this.#nextAt = undefined;
    return done;
  }

  /** Ends the current wait now, or skips the next one if a try is under way; nothing while
   *  online. */
  wake(): void {
    if (!this.offline) return;
    const w = this.#wake;
    this.#wake = undefined;
    if (w) w();
    else this.#woken = true;
  }
}

/** ms scaled by a random factor from `low` to 1. */
function spread(ms: number, low: number): number {
  return Math.round(ms * (low + Math.random() * (1 - low)));
}
