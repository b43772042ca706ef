/** How a message replayed from the log is marked, on both sides (the core knows only that a
 *  frame was replayed, not how that reads). */
import type { Replayed } from "../types.ts";

/** `(while you were away) [when] ` for a message sent while the reader was away, `[when] ` for
 *  history asked for again. `when` is written by the side showing it: local time in the
 *  client, UTC in plain-text mode; undefined if the frame has no time. */
export function replayMark(m: Replayed, when: string | undefined): string {
  const time = when === undefined ? "" : `[${when}] `;
  return m.replay === "missed" ? `(while you were away) ${time}` : time;
}
