/** How room frames read as lines, in the client and in plain-text mode. */
import type { Pin, RoomInfo } from "./protocol.ts";

/** ` (founder) (admin) (away)` and the like, after a member's name (client and plain-text
 *  mode). The founder is an owner, so `(founder)` says both. */
export function memberFlags(
  m: { online: boolean; owner: boolean; founder: boolean; admin: boolean },
): string {
  const role = m.founder ? " (founder)" : m.owner ? " (owner)" : "";
  return `${role}${m.admin ? " (admin)" : ""}${m.online ? "" : " (away)"}`;
}

/** `1 member`, `3 members`. */
export function memberCount(n: number): string {
  return `${n} member${n === 1 ? "" : "s"}`;
}

/** One room of a list, as people read it (client and plain-text mode):
 *  `#cs350  120 members, 31 online (class room, announce-only, you are in it)` */
export function roomLine(r: RoomInfo): string {
  return `#${r.room}  ${memberCount(r.members)}, ${r.online} online${roomFlags(r)}`;
}

/** ` (class room, private, you are in it)` and the like. */
function roomFlags(
  r: { class: boolean; private: boolean; announce: boolean; joined: boolean; invited: boolean },
): string {
  const f = [
    r.class && "class room",
    r.private && "private",
    r.announce && "announce-only",
    r.joined && "you are in it",
    r.invited && "you are invited",
  ].filter(Boolean);
  return f.length ? ` (${f.join(", ")})` : "";
}

/** `#cs350: the 3 posts above came before you joined` (client and plain-text mode). */
export function pastText(m: { room: string; history: number }): string {
  const posts = m.history === 1 ? "the post" : `the ${m.history} posts`;
  return `#${m.room}: ${posts} above came before you joined`;
}

/** `[post 12] Alice: the syllabus is up` (client and plain-text mode). */
export function pinLine(p: Pin): string {
  return `[post ${p.seq}] ${p.sender}: ${p.text}`;
}

/** `Alice unpinned post 12 in #cs350` (client and plain-text mode). */
export function unpinnedText(m: { room: string; seq: number; by: string }): string {
  return `${m.by} unpinned post ${m.seq} in #${m.room}`;
}
