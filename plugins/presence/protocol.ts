/** Presence frames: who is online, and join/leave notices. */
import { field, message } from "../../protocol/spec.ts";

/** presence.who {} -> ack {users: string[]} (sorted, case-insensitively) */
export const PresenceWho = message("presence.who", () => ({}));
export const WhoResult = message("ack", (f) => ({ users: field.textArray(f, "users") }));

/** presence.joined {name}: pushed to everyone else when a user logs in. */
export const PresenceJoined = message(
  "presence.joined",
  (f) => ({ name: field.text(f, "name") }),
);

/** presence.left {name, reason}: reason is "quit", "disconnected" or an error code. */
export const PresenceLeft = message("presence.left", (f) => ({
  name: field.text(f, "name"),
  reason: field.text(f, "reason"),
}));
