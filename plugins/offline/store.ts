/**
 * The message log's tables and queries. The log is append-only: delivery never deletes, it
 * moves a per-account cursor; only retention (--retention) prunes, by age.
 *
 *   offline_log     one row per accepted message: seq, conversation, sender, time, frame
 *   offline_rcpt    who a direct message is for (one row per message)
 *   offline_span    who a room's messages are for: per account, the seq range in which it
 *                   received the room's messages (its membership as the log saw it), so a post
 *                   to 1000 members writes one row, not 1000; a later member does not see
 *                   earlier posts, one who left does not see later ones
 *   offline_cursor  per account, the highest seq its client acknowledged (session.ack)
 */
import { type Db, type Migration, ROOM_CONVERSATION, type SqlValue } from "../types.ts";
import type { Spans } from "./spans.ts";

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
}, {
  // Room recipients move from rows per message to spans per member. Spans made from old rows
  // run from an account's first to its last room message, closed: the next post opens new ones.
  sql: `
    CREATE TABLE offline_span (
      account TEXT NOT NULL,                  -- lower case
      conv TEXT NOT NULL,                     -- room:<name>
      first_seq INTEGER NOT NULL,             -- the first message of conv it received
      last_seq INTEGER,                       -- the last, or NULL while it still receives them
      PRIMARY KEY (account, conv, first_seq)) WITHOUT ROWID;
    INSERT INTO offline_span (account, conv, first_seq, last_seq)
      SELECT r.account, l.conv, min(r.seq), max(r.seq)
      FROM offline_rcpt r JOIN offline_log l ON l.seq = r.seq
      WHERE l.conv LIKE 'room:%' GROUP BY r.account, l.conv;
    DELETE FROM offline_rcpt WHERE seq IN (SELECT seq FROM offline_log WHERE conv LIKE 'room:%')`,
}];

/** A room's messages are for the accounts whose spans cover them; a direct message's for the
 *  accounts named in offline_rcpt. */
export function isRoom(conv: string): boolean {
  return conv.startsWith(ROOM_CONVERSATION);
}

/** No seq is larger: the end of an open span. */
const OPEN_END = Number.MAX_SAFE_INTEGER;

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

/** Rows per multi-row INSERT at most. One statement for many rows is the log's hot path: a
 *  direct message is two rows (the message, its recipient), and one native call per row was
 *  a third of the server's CPU per message (docs/BENCHMARKS.md, issue 19). 256 rows of 4
 *  values stay far below SQLite's 32,766 bound variables. */
const ROWS_PER_INSERT = 256;

/** Inserts rows with as few statements as can be: chunks of 256, 128, ... 1 rows, so at most
 *  nine distinct statements are ever prepared (the adapter caches them by text). Returns the
 *  rowid of each row (a table with an INTEGER PRIMARY KEY AUTOINCREMENT: one statement's rows
 *  get consecutive rowids, the writer holding the only connection). */
async function insertRows(
  t: Db,
  head: string,
  width: number,
  rows: SqlValue[][],
): Promise<number[]> {
  const ids: number[] = [];
  let i = 0;
  while (i < rows.length) {
    let n = ROWS_PER_INSERT;
    while (n > rows.length - i) n >>= 1;
    const one = `(${Array(width).fill("?").join(", ")})`;
    const sql = `${head} VALUES ${Array(n).fill(one).join(", ")}`;
    const { lastId, changes } = await t.run(sql, rows.slice(i, i + n).flat());
    if (changes !== n) throw new Error(`inserted ${changes} rows of ${n}`);
    for (let k = n - 1; k >= 0; k--) ids.push(lastId - k);
    i += n;
  }
  return ids;
}

/** Appends entries and moves cursors in one transaction; returns the entries' seqs and the
 *  seq of the message before the first (0 for none). Nodes sharing a store append one at a
 *  time (db.lock), so seqs are committed in their order: whatever a reader sees of the log is
 *  a prefix of it, and `prev` says exactly which message comes before. In a cluster, who is in
 *  a room is read again under the lock (another node may have posted there since). */
export async function append(
  db: Db,
  spans: Spans,
  entries: Entry[],
  cursors: Map<string, number>,
  clustered: boolean,
): Promise<{ seqs: number[]; prev: number }> {
  const staged = spans.stage();
  const done = await db.tx(async (t) => {
    // Acks alone (cursor moves) need no place in the log's order.
    if (entries.length) await t.lock("offline.log");
    const prev = entries.length ? await maxSeq(t) : 0;
    if (clustered) {
      for (const conv of new Set(entries.filter((e) => isRoom(e.conv)).map((e) => e.conv))) {
        await spans.reload(t, conv);
      }
    }
    const seqs = await insertRows(
      t,
      "INSERT INTO offline_log (conv, sender, ts, frame)",
      4,
      entries.map((e) => [e.conv, e.sender, e.ts, e.json]),
    );
    const rcpts: SqlValue[][] = [];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (isRoom(e.conv)) await staged.post(t, e, seqs[i]);
      else for (const account of e.to) rcpts.push([account, seqs[i]]);
    }
    await insertRows(t, "INSERT INTO offline_rcpt (account, seq)", 2, rcpts);
    for (const [account, seq] of cursors) {
      await t.run(
        `INSERT INTO offline_cursor (account, seq) VALUES (?, ?)
         ON CONFLICT (account) DO UPDATE SET seq = max(offline_cursor.seq, excluded.seq)`,
        [account, seq],
      );
    }
    return { seqs, prev };
  });
  staged.commit();
  return done;
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
 *  direct conversation, the other person) and the time span; in order of the first. */
export async function missed(db: Db, account: string, after: number) {
  type Row = { conv: string; sender: string; n: number; first: number; last: number; s0: number };
  const direct = await db.all<Row>(
    `SELECT l.conv AS conv, min(l.sender) AS sender, count(*) AS n,
            min(l.ts) AS first, max(l.ts) AS last, min(l.seq) AS s0
     FROM offline_rcpt r JOIN offline_log l ON l.seq = r.seq
     WHERE r.account = ? AND r.seq > ? GROUP BY l.conv`,
    [account, after],
  );
  const rooms = await db.all<Row>(
    `SELECT l.conv AS conv, min(l.sender) AS sender, count(*) AS n,
            min(l.ts) AS first, max(l.ts) AS last, min(l.seq) AS s0
     FROM offline_span s JOIN offline_log l ON l.conv = s.conv
       AND l.seq >= s.first_seq AND l.seq <= coalesce(s.last_seq, ${OPEN_END})
     WHERE s.account = ? AND l.seq > ? AND lower(l.sender) <> ? GROUP BY l.conv`,
    [account, after, account],
  );
  return [...direct, ...rooms].sort((a, b) => a.s0 - b.s0);
}

/** The next `limit` messages for `account` after seq `after`, in order. Each source (the
 *  direct messages, each room span) is read up to `limit` along its index and the results
 *  merged, so a step costs the same however long the backlog. Every read stops at the log's
 *  top as read first: with several nodes, each statement sees later commits than the one
 *  before, and a message committed between two of them (a DM below a room post already
 *  read) would otherwise be skipped for good. Seqs commit in order (store.append's lock), so
 *  everything up to that top is there for every statement after. */
export async function pending(db: Db, account: string, after: number, limit: number) {
  const top = await maxSeq(db);
  const rows = await db.all<LoggedRow>(
    `SELECT l.seq AS seq, l.frame AS frame
     FROM offline_rcpt r JOIN offline_log l ON l.seq = r.seq
     WHERE r.account = ? AND r.seq > ? AND r.seq <= ? ORDER BY r.seq LIMIT ?`,
    [account, after, top, limit],
  );
  const spans = await db.all<{ conv: string; first_seq: number; last_seq: number | null }>(
    `SELECT conv, first_seq, last_seq FROM offline_span
     WHERE account = ? AND (last_seq IS NULL OR last_seq > ?)`,
    [account, after],
  );
  if (spans.length === 0) return rows;
  for (const sp of spans) {
    rows.push(
      ...await db.all<LoggedRow>(
        `SELECT seq, frame FROM offline_log
         WHERE conv = ? AND seq > ? AND seq <= ? AND lower(sender) <> ? ORDER BY seq LIMIT ?`,
        [
          sp.conv,
          Math.max(after, sp.first_seq - 1),
          Math.min(sp.last_seq ?? OPEN_END, top),
          account,
          limit,
        ],
      ),
    );
  }
  return rows.sort((a, b) => a.seq - b.seq).slice(0, limit);
}

/** The last `limit` messages of a conversation before seq `before` that `account` sent or
 *  received, newest first. */
export function history(db: Db, conv: string, account: string, before: number, limit: number) {
  const received = isRoom(conv)
    ? `EXISTS (SELECT 1 FROM offline_span s WHERE s.account = ? AND s.conv = l.conv
         AND l.seq >= s.first_seq AND l.seq <= coalesce(s.last_seq, ${OPEN_END}))`
    : "EXISTS (SELECT 1 FROM offline_rcpt r WHERE r.account = ? AND r.seq = l.seq)";
  return db.all<LoggedRow>(
    `SELECT l.seq AS seq, l.frame AS frame FROM offline_log l
     WHERE l.conv = ? AND l.seq < ? AND (lower(l.sender) = ? OR ${received})
     ORDER BY l.seq DESC LIMIT ?`,
    [conv, before, account, account, limit],
  );
}

/** Deletes messages accepted before `cutoff` (ms), their recipient rows and the spans that
 *  end before the oldest message left; returns how many messages went. */
export function prune(db: Db, cutoff: number): Promise<number> {
  return db.tx(async (t) => {
    const { changes } = await t.run("DELETE FROM offline_log WHERE ts < ?", [cutoff]);
    if (changes > 0) {
      await t.run(
        `DELETE FROM offline_rcpt WHERE NOT EXISTS
           (SELECT 1 FROM offline_log l WHERE l.seq = offline_rcpt.seq)`,
      );
      await t.run(
        `DELETE FROM offline_span WHERE last_seq IS NOT NULL
           AND last_seq < coalesce((SELECT min(seq) FROM offline_log), ${OPEN_END})`,
      );
    }
    return changes;
  });
}
