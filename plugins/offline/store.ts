/**
 * The message log's tables and queries. The log is append-only: delivery never deletes, it
 * moves a per-account cursor; only retention (--retention) prunes, by age.
 *
 *   offline_log     one row per accepted message: seq, conversation, sender, time, frame
 *   offline_rcpt    who each message is for (fan-out on write: a room post names its members
 *                   at that moment, so a later member does not see earlier posts)
 *   offline_cursor  per account, the highest seq its client acknowledged (session.ack)
 */
import type { Db, Migration } from "../types.ts";

export const OFFLINE_MIGRATIONS: Migration[] = [{
  sql: `
    CREATE TABLE offline_log (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, even after pruning
      conv TEXT NOT NULL,                     -- dm:<a>:<b> or room:<name>, lower case
      sender TEXT NOT NULL,                   -- as registered
      ts INTEGER NOT NULL,                    -- ms since the epoch, when it was accepted
      frame TEXT NOT NULL);                   -- the pushed frame as JSON, without seq
    CREATE INDEX offline_log_by_conv ON offline_log(conv, seq);
    CREATE TABLE offline_rcpt (
      account TEXT NOT NULL,                  -- lower case
      seq INTEGER NOT NULL,
      PRIMARY KEY (account, seq)) WITHOUT ROWID;
    CREATE TABLE offline_cursor (
      account TEXT PRIMARY KEY,
      seq INTEGER NOT NULL) WITHOUT ROWID`,
}];

export interface Entry {
  conv: string;
  sender: string;
  ts: number;
  /** Lower-cased recipient accounts. */
  to: string[];
  json: string;
}

export interface LoggedRow {
  [key: string]: string | number;
  seq: number;
  frame: string;
}

/** Appends entries and moves cursors in one transaction; returns the entries' seqs. */
export function append(db: Db, entries: Entry[], cursors: Map<string, number>): Promise<number[]> {
  return db.tx(async (t) => {
    const seqs: number[] = [];
    for (const e of entries) {
      const { lastId } = await t.run(
        "INSERT INTO offline_log (conv, sender, ts, frame) VALUES (?, ?, ?, ?)",
        [e.conv, e.sender, e.ts, e.json],
      );
      for (const account of e.to) {
        await t.run("INSERT INTO offline_rcpt (account, seq) VALUES (?, ?)", [account, lastId]);
      }
      seqs.push(lastId);
    }
    for (const [account, seq] of cursors) {
      await t.run(
        `INSERT INTO offline_cursor (account, seq) VALUES (?, ?)
         ON CONFLICT (account) DO UPDATE SET seq = max(seq, excluded.seq)`,
        [account, seq],
      );
    }
    return seqs;
  });
}

export async function cursorOf(db: Db, account: string): Promise<number> {
  const row = await db.get<{ seq: number }>(
    "SELECT seq FROM offline_cursor WHERE account = ?",
    [account],
  );
  return row?.seq ?? 0;
}

export async function maxSeq(db: Db): Promise<number> {
  const row = await db.get<{ seq: number | null }>("SELECT max(seq) AS seq FROM offline_log");
  return row?.seq ?? 0;
}

/** Per conversation: how many messages for `account` after `after`, their sender (for a
 *  direct conversation, the other person) and the time span. */
export function missed(db: Db, account: string, after: number) {
  return db.all<{ conv: string; sender: string; n: number; first: number; last: number }>(
    `SELECT l.conv AS conv, min(l.sender) AS sender, count(*) AS n,
            min(l.ts) AS first, max(l.ts) AS last
     FROM offline_rcpt r JOIN offline_log l ON l.seq = r.seq
     WHERE r.account = ? AND r.seq > ? GROUP BY l.conv ORDER BY min(l.seq)`,
    [account, after],
  );
}

/** The next `limit` messages for `account` after seq `after`, in order. */
export function pending(db: Db, account: string, after: number, limit: number) {
  return db.all<LoggedRow>(
    `SELECT l.seq AS seq, l.frame AS frame
     FROM offline_rcpt r JOIN offline_log l ON l.seq = r.seq
     WHERE r.account = ? AND r.seq > ? ORDER BY r.seq LIMIT ?`,
    [account, after, limit],
  );
}

/** The last `limit` messages of a conversation before seq `before` that `account` sent or
 *  received, newest first. */
export function history(db: Db, conv: string, account: string, before: number, limit: number) {
  return db.all<LoggedRow>(
    `SELECT l.seq AS seq, l.frame AS frame FROM offline_log l
     WHERE l.conv = ? AND l.seq < ?
       AND (lower(l.sender) = ? OR EXISTS
             (SELECT 1 FROM offline_rcpt r WHERE r.account = ? AND r.seq = l.seq))
     ORDER BY l.seq DESC LIMIT ?`,
    [conv, before, account, account, limit],
  );
}

/** Deletes messages accepted before `cutoff` (ms) and their recipient rows; returns how many
 *  messages went. */
export function prune(db: Db, cutoff: number): Promise<number> {
  return db.tx(async (t) => {
    const { changes } = await t.run("DELETE FROM offline_log WHERE ts < ?", [cutoff]);
    if (changes > 0) {
      await t.run(
        `DELETE FROM offline_rcpt WHERE NOT EXISTS
           (SELECT 1 FROM offline_log l WHERE l.seq = offline_rcpt.seq)`,
      );
    }
    return changes;
  });
}
