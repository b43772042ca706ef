/**
 * The closed set of error codes. Clients and tests match on these, never on message text,
 * so a code is never renamed or reused for another meaning; new ones may be added.
 */
export const ERROR_CODES = {
  // Framing and shape: checked by the router before any handler runs.
  FRAME_TOO_LARGE: "a line exceeded the frame size limit; it was discarded",
  BAD_UTF8: "the line was not valid UTF-8",
  BAD_JSON: "the line was not a JSON object",
  BAD_FRAME: "the frame's fields have the wrong shape or type",
  UNKNOWN_TYPE: "no enabled plugin handles this frame type",
  NOT_LOGGED_IN: "this frame needs a logged-in session",
  ALREADY_LOGGED_IN: "this connection is already logged in",
  RATE_LIMITED: "too many frames; slow down",
  // Names and users.
  BAD_NAME: "the name breaks the naming rules",
  NAME_IN_USE: "someone else is using that name",
  // Accounts.
  BAD_PASSWORD: "the password is wrong for this account",
  WEAK_PASSWORD: "the password breaks the password rules (length)",
  BAD_TOKEN: "the resume token is unknown or expired",
  NO_SUCH_USER: "no account by that name exists",
  USER_OFFLINE: "the user is not online and this server stores no messages (no offline plugin)",
  SESSION_REPLACED: "the same account resumed its session from another connection",
  TEXT_TOO_LONG: "the text exceeds the text length limit",
  // Rooms (plugin groups).
  BAD_ROOM_NAME: "the room name breaks the naming rules",
  NO_SUCH_ROOM: "no room by that name exists",
  ROOM_EXISTS: "a room by that name exists already",
  NOT_A_MEMBER: "you (or the user named) are not a member of that room",
  NOT_ALLOWED: "only an owner of the room or a server admin may do that",
  KICKED: "you were kicked from that room; an owner may invite you back",
  ANNOUNCE_ONLY: "the room is announce-only: only its owners and server admins post",
  INVITE_ONLY: "the room is private: an owner must invite you first",
  CLASS_ROOM: "the class room cannot be left: every account is in it",
  TOO_MANY_ROOMS: "the account is in as many rooms as the server allows (--max-rooms-per-account)",
  NO_SUCH_POST: "the room has no post with that id (or it is not pinned)",
  TOO_MANY_PINS: "the room has as many pinned posts as the server allows (--max-pins); unpin one",
  // File transfer (plugin sendfile); the NO_SUCH_FILE .. FILE_UNREADABLE ones are reported by
  // the sending client before anything is sent.
  FILE_TOO_LARGE: "the file is larger than the server keeps for recipients away (--max-file-size)",
  QUOTA_EXCEEDED: "the server's space for kept files is full (--file-quota); try again later",
  TOO_MANY_TRANSFERS: "too many file transfers going at once on this connection",
  TRANSFER_CANCELLED: "the file transfer ended unfinished (cancelled, disconnected or broken)",
  CHECKSUM_MISMATCH: "the received file's SHA-256 differs from the sender's; it was not kept",
  NO_SUCH_FILE: "there is no file at that path",
  NOT_A_FILE: "the path is a directory or another non-file",
  FILE_UNREADABLE: "the file could not be read (permissions?)",
  // End-to-end encryption (reported by the client).
  KEY_CHANGED: "a peer's end-to-end key changed; compare safety numbers before writing",
  NO_KEY: "the user has no end-to-end key yet",
  E2E_FAILED: "an end-to-end encrypted message could not be opened",
  KEY_MISSING:
    "the server has no end-to-end key for a peer whose key you pinned; nothing was sent unencrypted",
  NOT_ENCRYPTED:
    "a message or file from a peer whose key you pinned came without end-to-end encryption",
  // Connection-level reasons (sent in session.closing).
  SEND_QUEUE_EXCEEDED: "the client read too slowly and its outgoing queue overflowed",
  SERVER_SHUTDOWN: "the server is shutting down",
  TOO_MANY_CONNECTIONS:
    "the server, or your address, has as many connections as it takes; try again later",
  LOGIN_TIMEOUT: "the connection did not log in in time",
  IDLE_TIMEOUT: "nothing was heard from the peer for the idle time, not even a ping answer",
  TOO_MANY_ERRORS: "the connection sent too many malformed or refused frames",
  NOT_CHAT_PROTOCOL: "the first bytes were a TLS handshake or other non-chat data",
  TLS_REQUIRED: "plain text arrived on a TLS port; connect with TLS (or to a --no-tls server)",
  // Plain-text mode.
  UNKNOWN_COMMAND: "the plain-text line matched no command",
  INTERNAL: "the server failed while handling the request; it was logged",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** Thrown by handlers (via `ctx.fail`) and decoders; the router turns it into an error frame. */
export class ChatError extends Error {
  /** `extra` adds fields to the error frame, e.g. `{ retryAfterMs }` with RATE_LIMITED. */
  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code],
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ChatError";
  }
}
