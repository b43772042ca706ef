/** Presence frames: who is online, and join/leave notices to the people related to a user
 *  (who share a room or a conversation with them: ServerApi.related). */
import { field, message } from "../../protocol/spec.ts";

/** presence.who {} -> ack {users: string[]} (sorted, case-insensitively): everyone online,
 *  related or not. */
export const PresenceWho = message("presence.who", () => ({}), {
  ack: (f) => ({ users: field.textArray(f, "users") }),
});

/** presence.joined {name}: pushed to the users related to `name`, online, when it logs in. */
export const PresenceJoined = message(
  "presence.joined",
  (f) => ({ name: field.text(f, "name") }),
);

/** presence.left {name, reason}: reason is "quit", "disconnected" or an error code. */
export const PresenceLeft = message("presence.left", (f) => ({
  name: field.text(f, "name"),
  reason: field.text(f, "reason"),
}));

/** Names a combined notice lists; the rest are counted ("and 12 others"). Five fit one line. */
export const SHOWN_NAMES = 5;

/** presence.changes {joined, left, joinedCount, leftCount}: several notices to one user within
 *  the presence window, in one frame. `joined`/`left` list at most SHOWN_NAMES names each; the
 *  counts say how many there were in all. */
export const PresenceChanges = message("presence.changes", (f) => ({
  joined: field.textArray(f, "joined"),
  left: field.textArray(f, "left"),
  joinedCount: field.number(f, "joinedCount"),
  leftCount: field.number(f, "leftCount"),
}));

/** `Alice, Bob and 12 others joined; Carol left` (client and plain-text mode). */
export function changesText(
  m: { joined: string[]; left: string[]; joinedCount: number; leftCount: number },
  style: (name: string) => string = (n) => n,
): string {
  const part = (names: string[], count: number, verb: string) => {
    if (count === 0) return [];
    const shown = names.map(style);
    const others = count - shown.length;
    const list = others > 0
      ? `${shown.join(", ")} and ${others} other${others === 1 ? "" : "s"}`
      : shown.length > 1
      ? `${shown.slice(0, -1).join(", ")} and ${shown.at(-1)}`
      : shown.join("");
    return [`${list} ${verb}`];
  };
  return [...part(m.joined, m.joinedCount, "joined"), ...part(m.left, m.leftCount, "left")]
    .join("; ");
}
