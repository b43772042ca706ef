/** Conversation keys: how the message log names a conversation (Post.conv). Pure functions,
 *  re-exported by plugins/types.ts. */

/** Conversation keys start with this for a room's posts (see roomConversation). */
export const ROOM_CONVERSATION = "room:";

/** The conversation key of a room's posts: `room:<name>`, case does not matter. */
export function roomConversation(room: string): string {
  return ROOM_CONVERSATION + room.toLowerCase();
}

/** The direct-message conversation key of two users: order and case do not matter. */
export function dmConversation(a: string, b: string): string {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()].sort();
  return `dm:${x}:${y}`;
}
