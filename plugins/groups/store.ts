/**
 * Rooms and their members: in the store (so membership belongs to the account and survives
 * restarts) and mirrored in memory, so a post finds its members without awaiting the store
 * (which keeps group.send pipelined and one room's order the order of arrival).
 */
import { ChatError } from "../../protocol/errors.ts";
import type { Db, Migration } from "../types.ts";

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
}];

export interface Room {
  name: string;
  /** Lower-cased account -> { name as registered, owner }. */
  members: Map<string, { name: string; owner: boolean }>;
}

export class Rooms {
  readonly #rooms = new Map<string, Room>();

  constructor(private readonly db: Db) {}

  async load(): Promise<void> {
    for (
      const r of await this.db.all<{ room_key: string; name: string }>(
        "SELECT room_key, name FROM groups_rooms",
      )
    ) this.#rooms.set(r.room_key, { name: r.name, members: new Map() });
    for (
      const m of await this.db.all<{ room_key: string; account: string; owner: number }>(
        "SELECT room_key, account, owner FROM groups_members",
      )
    ) {
      this.#rooms.get(m.room_key)?.members.set(m.account.toLowerCase(), {
        name: m.account,
        owner: m.owner === 1,
      });
    }
  }

  get(name: string): Room | undefined {
    return this.#rooms.get(name.toLowerCase());
  }

  /** The room, or NO_SUCH_ROOM. */
  find(name: string): Room {
    const room = this.get(name);
    if (!room) throw new ChatError("NO_SUCH_ROOM", `there is no room #${name}; /rooms lists them`);
    return room;
  }

  all(): Room[] {
    return [...this.#rooms.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Creates a room owned (and joined) by `owner`; ROOM_EXISTS if the name is taken. */
  async create(name: string, owner: string): Promise<Room> {
    const key = name.toLowerCase();
    if (this.#rooms.has(key)) throw exists(name);
    const now = Date.now();
    await this.db.tx(async (t) => {
      const r = await t.run(
        "INSERT INTO groups_rooms (room_key, name, created_by, created_at) VALUES (?, ?, ?, ?)" +
          " ON CONFLICT DO NOTHING",
        [key, name, owner, now],
      );
      // The store decides a race between two creates of one name: the loser gets ROOM_EXISTS.
      if (r.changes === 0) throw exists(name);
      await t.run(
        "INSERT INTO groups_members (room_key, account, owner, joined_at) VALUES (?, ?, 1, ?)",
        [key, owner, now],
      );
    });
    const room: Room = {
      name,
      members: new Map([[owner.toLowerCase(), { name: owner, owner: true }]]),
    };
    this.#rooms.set(key, room);
    return room;
  }

  /** Adds a member; false if they were one already. */
  async join(room: Room, account: string): Promise<boolean> {
    const key = account.toLowerCase();
    if (room.members.has(key)) return false;
    await this.db.run(
      "INSERT INTO groups_members (room_key, account, owner, joined_at) VALUES (?, ?, 0, ?)" +
        " ON CONFLICT DO NOTHING",
      [room.name.toLowerCase(), account, Date.now()],
    );
    room.members.set(key, { name: account, owner: false });
    return true;
  }

  /** Removes a member; false if they were not one. */
  async leave(room: Room, account: string): Promise<boolean> {
    const key = account.toLowerCase();
    if (!room.members.has(key)) return false;
    room.members.delete(key);
    await this.db.run(
      "DELETE FROM groups_members WHERE room_key = ? AND lower(account) = ?",
      [room.name.toLowerCase(), key],
    );
    return true;
  }
}

function exists(name: string) {
  return new ChatError("ROOM_EXISTS", `#${name} exists already; /join ${name} to join it`);
}
