/** What rooms there are, and who is in one. */
import { NAME_ORDER } from "../../protocol/limits.ts";
import { GroupList, GroupMembers } from "./protocol.ts";
import { isFounder, type Room } from "./store.ts";
import type { RoomsCtx } from "./server_ctx.ts";

export function roomQueries(c: RoomsCtx) {
  const { api, rooms } = c;

  // groups.list {} -> ack {rooms: [RoomInfo]}: private rooms only for members, invitees, admins
  api.on(GroupList, (_m, ctx) => {
    const me = ctx.session.name!;
    const key = me.toLowerCase();
    const admin = api.accounts.isAdmin(me);
    const visible = (r: Room) =>
      !r.private || admin || r.members.has(key) || r.access.get(key)?.state === "invited";
    return {
      rooms: rooms.all().filter(visible).map((r) => ({
        room: r.name,
        members: r.members.size,
        online: c.online(r).length,
        joined: r.members.has(key),
        private: r.private,
        announce: r.announce,
        invited: !r.members.has(key) && r.access.get(key)?.state === "invited",
        class: r === c.classRoom,
      })),
    };
  });

  // groups.members {room} -> ack {room, members: [{name, online, owner, founder, admin}]}
  api.on(GroupMembers, ({ room }, ctx) => {
    const r = rooms.find(room);
    const me = ctx.session.name!;
    if (r.private && !c.isMember(r, me) && !api.accounts.isAdmin(me)) {
      ctx.fail("NOT_A_MEMBER", `#${r.name} is private and you are not in it`);
    }
    const members = [...r.members.values()]
      .map((m) => ({
        name: m.name,
        online: api.sessions.get(m.name) !== undefined,
        owner: m.owner,
        founder: isFounder(r, m.name),
        admin: api.accounts.isAdmin(m.name),
      }))
      .sort((a, b) => NAME_ORDER.compare(a.name, b.name));
    return { room: r.name, members };
  });
}
