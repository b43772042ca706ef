/**
 * The "offline.posts" service: reads of the message log that other plugins need, without
 * knowing its tables. groups uses it to give a new member a room's recent posts and to find the
 * post a /pin names.
 */
import type { RawFrame } from "../../protocol/spec.ts";
import type { Db } from "../types.ts";

/** A logged message: its frame as pushed, with its `seq`. */
export interface LoggedPost {
  seq: number;
  frame: RawFrame;
}

export interface PostsService {
  /** The last `limit` messages of `conv` after seq `after` that `account` neither sent nor
   *  received (so were never shown to it: a new member's view of a room's past), oldest
   *  first. */
  unseen(conv: string, account: string, limit: number, after: number): Promise<LoggedPost[]>;
  /** The message `seq` of `conv`, or its latest message if `seq` is undefined. */
  get(conv: string, seq: number | undefined): Promise<LoggedPost | undefined>;
}

export function postsService(db: Db): PostsService {
  const post = (r: { seq: number; frame: string }) => ({ seq: r.seq, frame: JSON.parse(r.frame) });
  return {
    async unseen(conv, account, limit, after) {
      const key = account.toLowerCase();
      const rows = await db.all<{ seq: number; frame: string }>(
        `SELECT l.seq AS seq, l.frame AS frame FROM offline_log l
         WHERE l.conv = ? AND l.seq > ? AND lower(l.sender) <> ? AND NOT EXISTS
           (SELECT 1 FROM offline_span s WHERE s.account = ? AND s.conv = l.conv
             AND l.seq >= s.first_seq AND (s.last_seq IS NULL OR l.seq <= s.last_seq))
           AND NOT EXISTS (SELECT 1 FROM offline_rcpt r WHERE r.account = ? AND r.seq = l.seq)
         ORDER BY l.seq DESC LIMIT ?`,
        [conv, after, key, key, key, limit],
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
