/** Room moderation, for a room's owners and server admins: kick, op, invite, announce-only. */
import type { HandlerCtx } from "../types.ts";
import {
  GroupAnnounce,
  GroupInvite,
  GroupInvited,
  GroupKick,
  GroupKicked,
  GroupLeft,
  GroupMode,
  GroupOp,
  GroupOpped,
} from "./protocol.ts";
import { isFounder, type Room } from "./store.ts";
import type { Groups } from "./groups.ts";

export function groupsModeration(g: Groups) {
  const { api, rooms } = g;

  /** The room, if this session may moderate it; NO_SUCH_ROOM or NOT_ALLOWED otherwise. */
  const moderated = (name: string, ctx: HandlerCtx): Room => {
    const r = rooms.find(name);
    if (!g.moderates(r, ctx.session.name!)) {
      ctx.fail("NOT_ALLOWED", `only an owner of #${r.name} or a server admin may do that`);
    }
    return r;
  };
  /** The account's registered name, or NO_SUCH_USER. */
  const account = (name: string, ctx: HandlerCtx): string =>
    api.accounts.canonical(name) ?? ctx.fail("NO_SUCH_USER", `there is no account "${name}"`);
  const member = (r: Room, name: string, ctx: HandlerCtx): string => {
    const who = account(name, ctx);
    if (!g.isMember(r, who)) ctx.fail("NOT_A_MEMBER", `${who} is not in #${r.name}`);
    return who;
  };

  // groups.kick {room, name} -> ack {room, name} | NOT_ALLOWED (yourself, a server admin, or
  //   the room's founder unless you are an admin) | NO_SUCH_USER | NOT_A_MEMBER
  api.on(GroupKick, async ({ room, name }, ctx) => {
    const r = moderated(room, ctx);
    const me = ctx.session.name!;
    const who = member(r, name, ctx);
    if (who === me) ctx.fail("NOT_ALLOWED", `you cannot kick yourself; /leave ${r.name}`);
    if (api.accounts.isAdmin(who) && !api.accounts.isAdmin(me)) {
      ctx.fail("NOT_ALLOWED", `${who} is a server admin`);
    }
    // Owners made with /op moderate everyone but the founder, so the room cannot be taken
    // from the account that made it; a server admin still can, e.g. to stop abuse.
    if (isFounder(r, who) && !api.accounts.isAdmin(me)) {
      ctx.fail("NOT_ALLOWED", `${who} founded #${r.name}; only a server admin may kick them`);
    }
    if (await rooms.leave(r, who, me)) {
      g.push(r, GroupLeft, { room: r.name, name: who, by: me }, me);
      const target = api.sessions.get(who);
      if (target) api.send(target, GroupKicked, { room: r.name, by: me });
    }
    return { room: r.name, name: who };
  });

  // groups.op {room, name} -> ack {room, name} | NOT_ALLOWED | NO_SUCH_USER | NOT_A_MEMBER
  api.on(GroupOp, async ({ room, name }, ctx) => {
    const r = moderated(room, ctx);
    const who = member(r, name, ctx);
    if (!r.members.get(who.toLowerCase())!.owner) {
      await rooms.op(r, who);
      g.push(r, GroupOpped, { room: r.name, name: who, by: ctx.session.name! }, ctx.session.name);
    }
    return { room: r.name, name: who };
  });

  // groups.invite {room, name} -> ack {room, name} | NOT_ALLOWED | NO_SUCH_USER |
  //   TOO_MANY_ROOMS (the invitee could not join)
  api.on(GroupInvite, async ({ room, name }, ctx) => {
    const r = moderated(room, ctx);
    const who = account(name, ctx);
    if (!g.isMember(r, who)) {
      g.roomLimit(r, who, true);
      await rooms.invite(r, who, ctx.session.name!);
      const target = api.sessions.get(who);
      if (target) api.send(target, GroupInvited, { room: r.name, by: ctx.session.name! });
    }
    return { room: r.name, name: who };
  });

  // groups.announce {room, on} -> ack {room, on} | NOT_ALLOWED
  api.on(GroupAnnounce, async ({ room, on }, ctx) => {
    const r = moderated(room, ctx);
    if (r.announce !== on) {
      await rooms.setAnnounce(r, on);
      const me = ctx.session.name!;
      g.push(r, GroupMode, { room: r.name, announce: on, by: me }, me);
    }
    return { room: r.name, on };
  });
}
