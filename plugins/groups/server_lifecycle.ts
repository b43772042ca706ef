/** Creating, joining and leaving rooms. */
import { GroupCreate, GroupJoin, GroupJoined, GroupLeave, GroupLeft } from "./protocol.ts";
import { isFounder } from "./store.ts";
import type { RoomsCtx } from "./server_ctx.ts";

export function roomLifecycle(c: RoomsCtx) {
  const { api, rooms } = c;

  // groups.create {room, private?} -> ack {room, private} | ROOM_EXISTS | BAD_ROOM_NAME |
  //   TOO_MANY_ROOMS
  api.on(GroupCreate, async ({ room, private: priv }, ctx) => {
    if (!rooms.get(room)) c.roomLimit(undefined, ctx.session.name!);
    const r = await rooms.create(room, ctx.session.name!, { private: priv });
    return { room: r.name, private: r.private };
  });

  // groups.join {room} -> ack {room, members} | NO_SUCH_ROOM | INVITE_ONLY | KICKED |
  //   TOO_MANY_ROOMS. The founder needs no invitation to their own room.
  api.on(GroupJoin, async ({ room }, ctx) => {
    // In a cluster, a room just made on another node may not have reached this one yet.
    if (api.bus.clustered && !rooms.get(room)) await rooms.reload(room.toLowerCase());
    const r = rooms.find(room);
    const me = ctx.session.name!;
    const access = r.access.get(me.toLowerCase());
    const founder = isFounder(r, me);
    if (!c.isMember(r, me) && !api.accounts.isAdmin(me)) {
      // Only a server admin's kick keeps the founder out: one by an owner is from a server
      // that let owners kick the founder (issue 16), and must not lock them out for good.
      if (access?.state === "kicked" && (!founder || api.accounts.isAdmin(access.by))) {
        ctx.fail(
          "KICKED",
          `you were kicked from #${r.name} by ${access.by}; an owner may invite you back`,
        );
      }
      if (r.private && !founder && access?.state !== "invited") {
        ctx.fail("INVITE_ONLY", `#${r.name} is private: an owner must /invite you first`);
      }
    }
    c.roomLimit(r, me);
    const { added, first } = await rooms.join(r, [me]);
    if (added.length) c.push(r, GroupJoined, { room: r.name, name: me }, me);
    c.welcomed(r, first);
    return { room: r.name, members: r.members.size };
  });

  // groups.leave {room} -> ack {room} | NO_SUCH_ROOM | NOT_A_MEMBER | CLASS_ROOM
  api.on(GroupLeave, async ({ room }, ctx) => {
    const r = rooms.find(room);
    const me = ctx.session.name!;
    if (r === c.classRoom && c.isMember(r, me)) {
      ctx.fail("CLASS_ROOM", `#${r.name} is the class room: every account is in it`);
    }
    if (!(await rooms.leave(r, me))) ctx.fail("NOT_A_MEMBER", `you are not in #${r.name}`);
    c.push(r, GroupLeft, { room: r.name, name: me, by: undefined }, me);
    return { room: r.name };
  });
}
