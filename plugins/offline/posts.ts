/**
 * The "offline.posts" service: reads of the message log that other plugins need, without
 * knowing its tables. groups uses it to give a new member a room's recent posts and to find the
 * post a /pin names.
 */
import type { Db } from "../types.ts";
import type { PostsService } from "../services.ts";

export function postsService(db: Db): PostsService {
  const post = (r: { seq: number; frame: string }) => ({ seq: r.seq, frame: JSON.parse(r.frame) });
  return {
    async unseen(conv, account, limit) {
      const key = account.toLowerCase();
      const rows = await db.all<{ seq: number; frame: string }>(
        `SELECT l.seq AS seq, l.frame AS frame FROM offline_log l
         WHERE l.conv = ? AND lower(l.sender) <> ? AND NOT EXISTS
           (SELECT 1 FROM offline_span s WHERE s.account = ? AND s.conv = l.conv
             AND s.first_seq <= l.seq)
           AND NOT EXISTS (SELECT 1 FROM offline_rcpt r WHERE r.account = ? AND r.seq = l.seq)
         ORDER BY l.seq DESC LIMIT ?`,
        [conv, key, key, key, limit],
      );
      return rows.reverse().map(post);
    },
    async get(conv, seq) {
      const row = seq === undefined
        ? await db.get<{ seq: number; frame: string }>(
          "SELECT seq, frame FROM offline_log WHERE conv = ? ORDER BY seq DESC LIMIT 1",
          [conv],
        )
        : await db.get<{ seq: number; frame: string }>(
          "SELECT seq, frame FROM offline_log WHERE conv = ? AND seq = ?",
          [conv, seq],
        );
      return row && post(row);
    },
  };
}
