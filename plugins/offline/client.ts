/** The offline plugin's client half: the missed-message summary and /history. */
import { plural } from "../../protocol/words.ts";
import { type ClientApi, UsageError } from "../types.ts";
import {
  HISTORY_DEFAULT,
  HISTORY_MAX,
  missedText,
  OfflineHistory,
  OfflineSummary,
} from "./protocol.ts";
import { replayMark } from "./replays.ts";

const USAGE = `/history <user|@room> [n|more]`;

export function offlineClient(api: ClientApi) {
  // `(while you were away) [2026-11-20 23:04] ` before a missed message, the time before history.
  api.replayed((m, ui) =>
    ui.style.dim(replayMark(m, m.ts === undefined ? undefined : ui.time(m.ts)))
  );
  api.on(OfflineSummary, (m, ui) => {
    if (m.count === 0) return;
    const span = m.first === undefined
      ? ""
      : ` (${range(ui.time(m.first), ui.time(m.last ?? m.first))})`;
    ui.notice(`${missedText(m)}${span}:`);
  });

  /** Per conversation, the oldest seq /history showed: where `more` continues. */
  const oldest = new Map<string, number>();
  api.command({
    name: "history",
    aliases: ["log"],
    usage: USAGE,
    summary: `show the last n messages with a user or room (default ${HISTORY_DEFAULT}); ` +
      "more: older ones",
    async run(input, ctx) {
      const [who, arg] = input.args;
      if (!who || input.args.length > 2) throw new UsageError();
      const key = who.toLowerCase().replace(/^#/, "@");
      let limit = HISTORY_DEFAULT;
      let before: number | undefined;
      if (arg?.toLowerCase() === "more") {
        before = oldest.get(key);
        if (before === undefined) {
          throw new UsageError(`start with /history ${who}, then /history ${who} more`);
        }
      } else if (arg !== undefined) {
        limit = Number(arg);
        if (!/^\d+$/.test(arg) || limit < 1 || limit > HISTORY_MAX) {
          throw new UsageError(`n is a whole number from 1 to ${HISTORY_MAX}`);
        }
      }
      const ack = await ctx.request(OfflineHistory, {
        with: who,
        limit,
        ...(before ? { before } : {}),
      });
      await ctx.settled();
      if (ack.count === 0) {
        return ctx.ui.notice(`no ${before ? "older " : ""}messages with ${who}`);
      }
      oldest.set(key, ack.oldest!);
      const more = ack.count === limit ? `; /history ${who} more for older` : "";
      ctx.ui.notice(`end of history with ${who} (${plural(ack.count, "message")}${more})`);
    },
  });
}

/** `2026-12-06 02:06 to 03:10`, or one time when both read the same (to the minute). */
function range(first: string, last: string): string {
  if (first === last) return first;
  const [day, time] = last.split(" ");
  return `${first} to ${first.startsWith(day + " ") ? time : last}`;
}
