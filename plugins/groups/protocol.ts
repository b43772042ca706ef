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

/** The room name without its `#`/`@`; BAD_ROOM_NAME if it breaks the rules. */
export function roomName(f: RawFrame, key = "room"): string {
  const raw = field.string(f, key, { min: 1, max: MAX_ROOM_NAME + 1 });
  const m = raw.match(ROOM_PATTERN);
  if (!m || m[1].length > MAX_ROOM_NAME) {
    throw new ChatError(
      "BAD_ROOM_NAME",
      `a room name has 1 to ${MAX_ROOM_NAME} letters, digits, _ or -, starting with a letter or digit`,
    );
  }
  return m[1];
}

/** groups.create {room} -> ack {room} | ROOM_EXISTS | BAD_ROOM_NAME; the creator joins and
 *  owns it. */
export const GroupCreate = message("groups.create", (f) => ({ room: roomName(f) }));
/** groups.join {room} -> ack {room, members} | NO_SUCH_ROOM; joining twice is fine. */
export const GroupJoin = message("groups.join", (f) => ({ room: roomName(f) }));
/** groups.leave {room} -> ack {room} | NO_SUCH_ROOM | NOT_A_MEMBER */
export const GroupLeave = message("groups.leave", (f) => ({ room: roomName(f) }));
/** groups.list {} -> ack {rooms: [{room, members, online, joined}]} */
export const GroupList = message("groups.list", () => ({}));
/** groups.members {room} -> ack {room, members: [{name, online, owner}]} | NO_SUCH_ROOM */
export const GroupMembers = message("groups.members", (f) => ({ room: roomName(f) }));
/** groups.send {room, text} -> ack {room, ts, seq?, sent, stored} | NO_SUCH_ROOM |
 *  NOT_A_MEMBER | TEXT_TOO_LONG: sent = members online now, stored = members who get it when
 *  they connect. */
export const GroupSend = message("groups.send", (f) => ({
  room: roomName(f),
  text: field.text(f, "text", { min: 1 }),
}));

/** groups.message {room, sender, text, ts}: a post, pushed to every other member (with seq). */
export const GroupMessage = message("groups.message", (f) => ({
  room: field.text(f, "room"),
  sender: field.text(f, "sender"),
  text: field.text(f, "text"),
  ts: field.number(f, "ts"),
}));

/** groups.joined / groups.left {room, name}: pushed to the room's other members online. */
export const GroupJoined = message("groups.joined", (f) => ({
  room: field.text(f, "room"),
  name: field.text(f, "name"),
}));
export const GroupLeft = message("groups.left", (f) => ({
  room: field.text(f, "room"),
  name: field.text(f, "name"),
}));

export interface RoomInfo {
  room: string;
  members: number;
  online: number;
  joined: boolean;
}

export const ListAck = message("ack", (f) => ({
  rooms: (Array.isArray(f.rooms) ? f.rooms : []).map((r: RawFrame): RoomInfo => ({
    room: field.text(r, "room"),
    members: field.number(r, "members"),
    online: field.number(r, "online"),
    joined: field.boolean(r, "joined"),
  })),
}));

export const MembersAck = message("ack", (f) => ({
  room: field.text(f, "room"),
  members: (Array.isArray(f.members) ? f.members : []).map((m: RawFrame) => ({
    name: field.text(m, "name"),
    online: field.boolean(m, "online"),
    owner: field.boolean(m, "owner"),
  })),
}));

export const SendAck = message("ack", (f) => ({
  room: field.text(f, "room"),
  sent: field.number(f, "sent"),
  stored: field.number(f, "stored"),
}));
