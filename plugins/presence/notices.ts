/**
 * Join/leave notices to one user, coalesced: the first goes out at once and opens a window;
 * what comes for that user while it is open goes out in one frame when it closes (one notice
 * alone keeps its usual frame), and the window stays open while notices keep coming. So a class
 * logging in costs each person at most one frame per window, not one per classmate.
 */
import type { ServerApi, Session } from "../types.ts";
import { count } from "../../protocol/settings.ts";
import { PresenceChanges, PresenceJoined, PresenceLeft, SHOWN_NAMES } from "./protocol.ts";

/** The presence window (`serve --presence-window <ms>`). One second: a single login is still
 *  shown at once, and a lecture hall logging in (a minute or so) is one line a second at most
 *  per person, readable, instead of one per classmate. 0 sends every notice on its own. */
export const DEFAULT_PRESENCE_WINDOW_MS = 1000;
/** The largest window the option takes: longer would make notices stale. */
export const MAX_PRESENCE_WINDOW_MS = 60_000;
/** `serve --presence-window <ms>`. */
export const PRESENCE_WINDOW = count({
  flag: "--presence-window <ms>",
  help: "join/leave notices to one person within this time go out as one (0: never combine; " +
    `up to ${MAX_PRESENCE_WINDOW_MS})`,
  default: DEFAULT_PRESENCE_WINDOW_MS,
  min: 0,
  max: MAX_PRESENCE_WINDOW_MS,
  unit: "ms",
});

/** A change for one recipient: `name` joined, or left (with the reason). */
interface Change {
  name: string;
  left?: string;
}

interface Window {
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Lower-cased name -> its latest change: one who joins and leaves within a window is told
   *  once, as they are now. */
  pending: Map<string, Change>;
}

export class Notices {
  readonly #state: (s: Session) => Window;
  /** Recipients with an open window, to stop their timers at logout and shutdown. */
  readonly #open = new Set<Session>();

  constructor(private readonly api: ServerApi, private readonly windowMs: number) {
    this.#state = api.sessionState<Window>(() => ({ timer: undefined, pending: new Map() }));
  }

  /** Tells `to` (online) of a change. */
  tell(to: Session, change: Change): void {
    if (this.windowMs === 0) return this.#send(to, [change]);
    const w = this.#state(to);
    if (w.timer === undefined) {
      this.#send(to, [change]);
      this.#arm(to, w);
      return;
    }
    const key = change.name.toLowerCase();
    w.pending.delete(key);
    w.pending.set(key, change);
  }

  /** `s` logged out: its window, if open, is dropped. */
  forget(s: Session): void {
    if (!this.#open.delete(s)) return;
    const w = this.#state(s);
    clearTimeout(w.timer);
    w.timer = undefined;
    w.pending.clear();
  }

  close(): void {
    for (const s of [...this.#open]) this.forget(s);
  }

  #arm(to: Session, w: Window) {
    this.#open.add(to);
    w.timer = setTimeout(() => {
      w.timer = undefined;
      const changes = [...w.pending.values()];
      w.pending.clear();
      if (changes.length === 0 || this.api.sessions.get(to.name!) !== to) {
        this.#open.delete(to);
        return;
      }
      this.#send(to, changes);
      this.#arm(to, w); // still busy: the next ones wait for the next window
    }, this.windowMs);
  }

  #send(to: Session, changes: Change[]) {
    if (changes.length === 1) {
      const [c] = changes;
      if (c.left === undefined) this.api.send(to, PresenceJoined, { name: c.name });
      else this.api.send(to, PresenceLeft, { name: c.name, reason: c.left });
      return;
    }
    const joined = changes.filter((c) => c.left === undefined).map((c) => c.name);
    const left = changes.filter((c) => c.left !== undefined).map((c) => c.name);
    this.api.send(to, PresenceChanges, {
      joined: joined.slice(0, SHOWN_NAMES),
      left: left.slice(0, SHOWN_NAMES),
      joinedCount: joined.length,
      leftCount: left.length,
    });
  }
}
