/** Posting to a room (through the message log), and the "groups.audience" service by which
 *  other plugins (sendfile) post to rooms by the same rules. */
import { ChatError } from "../../protocol/errors.ts";
import type { HandlerCtx, PostResult } from "../types.ts";
import type { Audience, RoomMembers, RoomRefresh } from "../services.ts";
import { GroupMessage, GroupSend } from "./protocol.ts";
import { roomConv } from "./server_pins.ts";
import type { Groups } from "./groups.ts";
import type { RoomsCtx } from "./server_ctx.ts";

/** Who a post to `room` by `me` goes to (every member but `me`), or why `me` may not post. */
/** The room, if `me` is in it: NO_SUCH_ROOM, NOT_A_MEMBER or KICKED otherwise. */
function membership(g: Groups, room: string, me: string) {
  const r = g.rooms.find(room);
  if (!g.isMember(r, me)) {
    const access = r.access.get(me.toLowerCase());
    if (access?.state === "kicked") {
      throw new ChatError("KICKED", `you were kicked from #${r.name} by ${access.by}`);
    }
    throw new ChatError("NOT_A_MEMBER", `you are not in #${r.name}; /join ${r.name} first`);
  }
  return r;
}

function audience(g: Groups, room: string, me: string) {
  const r = membership(g, room, me);
  if (r.announce && !g.moderates(r, me)) {
    throw new ChatError(
      "ANNOUNCE_ONLY",
      `#${r.name} is announce-only: only its owners and admins post`,
    );
  }
  const to: string[] = [];
  for (const m of r.members.values()) if (m.name !== me) to.push(m.name);
  return { r, to };
}

export function roomPosts(g: RoomsCtx) {
  const { api } = g;

  // groups.send {room, text} -> ack {room, ts, seq?, sent, stored} | NO_SUCH_ROOM |
  //   NOT_A_MEMBER | KICKED | ANNOUNCE_ONLY | TEXT_TOO_LONG. Synchronous up to ctx.post: one
  //   room's posts are logged in the order they arrive, so every member sees the same order.
  //   In a cluster, the room's members are read again first (another node may have just let
  //   someone in). A room's reloads finish in the order asked (Rooms.reload: one at a time,
  //   and one not yet started is shared), so posts still reach the log in arrival order.
  api.on(GroupSend, ({ room, text }, ctx) => {
    if (text.length > api.limits.maxTextLength) {
      ctx.fail("TEXT_TOO_LONG", `a message has at most ${api.limits.maxTextLength} characters`);
    }
    if (api.bus.clustered && g.rooms.get(room)) {
      return g.rooms.reload(room.toLowerCase()).then(() => post(room, text, ctx));
    }
    return post(room, text, ctx);
  }, { pipelined: true });

  const post = (room: string, text: string, ctx: HandlerCtx) => {
    const { r, to } = audience(g, room, ctx.session.name!);
    const me = ctx.session.name!;
    const ts = Date.now();
    const result = (p: PostResult) => ({
      room: r.name,
      ts,
      seq: p.seq,
      sent: p.sent.length,
      stored: p.stored.length,
    });
    const p = ctx.post({
      conv: roomConv(r),
      to,
      spec: GroupMessage,
      body: { room: r.name, sender: me, text, ts },
    });
    return p instanceof Promise ? p.then(result) : result(p);
  };

  // The room a service is asked about: the class room when none is named.
  const named = (room: string | undefined) => {
    if (room !== undefined) return room;
    if (!g.classRoom) {
      throw new ChatError("NO_SUCH_ROOM", "name a room: this server has no class room");
    }
    return g.classRoom.name;
  };
  // Other plugins (sendfile, polls) post to rooms by the same rules.
  api.provide<Audience>("groups.audience", (room, me) => {
    const { r, to } = audience(g, named(room), me);
    return { room: r.name, to };
  });
  // A store out of reach: the room as this node has it (the service never fails).
  api.provide<RoomRefresh>("groups.fresh", async (room) => {
    if (!api.bus.clustered) return;
    const key = (room ?? g.classRoom?.name)?.replace(/^[#@]/, "").toLowerCase();
    if (key) await g.rooms.reload(key).catch((e) => api.log.error(`reading #${key}: ${e}`));
  });
  // Other plugins (questions) act in rooms their members are in, whatever its posting rules.
  api.provide<RoomMembers>("groups.members", (room, me) => {
    const r = membership(g, named(room), me);
    return { room: r.name, members: [...r.members.values()].map((m) => m.name) };
  });
}
