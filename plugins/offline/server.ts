/** The offline plugin's server half: the journal, history and retention. */
import { plural } from "../../protocol/words.ts";
import { ChatError } from "../../protocol/errors.ts";
import { dmConversation, roomConversation, type ServerApi } from "../types.ts";
import type { PostsService } from "../services.ts";
import { MessageLog } from "./journal.ts";
import { missedText, OfflineHistory, OfflineSummary } from "./protocol.ts";
import * as store from "./store.ts";
import { postsService } from "./posts.ts";
import { RETENTION } from "./options.ts";
import { replayMark } from "./replays.ts";
import { utcTime } from "../../protocol/words.ts";

/** How often retention prunes: hourly keeps the log within an hour of the promise, and one
 *  DELETE an hour costs nothing. */
const PRUNE_EVERY_MS = 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;

export function offlineServer(api: ServerApi) {
  const log = new MessageLog(api);
  api.journal(log);
  api.text.replayed((m) => replayMark(m, m.ts === undefined ? undefined : utcTime(m.ts)));
  api.onLogin((s) => log.login(s));
  api.provide<PostsService>("offline.posts", postsService(api.db));

  let pruner: ReturnType<typeof setInterval> | undefined;
  api.onStartup(async () => {
    await log.open();
    const days = api.setting(RETENTION);
    if (days > 0) {
      const prune = async () => {
        const n = await store.prune(api.db, Date.now() - days * DAY_MS);
        if (n > 0) api.log.info(`retention: deleted ${n} messages older than ${days} days`);
      };
      await prune();
      pruner = setInterval(
        () => prune().catch((e) => api.log.error(`prune: ${e}`)),
        PRUNE_EVERY_MS,
      );
    }
  });
  api.onShutdown(async () => {
    clearInterval(pruner);
    await log.close();
  });

  // offline.history {with, limit, before?} -> pushes, then ack {count, oldest?} | NO_SUCH_USER
  api.on(OfflineHistory, async (m, ctx) => {
    const me = ctx.session.name!;
    let conv: string;
    const room = m.with.match(/^[@#](.+)$/);
    if (room) conv = roomConversation(room[1]);
    else {
      const other = api.accounts.canonical(m.with);
      if (!other) throw new ChatError("NO_SUCH_USER", `there is no user named "${m.with}"`);
      conv = dmConversation(me, other);
    }
    const rows = await store.history(
      api.db,
      conv,
      me.toLowerCase(),
      m.before ?? Number.MAX_SAFE_INTEGER,
      m.limit,
    );
    rows.reverse();
    for (const row of rows) {
      api.relay([ctx.session], { ...JSON.parse(row.frame), seq: row.seq, replay: "history" });
    }
    return { count: rows.length, oldest: rows[0]?.seq };
  });

  api.text.command({
    usage: "server:history <user|#room> [n]",
    summary: "show the last n messages with someone (default 20)",
    match: /^(?:server:|\/)history\s+(\S+)(?:\s+(\d+))?$/i,
    toFrame: (m) => ({
      type: OfflineHistory.type,
      with: m[1],
      ...(m[2] ? { limit: Number(m[2]) } : {}),
    }),
    ack: (r) => `end of history (${plural(OfflineHistory.decodeAck(r).count, "message")})`,
  });
  api.text.render(
    OfflineSummary,
    (m) => m.count === 0 ? "* no new messages" : `* ${missedText(m)}`,
  );
}
