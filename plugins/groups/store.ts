/**
 * Rooms, their members and who may (not) join them: in the store (so membership belongs to the
 * account and survives restarts) and mirrored in memory, so a post finds its members without
 * awaiting the store (which keeps group.send pipelined and one room's order the order of
 * arrival). Every change is written first and mirrored after the write succeeded.
 */
import { NAME_ORDER, NAME_PATTERN } from "../../protocol/limits.ts";
import { ChatError } from "../../protocol/errors.ts";
import { type Db, Mutex } from "../types.ts";
import { RoomCounts } from "./limits.ts";
import type { Room } from "./room.ts";

export { GROUPS_MIGRATIONS } from "./migrations.ts";
export type { Access, Member, Room } from "./room.ts";

export class Rooms {
  readonly #rooms = new Map<string, Room>();
  /** Rooms per account, for the per-account limit (limits.ts): kept up to date here. */
  readonly counts = new RoomCounts();

  constructor(private readonly db: Db) {}

  /** Called with a room's key after each change to it is stored (a cluster tells the other
   *  nodes, which read the room again: reload). */
  onChange: (roomKey: string) => void = () => {};

  /** Per room: the write and mirror of each change here, and each reload, take turns, so a
   *  reload never reads the store before a change of this node and applies after it (which
   *  would undo it in memory), and is not put off by a stream of changes either. What a
   *  change checks and counts before its write stays synchronous, before its turn. Only on a
   *  store nodes share (on one node nothing reloads, and same-room changes share a commit).
   *  A room's entry lives while it has turns queued. */
  readonly #turns = new Map<string, { mutex: Mutex; queued: number; reload?: Promise<void> }>();

  async #turn<T>(roomKey: string, fn: () => Promise<T>): Promise<T> {
    if (!this.db.sharedByNodes) return await fn();
    let t = this.#turns.get(roomKey);
    if (!t) this.#turns.set(roomKey, t = { mutex: new Mutex(), queued: 0 });
    t.queued++;
    try {
      return await t.mutex.run(fn);
    } finally {
      if (--t.queued === 0) this.#turns.delete(roomKey);
    }
  }

  #changed(roomKey: string): void {
    this.onChange(roomKey);
  }

  /** Reads one room again from the store (another node changed it), keeping its object. A
   *  reload queued and not yet started serves every caller after it: it reads after all of
   *  them asked (a busy room's posts share reloads). */
  reload(roomKey: string): Promise<void> {
    const queued = this.#turns.get(roomKey)?.reload;
    if (queued) return queued;
    let p: Promise<void> | undefined = undefined;
    p = this.#turn(roomKey, async () => {
      const t = this.#turns.get(roomKey);
      if (p && t?.reload === p) t.reload = undefined; // started: later callers queue another
      const read = await this.#read(roomKey);
      if (read) this.#apply(roomKey, read);
    });
    const t = this.#turns.get(roomKey);
    if (t) t.reload = p;
    return p;
  }

  /** The room's rows: three reads asked at once (one round trip to PostgreSQL when it is
   *  not committing), since a cluster reads a room before each post to it. */
  async #read(roomKey: string): Promise<RoomRead | undefined> {
    const [r, members, access] = await Promise.all([
      this.db.get<{ name: string; created_by: string; private: number; announce: number }>(
        "SELECT name, created_by, private, announce FROM groups_rooms WHERE room_key = ?",
        [roomKey],
      ),
      this.db.all<{ account: string; owner: number }>(
        "SELECT account, owner FROM groups_members WHERE room_key = ?",
        [roomKey],
      ),
      this.db.all<{ account: string; state: string; by_name: string }>(
        "SELECT account, state, by_name FROM groups_access WHERE room_key = ?",
        [roomKey],
      ),
    ]);
    return r ? { r, members, access } : undefined;
  }

  #apply(
    roomKey: string,
    { r, members, access }: RoomRead,
  ) {
    let room = this.#rooms.get(roomKey);
    if (!room) {
      room = {
        name: r.name,
        founder: undefined,
        private: false,
        announce: false,
        members: new Map(),
        access: new Map(),
      };
      this.#rooms.set(roomKey, room);
    }
    room.founder = NAME_PATTERN.test(r.created_by) ? r.created_by : undefined;
    room.private = r.private === 1;
    room.announce = r.announce === 1;
    for (const key of room.members.keys()) this.counts.add(room, key, -1);
    room.members.clear();
    for (const m of members) {
      const owner = m.owner === 1 || isFounder(room, m.account);
      room.members.set(m.account.toLowerCase(), { name: m.account, owner });
      this.counts.add(room, m.account, 1);
    }
    room.access.clear();
    for (const a of access) {
      room.access.set(a.account, {
        state: a.state === "kicked" ? "kicked" : "invited",
        by: a.by_name,
      });
    }
  }

  async load(): Promise<void> {
    for (
      const r of await this.db.all<
        { room_key: string; name: string; created_by: string; private: number; announce: number }
      >("SELECT room_key, name, created_by, private, announce FROM groups_rooms")
    ) {
      this.#rooms.set(r.room_key, {
        name: r.name,
        founder: NAME_PATTERN.test(r.created_by) ? r.created_by : undefined,
        private: r.private === 1,
        announce: r.announce === 1,
        members: new Map(),
        access: new Map(),
      });
    }
    for (
      const m of await this.db.all<{ room_key: string; account: string; owner: number }>(
        "SELECT room_key, account, owner FROM groups_members",
      )
    ) {
      const room = this.#rooms.get(m.room_key);
      if (!room || room.members.has(m.account.toLowerCase())) continue;
      // A founder who left and rejoined before founders existed has owner = 0: still theirs.
      const owner = m.owner === 1 || isFounder(room, m.account);
      room.members.set(m.account.toLowerCase(), { name: m.account, owner });
      this.counts.add(room, m.account, 1);
    }
    for (
      const a of await this.db.all<
        { room_key: string; account: string; state: string; by_name: string }
      >("SELECT room_key, account, state, by_name FROM groups_access")
    ) {
      this.#rooms.get(a.room_key)?.access.set(a.account, {
        state: a.state === "kicked" ? "kicked" : "invited",
        by: a.by_name,
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

  /** Every room, unsorted (for a scan that does not need order). */
  each(): Iterable<Room> {
    return this.#rooms.values();
  }

  all(): Room[] {
    return [...this.#rooms.values()].sort((a, b) => NAME_ORDER.compare(a.name, b.name));
  }

  /** Creates a room, owned and joined by `owner` if given; ROOM_EXISTS if the name is taken. */
  async create(
    name: string,
    owner: string | undefined,
    opts: { private?: boolean; announce?: boolean; by?: string } = {},
  ): Promise<Room> {
    const key = name.toLowerCase();
    if (this.#rooms.has(key)) throw exists(name);
    const now = Date.now();
    if (owner !== undefined) this.counts.add(undefined, owner, 1);
    return await this.#turn(key, async () => {
      await this.db.tx(async (t) => {
        const r = await t.run(
          "INSERT INTO groups_rooms (room_key, name, created_by, created_at, private, announce)" +
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
          [key, name, owner ?? opts.by ?? "", now, opts.private ? 1 : 0, opts.announce ? 1 : 0],
        );
        // The store decides a race between two creates of one name: the loser gets ROOM_EXISTS.
        if (r.changes === 0) throw exists(name);
        if (owner === undefined) return;
        await t.run(
          "INSERT INTO groups_members (room_key, account, owner, joined_at) VALUES (?, ?, 1, ?)",
          [key, owner, now],
        );
        await t.run(EVER, [key, owner.toLowerCase()]);
      }).catch((e) => {
        if (owner !== undefined) this.counts.add(undefined, owner, -1);
        throw e;
      });
      const room: Room = {
        name,
        founder: owner,
        private: opts.private ?? false,
        announce: opts.announce ?? false,
        members: new Map(),
        access: new Map(),
      };
      if (owner !== undefined) room.members.set(owner.toLowerCase(), { name: owner, owner: true });
      this.#rooms.set(key, room);
      this.#changed(key);
      return room;
    });
  }

  /** Adds members (one transaction): `added`, those who were not members already, and of
   *  them `first`, those who never were a member before (groups_ever; what a room's past is
   *  given to). Joining uses up an invitation. The founder joins as an owner. */
  async join(room: Room, accounts: string[]): Promise<{ added: string[]; first: string[] }> {
    const added = accounts.filter((a) => !room.members.has(a.toLowerCase()));
    const first: string[] = [];
    if (added.length === 0) return { added, first };
    const key = room.name.toLowerCase();
    const now = Date.now();
    for (const a of added) this.counts.add(room, a, 1);
    return await this.#turn(key, async () => {
      await this.db.tx(async (t) => {
        for (const a of added) {
          await t.run(
            "INSERT INTO groups_members (room_key, account, owner, joined_at) VALUES (?, ?, ?, ?)" +
              " ON CONFLICT DO NOTHING",
            [key, a, isFounder(room, a) ? 1 : 0, now],
          );
          await t.run("DELETE FROM groups_access WHERE room_key = ? AND account = ?", [
            key,
            a.toLowerCase(),
          ]);
          // The store decides: of two joins at once, one is the first.
          if ((await t.run(EVER, [key, a.toLowerCase()])).changes > 0) first.push(a);
        }
      }).catch((e) => {
        for (const a of added) this.counts.add(room, a, -1);
        throw e;
      });
      for (const a of added) {
        if (room.members.has(a.toLowerCase())) this.counts.add(room, a, -1); // a concurrent join won
        room.members.set(a.toLowerCase(), { name: a, owner: isFounder(room, a) });
        room.access.delete(a.toLowerCase());
      }
      this.#changed(key);
      return { added, first };
    });
  }

  /** Removes a member; false if they were not one. A kick also keeps them out (see Access). */
  async leave(room: Room, account: string, kickedBy?: string): Promise<boolean> {
    const key = account.toLowerCase();
    if (!room.members.has(key)) return false;
    const roomKey = room.name.toLowerCase();
    return await this.#turn(roomKey, async () => {
      await this.db.tx(async (t) => {
        await t.run("DELETE FROM groups_members WHERE room_key = ? AND lower(account) = ?", [
          roomKey,
          key,
        ]);
        if (kickedBy !== undefined) await setAccess(t, roomKey, key, "kicked", kickedBy);
      });
      if (room.members.delete(key)) this.counts.add(room, key, -1);
      if (kickedBy !== undefined) room.access.set(key, { state: "kicked", by: kickedBy });
      this.#changed(roomKey);
      return true;
    });
  }

  /** Invites an account (also lifting a kick). */
  async invite(room: Room, account: string, by: string): Promise<void> {
    const key = account.toLowerCase();
    return await this.#turn(room.name.toLowerCase(), async () => {
      await setAccess(this.db, room.name.toLowerCase(), key, "invited", by);
      room.access.set(key, { state: "invited", by });
      this.#changed(room.name.toLowerCase());
    });
  }

  /** Makes a member an owner. */
  async op(room: Room, account: string): Promise<void> {
    const m = room.members.get(account.toLowerCase());
    if (!m || m.owner) return;
    return await this.#turn(room.name.toLowerCase(), async () => {
      await this.db.run(
        "UPDATE groups_members SET owner = 1 WHERE room_key = ? AND lower(account) = ?",
        [room.name.toLowerCase(), account.toLowerCase()],
      );
      // Looked up again: a reload in between makes new member objects.
      const now = room.members.get(account.toLowerCase());
      if (now) now.owner = true;
      this.#changed(room.name.toLowerCase());
    });
  }

  /** Turns announce-only on or off. */
  async setAnnounce(room: Room, on: boolean): Promise<void> {
    return await this.#turn(room.name.toLowerCase(), async () => {
      await this.db.run("UPDATE groups_rooms SET announce = ? WHERE room_key = ?", [
        on ? 1 : 0,
        room.name.toLowerCase(),
      ]);
      room.announce = on;
      this.#changed(room.name.toLowerCase());
    });
  }
}

/** A room as the store has it, read for a reload. */
interface RoomRead {
  r: { name: string; created_by: string; private: number; announce: number };
  members: Array<{ account: string; owner: number }>;
  access: Array<{ account: string; state: string; by_name: string }>;
}

/** Records that an account (lower case) is, or was, a member of a room (key). */
const EVER = "INSERT INTO groups_ever (room_key, account) VALUES (?, ?) ON CONFLICT DO NOTHING";

/** Did `account` (any case) create the room? */
export function isFounder(room: Room, account: string): boolean {
  return room.founder !== undefined && room.founder.toLowerCase() === account.toLowerCase();
}

function setAccess(db: Db, roomKey: string, account: string, state: string, by: string) {
  return db.run(
    "INSERT INTO groups_access (room_key, account, state, by_name, at) VALUES (?, ?, ?, ?, ?)" +
      " ON CONFLICT (room_key, account) DO UPDATE SET state = excluded.state," +
      " by_name = excluded.by_name, at = excluded.at",
    [roomKey, account, state, by, Date.now()],
  );
}

function exists(name: string) {
  return new ChatError("ROOM_EXISTS", `#${name} exists already; /join ${name} to join it`);
}
