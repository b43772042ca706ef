/** The queue's tables, and the queue as the store has it: read at start-up and, in a
 *  cluster, whenever another node changed it (Synced). */
import type { Db, Migration } from "../types.ts";

/** Services the wait estimate is made from: the most recent ones. */
export const RECENT_SERVICES = 10;

export const QUEUE_MIGRATIONS: Migration[] = [{
  sql: `
    CREATE TABLE queue_state (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      open INTEGER NOT NULL,
      room TEXT);
    CREATE TABLE queue_entries (
      account TEXT PRIMARY KEY,      -- lower case
      name TEXT NOT NULL,
      topic TEXT,
      joined_at INTEGER NOT NULL);   -- ms since the epoch
    CREATE TABLE queue_served (
      name TEXT NOT NULL,
      by TEXT NOT NULL,
      waited_ms INTEGER NOT NULL,
      served_ms INTEGER,             -- set by /done
      at INTEGER NOT NULL)`,
}];

export interface Entry {
  name: string;
  topic?: string;
  joinedAt: number;
  /** When this node saw its session go away, or found it away (undefined: online). */
  goneAt?: number;
}

export type QueueRead = Awaited<ReturnType<typeof readQueue>>;

export async function readQueue(db: Db) {
  return {
    state: await db.get<{ open: number; room: string | null }>(
      "SELECT open, room FROM queue_state WHERE id = 1",
    ),
    rows: await db.all<{ name: string; topic: string | null; joined_at: number }>(
      "SELECT name, topic, joined_at FROM queue_entries ORDER BY joined_at, account",
    ),
    served: await db.all<{ served_ms: number }>(
      "SELECT served_ms FROM queue_served WHERE served_ms IS NOT NULL ORDER BY at DESC LIMIT ?",
      [RECENT_SERVICES],
    ),
  };
}
