/** Room frames, shared by the groups plugin's client and server halves. */
import { ChatError } from "../../protocol/errors.ts";
import { field, message, type RawFrame } from "../../protocol/spec.ts";

/** Longest room name. 32 fits a course code and a section (`cs350-fall26-lab2`). */
export const MAX_ROOM_NAME = 32;
/** Room names: a letter or digit, then letters, digits, `_` or `-`; ASCII, so that
 *  case-insensitive uniqueness is exact. Written with or without a leading `#` or `@`. */
export const ROOM_SOURCE = "[A-Za-z0-9][A-Za-z0-9_-]*";
const ROOM_PATTERN = new RegExp(`^[#@]?(${ROOM_SOURCE})$`);

/** `@cs350 hello`: a post to a room (client input and plain-text mode). */
export const TO_ROOM_LINE = new RegExp(`^@(${ROOM_SOURCE})\\s+(\\S.*)$`);

const ROOM_RULE =
  `a room name has 1 to ${MAX_ROOM_NAME} letters, digits, _ or -, starting with a letter or digit`;

/** The room name without its `#`/`@`; BAD_ROOM_NAME if it breaks the rules. */
export function roomName(f: RawFrame, key = "room"): string {
  const raw = field.string(f, key, { min: 1, max: MAX_ROOM_NAME + 1 });
  const m = raw.match(ROOM_PATTERN);
  if (!m || m[1].length > MAX_ROOM_NAME) throw new ChatError("BAD_ROOM_NAME", ROOM_RULE);
  return m[1];
}

/** What is wrong with a room name given on the command line, if anything. */
export function roomNameProblem(name: string): string | undefined {
  const m = name.match(ROOM_PATTERN);
  return m && m[1].length <= MAX_ROOM_NAME ? undefined : ROOM_RULE;
}

/** groups.create {room, private?} -> ack {room, private} | ROOM_EXISTS | BAD_ROOM_NAME |
 *  TOO_MANY_ROOMS; the creator joins and owns it. A private room is joined only by invitation. */
export const GroupCreate = message("groups.create", (f) => ({
  room: roomName(f),
  private: f.private === undefined ? false : field.boolean(f, "private"),
}), { ack: (f) => ({ room: field.text(f, "room"), private: field.boolean(f, "private") }) });
/** groups.join {room} -> ack {room, members} | NO_SUCH_ROOM | INVITE_ONLY | KICKED |
 *  TOO_MANY_ROOMS (--max-rooms-per-account; the class room does not count); joining twice is
 *  fine. */
export const GroupJoin = message("groups.join", (f) => ({ room: roomName(f) }), {
  ack: (f) => ({ room: field.text(f, "room"), members: field.number(f, "members") }),
});
/** groups.leave {room} -> ack {room} | NO_SUCH_ROOM | NOT_A_MEMBER | CLASS_ROOM */
export const GroupLeave = message("groups.leave", (f) => ({ room: roomName(f) }), {
  ack: (f) => ({ room: field.text(f, "room") }),
});
/** groups.list {} -> ack {rooms: [RoomInfo]}: every room this account may see (private rooms
 *  only for their members, invitees and admins). */
export const GroupList = message("groups.list", () => ({}), {
  ack: (f) => ({ rooms: array(f, "rooms").map(roomInfo) }),
});
/** groups.members {room} -> ack {room, members: [{name, online, owner, founder, admin}]} |
 *  NO_SUCH_ROOM | NOT_A_MEMBER (a private room, asked by an outsider). `founder`: the account
 *  that created the room (an owner too); the class room has none. */
export const GroupMembers = message("groups.members", (f) => ({ room: roomName(f) }), {
  ack: (f) => ({ room: field.text(f, "room"), members: array(f, "members").map(memberInfo) }),
});
/** groups.send {room, text} -> ack {room, ts, seq?, sent, stored} | NO_SUCH_ROOM |
 *  NOT_A_MEMBER | KICKED | ANNOUNCE_ONLY | TEXT_TOO_LONG: sent = members online now, stored = members who get it when
 *  they connect. */
export const GroupSend = message("groups.send", (f) => ({
  room: roomName(f),
  text: field.text(f, "text", { min: 1 }),
}), {
  resend: true, // queued while reconnecting, sent again until answered
  ack: (f) => ({
    room: field.text(f, "room"),
    ts: field.number(f, "ts"),
    seq: field.optionalNumber(f, "seq"),
    sent: field.number(f, "sent"),
    stored: field.number(f, "stored"),
  }),
});

/** The moderation requests below are for owners of the room and server admins (NOT_ALLOWED
 *  for anyone else); `name` is an account (NO_SUCH_USER if none has it). */
const target = (f: RawFrame) => ({ room: roomName(f), name: field.text(f, "name", { min: 1 }) });
/** Their ack: the room and the account as the server names them. */
const targetAck = {
  ack: (f: RawFrame) => ({ room: field.text(f, "room"), name: field.text(f, "name") }),
};
/** groups.kick {room, name} -> ack {room, name} | NOT_A_MEMBER (they are not in it) |
 *  NOT_ALLOWED (also: kicking yourself, a server admin, or the room's founder unless you are a
 *  server admin): removes them and keeps them out until an owner invites them again. */
export const GroupKick = message("groups.kick", target, targetAck);
/** groups.op {room, name} -> ack {room, name} | NOT_A_MEMBER: makes a member an owner. */
export const GroupOp = message("groups.op", target, targetAck);
/** groups.invite {room, name} -> ack {room, name} | TOO_MANY_ROOMS (they could not join): lets
 *  them join a private room (or rejoin after a kick); they are told if online, and see it in
 *  groups.list. */
export const GroupInvite = message("groups.invite", target, targetAck);
/** groups.announce {room, on} -> ack {room, on}: announce-only on (only owners and admins
 *  post) or off. */
export const GroupAnnounce = message("groups.announce", (f) => ({
  room: roomName(f),
  on: field.boolean(f, "on"),
}), { ack: (f) => ({ room: field.text(f, "room"), on: field.boolean(f, "on") }) });

/** groups.message {room, sender, text, ts}: a post, pushed to every other member (with seq,
 *  its post id; `replay: "history"` when it is a past post, see groups.welcome). */
export const GroupMessage = message("groups.message", (f): {
  room: string;
  sender: string;
  text: string;
  ts: number;
  seq?: number;
  replay?: string;
} => ({
  room: field.text(f, "room"),
  sender: field.text(f, "sender"),
  text: field.text(f, "text"),
  ts: field.number(f, "ts"),
  seq: field.optionalNumber(f, "seq"),
  replay: field.optionalString(f, "replay"),
}));

/** A pinned post: `seq` is its post id (the message log's), `by` who pinned it. */
export interface Pin {
  seq: number;
  sender: string;
  text: string;
  ts: number;
  by: string;
}
const pinOf = (o: Record<string, unknown>): Pin => {
  const p = o as RawFrame;
  return {
    seq: field.number(p, "seq"),
    sender: field.text(p, "sender"),
    text: field.text(p, "text"),
    ts: field.number(p, "ts"),
    by: field.text(p, "by"),
  };
};
const pins = (f: RawFrame): Pin[] => {
  if (!Array.isArray(f.pins)) throw new ChatError("BAD_FRAME", `field "pins" must be an array`);
  return f.pins.map((p) => pinOf(field.object({ type: "", pin: p }, "pin")));
};
const postId = (f: RawFrame, key: string) => {
  const seq = field.optionalNumber(f, key);
  if (seq !== undefined && !(Number.isSafeInteger(seq) && seq > 0)) {
    throw new ChatError("BAD_FRAME", `field "${key}" must be a post id (a whole number)`);
  }
  return seq;
};
/** groups.pin {room, seq?} -> ack {room, pin} | NO_SUCH_ROOM | NOT_ALLOWED (owners and server
 *  admins pin) | NO_SUCH_POST | TOO_MANY_PINS: pins the room's post `seq`, or its latest post;
 *  pinning a pinned post again is fine. TOO_MANY_PINS: the room has --max-pins pins, or their
 *  texts would pass PINNED_TEXT_BUDGET characters (limits.ts). Members online get
 *  groups.pinned. */
export const GroupPin = message(
  "groups.pin",
  (f) => ({ room: roomName(f), seq: postId(f, "seq") }),
  { ack: (f) => ({ room: field.text(f, "room"), pin: pinOf(field.object(f, "pin")) }) },
);
/** groups.unpin {room, seq} -> ack {room, seq} | NO_SUCH_ROOM | NOT_ALLOWED | NO_SUCH_POST (not
 *  pinned). Members online get groups.unpinned. */
export const GroupUnpin = message("groups.unpin", (f) => ({
  room: roomName(f),
  seq: postId(f, "seq") ?? field.number(f, "seq"),
}), { ack: (f) => ({ room: field.text(f, "room"), seq: field.number(f, "seq") }) });
/** groups.pins {room} -> ack {room, pins: [Pin]} (oldest pin first) | NO_SUCH_ROOM |
 *  NOT_A_MEMBER (a private room, asked by an outsider). */
export const GroupPins = message("groups.pins", (f) => ({ room: roomName(f) }), {
  ack: (f): { room: string; pins: readonly Pin[] } => ({
    room: field.text(f, "room"),
    pins: pins(f),
  }),
});
/** groups.pinned {room, pin}: a post was pinned (to the room's members online). */
export const GroupPinned = message("groups.pinned", (f) => ({
  room: field.text(f, "room"),
  pin: pinOf(field.object(f, "pin")),
}));
/** groups.unpinned {room, seq, by}: post `seq` was unpinned by `by` (to the room's members
 *  online but `by`). */
export const GroupUnpinned = message("groups.unpinned", (f) => ({
  room: field.text(f, "room"),
  seq: field.number(f, "seq"),
  by: field.text(f, "by"),
}));
/** groups.welcome {room, history, pins}: to a new member (on their first join of the room:
 *  one who left or was kicked gets nothing when they come back), after the `history` posts of
 *  the room from before they joined (at most --join-history, pushed just before as
 *  groups.message with `replay: "history"`), with the room's pinned posts. Not sent when both
 *  are empty. */
export const GroupWelcome = message("groups.welcome", (f) => ({
  room: field.text(f, "room"),
  history: field.number(f, "history"),
  pins: pins(f),
}));

/** groups.joined {room, name}: pushed to the room's other members online. */
export const GroupJoined = message("groups.joined", (f) => ({
  room: field.text(f, "room"),
  name: field.text(f, "name"),
}));
/** groups.left {room, name, by?}: pushed to the room's other members online; `by` is set
 *  when `name` was kicked (who then gets groups.kicked instead). */
export const GroupLeft = message("groups.left", (f) => ({
  room: field.text(f, "room"),
  name: field.text(f, "name"),
  by: f.by === undefined ? undefined : field.text(f, "by"),
}));
/** groups.opped {room, name, by}: `name` is now an owner (to members online). */
export const GroupOpped = message("groups.opped", (f) => ({
  room: field.text(f, "room"),
  name: field.text(f, "name"),
  by: field.text(f, "by"),
}));
/** groups.mode {room, announce, by}: announce-only was switched (to members online). */
export const GroupMode = message("groups.mode", (f) => ({
  room: field.text(f, "room"),
  announce: field.boolean(f, "announce"),
  by: field.text(f, "by"),
}));
/** groups.kicked {room, by}: to the member kicked, if online. */
export const GroupKicked = message("groups.kicked", (f) => ({
  room: field.text(f, "room"),
  by: field.text(f, "by"),
}));
/** groups.invited {room, by}: to the invitee, if online. */
export const GroupInvited = message("groups.invited", (f) => ({
  room: field.text(f, "room"),
  by: field.text(f, "by"),
}));

export interface RoomInfo {
  room: string;
  members: number;
  online: number;
  joined: boolean;
  private: boolean;
  announce: boolean;
  /** Invited and not yet joined. */
  invited: boolean;
  /** The class room every account is in (`serve --class-room`). */
  class: boolean;
}

function roomInfo(r: RawFrame): RoomInfo {
  return {
    room: field.text(r, "room"),
    members: field.number(r, "members"),
    online: field.number(r, "online"),
    joined: field.boolean(r, "joined"),
    private: field.boolean(r, "private"),
    announce: field.boolean(r, "announce"),
    invited: field.boolean(r, "invited"),
    class: field.boolean(r, "class"),
  };
}

/** One entry of groups.members' ack. */
export interface MemberInfo {
  name: string;
  online: boolean;
  owner: boolean;
  founder: boolean;
  admin: boolean;
}

function memberInfo(m: RawFrame): MemberInfo {
  return {
    name: field.text(m, "name"),
    online: field.boolean(m, "online"),
    owner: field.boolean(m, "owner"),
    founder: field.boolean(m, "founder"),
    admin: field.boolean(m, "admin"),
  };
}

/** An array field whose entries are objects, each checked by the caller's reader (which
 *  refuses a non-object entry with BAD_FRAME, see field.object). */
function array(f: RawFrame, key: string): RawFrame[] {
  const v = f[key];
  if (!Array.isArray(v)) throw new ChatError("BAD_FRAME", `field "${key}" must be an array`);
  return v;
}
