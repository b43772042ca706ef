/**
 * The types of the services plugins offer each other (ServerApi.provide, ClientApi.provide),
 * declared here so that provider and user share one checked type without importing each
 * other's runtime. A plugin may import this file as it imports plugins/types.ts.
 */
import type { RawFrame } from "../protocol/spec.ts";
import type { ClientCtx } from "./types.ts";

/** The "groups.audience" service: the room's canonical name and who a post by `sender` goes
 *  to, or a ChatError (NO_SUCH_ROOM, NOT_A_MEMBER, KICKED, ANNOUNCE_ONLY). `room` undefined:
 *  the class room (NO_SUCH_ROOM if the server has none). */
export type Audience = (
  room: string | undefined,
  sender: string,
) => { room: string; to: string[] };

/** The "groups.fresh" service: in a cluster, reads the room again from the store (another
 *  node may have just let someone in), before asking Audience or RoomMembers; at once on one
 *  node. `room` undefined: the class room. Never fails: a room not found is Audience's to say. */
export type RoomRefresh = (room: string | undefined) => Promise<void>;

/** The "groups.members" service: the room's canonical name and its members (with `me`), if
 *  `me` is one, whatever the room's posting rules; or a ChatError (NO_SUCH_ROOM,
 *  NOT_A_MEMBER, KICKED). `room` undefined: the class room, as for Audience. */
export type RoomMembers = (
  room: string | undefined,
  me: string,
) => { room: string; members: string[] };

/** The "staff.roles" service: staff are the server admins and the accounts named staff
 *  (`classchat admin add-staff`, `/staff add`); `name` in any case. */
export interface StaffRoles {
  isStaff(name: string): boolean;
}

/** The "encrypt.sealer" client service: seals a short text end to end for one peer, as an
 *  opaque base64url string, and opens one. `context` names what it is (e.g. "file"), bound
 *  in so a sealed thing of one kind cannot be passed off as another; `what` is for errors. */
export interface Sealer {
  /** undefined: it goes in the clear (encryption off, or a peer never pinned has no key
   *  yet). Throws KEY_CHANGED if the peer's key changed since it was pinned, KEY_MISSING if
   *  the peer's key is pinned but the server no longer offers it. */
  seal(ctx: ClientCtx, peer: string, text: string, context: string): Promise<string | undefined>;
  /** Throws E2E_FAILED if it cannot be opened, KEY_CHANGED if the sender's key is not the
   *  one pinned (until the person accepts it with /verify). */
  open(
    ctx: ClientCtx,
    sender: string,
    sealed: string,
    context: string,
    what: string,
  ): Promise<string>;
  /** True if this computer has pinned `peer`'s key: something from them that arrives unsealed
   *  may have been read or written by the server, and should be marked so. */
  pinned(peer: string): boolean;
}

/** The "offline.posts" service: reads of the message log other plugins need without knowing
 *  its tables (groups: a new member's view of a room's past, the post a /pin names). */
/** A logged message: its frame as pushed, with its `seq`. */
export interface LoggedPost {
  seq: number;
  frame: RawFrame;
}

export interface PostsService {
  /** The last `limit` messages of `conv` that `account` did not send, from before it first
   *  received any of them (never shown to it: a new member's view of a room's past; never a
   *  post from a time it left the room and was out of it), oldest first. */
  unseen(conv: string, account: string, limit: number): Promise<LoggedPost[]>;
  /** The message `seq` of `conv`, or its latest message if `seq` is undefined. */
  get(conv: string, seq: number | undefined): Promise<LoggedPost | undefined>;
}
