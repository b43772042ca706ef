/** The groups plugin's error codes (Plugin.errors): sent by its server, and by plugins that
 *  post to rooms through its "groups.audience" service (sendfile). */
import { PINNED_TEXT_BUDGET } from "./limits.ts";

export const GROUPS_ERRORS = {
  BAD_ROOM_NAME: "the room name breaks the naming rules",
  NO_SUCH_ROOM: "no room by that name exists",
  ROOM_EXISTS: "a room by that name exists already",
  NOT_A_MEMBER: "you (or the user named) are not a member of that room",
  NOT_ALLOWED:
    "only an owner of the room or a server admin may do that (no one kicks themselves, and only an admin kicks an admin or the founder)",
  KICKED: "you were kicked from that room; an owner may invite you back",
  ANNOUNCE_ONLY: "the room is announce-only: only its owners and server admins post",
  INVITE_ONLY: "the room is private: an owner must invite you first",
  CLASS_ROOM: "the class room cannot be left: every account is in it",
  TOO_MANY_ROOMS: "the account is in as many rooms as the server allows (--max-rooms-per-account)",
  NO_SUCH_POST: "the room has no post with that id (or it is not pinned)",
  TOO_MANY_PINS:
    `the room has --max-pins pinned posts, or its pinned texts would pass ${PINNED_TEXT_BUDGET} characters; unpin one`,
} as const;
