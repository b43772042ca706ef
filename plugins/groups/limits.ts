/** The rooms-per-account limit (`serve --max-rooms-per-account <n>`): joining, creating or being
 *  invited to one room more than it allows is TOO_MANY_ROOMS. The class room does not count. */
import { ChatError } from "../../protocol/errors.ts";
import type { Room } from "./room.ts";
import { count } from "../../protocol/settings.ts";

/** Rooms an account may be in unless the server says otherwise. A student is in a handful of
 *  course and project rooms, so 100 never gets in anyone's way; the bound keeps one account
 *  from creating thousands of rooms and the per-member state (store rows, memory, fan-out)
 *  each one costs. */
export const DEFAULT_MAX_ROOMS_PER_ACCOUNT = 100;
/** The largest value the option takes: beyond it the limit would not bound anything. */
export const MAX_ROOMS_PER_ACCOUNT_CEILING = 100_000;

/** `serve --max-rooms-per-account <n>`. */
export const MAX_ROOMS_PER_ACCOUNT = count({
  flag: "--max-rooms-per-account <n>",
  help: "rooms one account may be in, the class room not counted (1-100000)",
  default: DEFAULT_MAX_ROOMS_PER_ACCOUNT,
  min: 1,
  max: MAX_ROOMS_PER_ACCOUNT_CEILING,
});

/**
 * A check to run right before a join (no await in between: the store counts a join from
 * before its write): throws TOO_MANY_ROOMS if `account` may not be in one room more: `room`,
 * or a new one if undefined. Being in `room` already, or `room` being the class room (see
 * RoomCounts.uncount), is always fine. `invitee` words the message for an owner inviting `account`.
 * `counts` is the store's (Rooms.counts).
 */
export function roomLimit(counts: RoomCounts, max: number) {
  return (room: Room | undefined, account: string, invitee = false): void => {
    if (room && (!counts.counted(room) || room.members.has(account.toLowerCase()))) return;
    const n = counts.of(account);
    if (n < max) return;
    const inRooms = `${n} room${n === 1 ? "" : "s"}`;
    const count = n === max
      ? `${inRooms}, the most this server allows`
      : `${inRooms}, more than the ${max} this server allows`;
    throw new ChatError(
      "TOO_MANY_ROOMS",
      invitee
        ? `${account} is in ${count}; they must leave one first`
        : `you are in ${count}; leave one first`,
    );
  };
}

/** Rooms per account (lower-cased account -> count), kept by the store (Rooms) as members come
 *  and go, so the limit is checked in O(1). A join counts from before its write (and is taken
 *  back if the write fails), so a check and the join it allows have no await between them. */
export class RoomCounts {
  readonly #n = new Map<string, number>();
  #uncounted: Room | undefined;

  /** Rooms the account is in or joining, the uncounted one (the class room) not included. */
  of(account: string): number {
    return this.#n.get(account.toLowerCase()) ?? 0;
  }

  /** Stops counting memberships of `room` (the class room, which every account is in). Once,
   *  at start-up, before any join. */
  uncount(room: Room): void {
    if (this.#uncounted) throw new Error("uncount: one room only");
    this.#uncounted = room;
    for (const m of room.members.keys()) this.add(undefined, m, -1);
  }

  counted(room: Room): boolean {
    return room !== this.#uncounted;
  }

  /** Counts a membership of `room` (undefined: a room being created) in or out (by 1 or -1). */
  add(room: Room | undefined, account: string, by: number): void {
    if (room !== undefined && !this.counted(room)) return;
    const key = account.toLowerCase();
    const n = (this.#n.get(key) ?? 0) + by;
    if (n > 0) this.#n.set(key, n);
    else this.#n.delete(key);
  }
}

/** Past posts a new member of a room is given (`serve --join-history <n>`): the room's last
 *  posts they never received. 50 holds a term's announcements or a day of a project room's
 *  talk, and a join costs at most one read of 50 rows and 50 frames; 0 gives none. */
export const DEFAULT_JOIN_HISTORY = 50;
/** Pinned posts per room (`serve --max-pins <n>`): a syllabus, deadlines, rules. 20 is more
 *  than a room reads at a glance, and every new member is sent them all. */
export const DEFAULT_MAX_PINS = 20;
/** The most --max-pins takes. A room's pins travel in one frame (groups.welcome, sent on every
 *  first join, and the groups.pins ack), so they are bounded with PINNED_TEXT_BUDGET: 50 pins'
 *  fields (ids, times, two names of at most 256 ASCII characters at the largest
 *  --max-name-length) are under 35 KB. More is no longer a list anyone reads. */
export const MAX_PINS_CEILING = 50;
/** Characters (UTF-16 units, as --max-text-length counts them) of all a room's pinned texts
 *  together; a pin that would pass it is TOO_MANY_PINS. 24,000 holds three posts of the
 *  default longest (8,000) or 50 pins of 480. At worst 6 bytes a character in JSON (a
 *  `\u` escape) that is 144 KB: with the fields above a room's pins fit in under 180 KB, far
 *  inside the client's 1 MiB frame cap and the 1 MiB default send queue, whatever the pins. */
export const PINNED_TEXT_BUDGET = 24_000;

/** `serve --join-history <n>`: 500 is the most a join may cost (rows read, frames sent). */
export const JOIN_HISTORY = count({
  flag: "--join-history <n>",
  help: "past posts of a room a new member is given (0-500)",
  default: DEFAULT_JOIN_HISTORY,
  min: 0,
  max: 500,
});

/** `serve --max-pins <n>`. */
export const MAX_PINS = count({
  flag: "--max-pins <n>",
  help: `pinned posts a room may have (1-${MAX_PINS_CEILING})`,
  default: DEFAULT_MAX_PINS,
  min: 1,
  max: MAX_PINS_CEILING,
});
