/** The groups plugin's tables. Append-only: never edit or reorder a shipped migration. */
import type { Migration } from "../types.ts";

export const GROUPS_MIGRATIONS: Migration[] = [{
  sql: `
    CREATE TABLE groups_rooms (
      room_key TEXT PRIMARY KEY,     -- lower case: room names are unique case-insensitively
      name TEXT NOT NULL,            -- as created
      created_by TEXT NOT NULL,
      created_at INTEGER NOT NULL);
    CREATE TABLE groups_members (
      room_key TEXT NOT NULL REFERENCES groups_rooms(room_key) ON DELETE CASCADE,
      account TEXT NOT NULL,         -- as registered
      owner INTEGER NOT NULL DEFAULT 0,
      joined_at INTEGER NOT NULL,
      PRIMARY KEY (room_key, account)) WITHOUT ROWID`,
}, {
  sql: `
    ALTER TABLE groups_rooms ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE groups_rooms ADD COLUMN announce INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE groups_access (
      room_key TEXT NOT NULL REFERENCES groups_rooms(room_key) ON DELETE CASCADE,
      account TEXT NOT NULL,         -- lower case
      state TEXT NOT NULL,           -- invited or kicked
      by_name TEXT NOT NULL,         -- who invited or kicked
      at INTEGER NOT NULL,
      PRIMARY KEY (room_key, account)) WITHOUT ROWID`,
}, {
  // Pinned posts, copied from the message log so that retention never unpins them.
  sql: `
    CREATE TABLE groups_pins (
      room_key TEXT NOT NULL REFERENCES groups_rooms(room_key) ON DELETE CASCADE,
      seq INTEGER NOT NULL,          -- the post's id (its seq in the message log)
      sender TEXT NOT NULL,
      text TEXT NOT NULL,
      ts INTEGER NOT NULL,           -- when it was posted
      by_name TEXT NOT NULL,         -- who pinned it
      at INTEGER NOT NULL,           -- when
      PRIMARY KEY (room_key, seq)) WITHOUT ROWID;
    -- The newest post given to a member as the room's past (groups.welcome), so that leaving
    -- and rejoining does not give the same posts again.
    CREATE TABLE groups_given (
      room_key TEXT NOT NULL REFERENCES groups_rooms(room_key) ON DELETE CASCADE,
      account TEXT NOT NULL,         -- lower case
      seq INTEGER NOT NULL,
      PRIMARY KEY (room_key, account)) WITHOUT ROWID`,
}, {
  // Every account that has ever been a member of a room, written with the join: only a first
  // join is given the room's past, so one who left or was kicked never gets what was posted
  // while they were out (groups_given, which only kept one from getting the same posts twice,
  // is no longer written). Filled from what earlier versions kept: members now, accounts given
  // a past, accounts kicked and not yet invited back. One that left before cannot be told from
  // a newcomer here; if it ever received a post of the room, it is given none from after that
  // (offline.posts' unseen).
  sql: `
    CREATE TABLE groups_ever (
      room_key TEXT NOT NULL REFERENCES groups_rooms(room_key) ON DELETE CASCADE,
      account TEXT NOT NULL,         -- lower case
      PRIMARY KEY (room_key, account)) WITHOUT ROWID;
    INSERT OR IGNORE INTO groups_ever (room_key, account)
      SELECT room_key, lower(account) FROM groups_members;
    INSERT OR IGNORE INTO groups_ever (room_key, account)
      SELECT room_key, account FROM groups_given;
    INSERT OR IGNORE INTO groups_ever (room_key, account)
      SELECT room_key, account FROM groups_access WHERE state = 'kicked'`,
}];
