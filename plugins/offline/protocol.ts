/** Offline-delivery and history frames, shared by the offline plugin's client and server. */
import { plural } from "../../protocol/words.ts";
import { ChatError } from "../../protocol/errors.ts";
import { field, message, type RawFrame } from "../../protocol/spec.ts";

/** One conversation in a summary: `with` is a user name or `#room`. */
export interface MissedCount {
  with: string;
  count: number;
}

/** offline.summary {count, first?, last?, convs}: pushed once per login, before the missed
 *  messages themselves; first/last are the send times (ms) of the oldest and newest. */
export const OfflineSummary = message("offline.summary", (f) => ({
  count: field.number(f, "count"),
  first: field.optionalNumber(f, "first"),
  last: field.optionalNumber(f, "last"),
  convs: convs(f),
}));

function convs(f: RawFrame): MissedCount[] {
  const v = f.convs;
  if (!Array.isArray(v)) throw badField("convs", "must be an array");
  return v.map((c) => ({
    with: field.text(c, "with"),
    count: field.number(c, "count"),
  }));
}

/** Most messages one /history request returns: a screenful or a few; page for more. */
export const HISTORY_MAX = 200;
/** What /history shows without a count. */
export const HISTORY_DEFAULT = 20;

/** offline.history {with, limit?, before?} -> the messages pushed as their own frames with
 *  `replay: "history"`, oldest first, then ack {count, oldest?} | NO_SUCH_USER | BAD_FRAME.
 *  `with` is a user name or `@room` / `#room`; `before` a seq (older pages). */
export const OfflineHistory = message("offline.history", (f) => {
  const limit = field.optionalNumber(f, "limit") ?? HISTORY_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1 || limit > HISTORY_MAX) {
    throw badField("limit", `must be a whole number from 1 to ${HISTORY_MAX}`);
  }
  return {
    with: field.string(f, "with", { min: 1, max: 100 }),
    limit,
    before: field.optionalNumber(f, "before"),
  };
}, {
  ack: (f) => ({ count: field.number(f, "count"), oldest: field.optionalNumber(f, "oldest") }),
});

function badField(key: string, why: string) {
  return new ChatError("BAD_FRAME", `field "${key}" ${why}`);
}

/** `12 messages while you were away: 3 from Alice, 9 in #cs350`. */
export function missedText(m: { count: number; convs: MissedCount[] }): string {
  const parts = m.convs.map((c) =>
    `${c.count} ${c.with.startsWith("#") ? "in" : "from"} ${c.with}`
  );
  return `${plural(m.count, "message")} while you were away: ${parts.join(", ")}`;
}
