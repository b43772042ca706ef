/** The polls plugin's tables, and an open poll as memory holds it: read from the store at
 *  start-up and, in a cluster, whenever another node changed one (readOpen). */
import type { Db, Migration } from "../types.ts";
import type { Poll } from "./protocol.ts";

export const POLLS_MIGRATIONS: Migration[] = [{
  sql: `
    CREATE TABLE polls (
      id INTEGER PRIMARY KEY,
      room TEXT NOT NULL,            -- as the room is named
      author TEXT NOT NULL,
      question TEXT NOT NULL,
      options TEXT NOT NULL,         -- JSON array of strings
      anonymous INTEGER NOT NULL,
      multi INTEGER NOT NULL,
      voters TEXT NOT NULL,          -- JSON array of the lower-cased names who may vote
      closes_at INTEGER,             -- ms since the epoch
      closed INTEGER NOT NULL DEFAULT 0,
      counts TEXT,                   -- JSON array, written when it closes
      voted INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE poll_votes (
      poll INTEGER NOT NULL,
      voter TEXT NOT NULL,           -- lower case, deleted at close for an anonymous poll
      name TEXT NOT NULL,
      choices TEXT NOT NULL,         -- JSON array of option numbers
      PRIMARY KEY (poll, voter));`,
}, {
  // Voters who were away when a poll closed: they are shown its results at their next login.
  sql: `
    CREATE TABLE poll_missed (
      account TEXT NOT NULL,         -- lower case
      poll INTEGER NOT NULL,
      PRIMARY KEY (account, poll));
    ALTER TABLE polls ADD COLUMN closed_at INTEGER`,
}];

export interface Open extends Omit<Poll, "counts" | "voters" | "votes"> {
  electorate: Set<string>;
  ballots: Map<string, { name: string; choices: number[] }>;
  timer?: ReturnType<typeof setTimeout>;
  /** A results frame is due (coalesced: at most once per RESULTS_EVERY_MS). */
  due?: ReturnType<typeof setTimeout>;
}

export type Row = {
  id: number;
  room: string;
  author: string;
  question: string;
  options: string;
  anonymous: number;
  multi: number;
  voters: string;
  closes_at: number | null;
  closed: number;
  closed_at: number | null;
  counts: string | null;
  voted: number;
};

export type BallotRow = { voter: string; name: string; choices: string };

export function ballotsOf(rows: BallotRow[]): Open["ballots"] {
  return new Map(rows.map((v) => [v.voter, { name: v.name, choices: JSON.parse(v.choices) }]));
}

/** The open polls and their ballots, as the store has them. */
export async function readOpen(db: Db): Promise<Open[]> {
  const rows = await db.all<Row>("SELECT * FROM polls WHERE closed = 0 ORDER BY id");
  const out: Open[] = [];
  for (const r of rows) {
    const votes = await db.all<BallotRow>(
      "SELECT voter, name, choices FROM poll_votes WHERE poll = ?",
      [r.id],
    );
    out.push({
      ...base(r),
      closed: false,
      electorate: new Set(JSON.parse(r.voters)),
      ballots: ballotsOf(votes),
    });
  }
  return out;
}

export function base(r: Row) {
  return {
    poll: r.id,
    room: r.room,
    by: r.author,
    question: r.question,
    options: JSON.parse(r.options) as string[],
    anonymous: r.anonymous === 1,
    multi: r.multi === 1,
    closesAt: r.closes_at ?? undefined,
  };
}
