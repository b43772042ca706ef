/** The groups plugin's server half: rooms, membership and posts (through the message log), and
 *  the class room every account is in (`serve --class-room`). Moderation is in
 *  server_moderation.ts, plain-text mode in server_text.ts. */
import { NAME_ORDER } from "../../protocol/limits.ts";
import { ChatError } from "../../protocol/errors.ts";
import type { Audience, PostResult, ServerApi, Session } from "../types.ts";
import {
  GroupCreate,
  GroupJoin,
  GroupJoined,
  GroupLeave,
  GroupLeft,
  GroupList,
  GroupMembers,
  GroupMessage,
  GroupSend,
  roomName,
} from "./protocol.ts";
import { isFounder, type Room, Rooms } from "./store.ts";
import { groupsModeration } from "./server_moderation.ts";
import { groupsText } from "./server_text.ts";
import { groupsPins, roomConv } from "./server_pins.ts";
import { MAX_ROOMS_PER_ACCOUNT, roomLimit } from "./limits.ts";
import { CLASS_ROOM } from "./options.ts";
import type { Groups } from "./groups.ts";

export function groupsServer(api: ServerApi) {
  const rooms = new Rooms(api.db);
  const classRoomName = api.setting(CLASS_ROOM);
  let classRoom: Room | undefined;
  const maxRooms = api.setting(MAX_ROOMS_PER_ACCOUNT);

  const online = (room: Room, except?: string): Session[] => {
    const out: Session[] = [];
    for (const m of room.members.values()) {
      const s = api.sessions.get(m.name);
      if (s && s.name !== except) out.push(s);
    }
    return out;
  };
  const g: Groups = {
    api,
    rooms,
    push: (room, spec, body, except) => {
      for (const s of online(room, except)) api.send(s, spec, body);
    },
    moderates: (room, name) =>
      api.accounts.isAdmin(name) || room.members.get(name.toLowerCase())?.owner === true,
    isMember: (room, name) => room.members.has(name.toLowerCase()),
    roomLimit: roomLimit(rooms.counts, maxRooms),
  };
  const welcome = groupsPins(g);
  const welcomed = (r: Room, names: string[]) => {
    for (const name of names) {
      welcome(r, name).catch((e) => api.log.error(`history for ${name} in #${r.name}: ${e}`));
    }
  };

  // People who share a room are related (presence tells them when the other comes and goes),
  // except in the class room: every account is in it, so it relates no one to anyone.
  api.relations(function* (account) {
    const key = account.toLowerCase();
    for (const r of rooms.each()) {
      if (r === classRoom || !r.members.has(key)) continue;
      for (const m of r.members.values()) yield m.name;
    }
  });

  /** Adds accounts to the class room, but not those kicked from it. Only its moderators
   *  (owners, server admins) are told: every account joins it, so telling every member would
   *  cost members x members frames as a class makes its accounts, and say nothing. */
  const joinClassRoom = async (names: string[]) => {
    const room = classRoom!;
    const eligible = names.filter((n) => room.access.get(n.toLowerCase())?.state !== "kicked");
    const { added, first } = await rooms.join(room, eligible);
    const staff = online(room).filter((s) => g.moderates(room, s.name!));
    for (const name of added) {
      for (const s of staff) {
        if (s.name !== name) api.send(s, GroupJoined, { room: room.name, name });
      }
    }
    welcomed(room, first);
  };

  api.onStartup(async () => {
    await rooms.load();
    if (classRoomName === undefined) return;
    const name = roomName({ type: "", room: classRoomName });
    classRoom = rooms.get(name) ??
      await rooms.create(name, undefined, { announce: true, by: "--class-room" });
    rooms.counts.uncount(classRoom);
    await joinClassRoom(api.accounts.names());
    api.log.info(`class room #${classRoom.name}: ${classRoom.members.size} members`);
  });
  // A new account joins the class room at its first login (it did not exist at start-up).
  api.onLogin((s) => {
    if (classRoom && !g.isMember(classRoom, s.name!)) {
      joinClassRoom([s.name!]).catch((e) => api.log.error(`class room join: ${e}`));
    }
  });

  // groups.create {room, private?} -> ack {room, private} | ROOM_EXISTS | BAD_ROOM_NAME |
  //   TOO_MANY_ROOMS
  api.on(GroupCreate, async ({ room, private: priv }, ctx) => {
    if (!rooms.get(room)) g.roomLimit(undefined, ctx.session.name!);
    const r = await rooms.create(room, ctx.session.name!, { private: priv });
    return { room: r.name, private: r.private };
  });

  // groups.join {room} -> ack {room, members} | NO_SUCH_ROOM | INVITE_ONLY | KICKED |
  //   TOO_MANY_ROOMS. The founder needs no invitation to their own room.
  api.on(GroupJoin, async ({ room }, ctx) => {
    const r = rooms.find(room);
    const me = ctx.session.name!;
    const access = r.access.get(me.toLowerCase());
    const founder = isFounder(r, me);
    if (!g.isMember(r, me) && !api.accounts.isAdmin(me)) {
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
    g.roomLimit(r, me);
    const { added, first } = await rooms.join(r, [me]);
    if (added.length) g.push(r, GroupJoined, { room: r.name, name: me }, me);
    welcomed(r, first);
    return { room: r.name, members: r.members.size };
  });

  // groups.leave {room} -> ack {room} | NO_SUCH_ROOM | NOT_A_MEMBER | CLASS_ROOM
  api.on(GroupLeave, async ({ room }, ctx) => {
    const r = rooms.find(room);
    const me = ctx.session.name!;
    if (r === classRoom && g.isMember(r, me)) {
      ctx.fail("CLASS_ROOM", `#${r.name} is the class room: every account is in it`);
    }
    if (!(await rooms.leave(r, me))) ctx.fail("NOT_A_MEMBER", `you are not in #${r.name}`);
    g.push(r, GroupLeft, { room: r.name, name: me, by: undefined }, me);
    return { room: r.name };
  });

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
        online: online(r).length,
        joined: r.members.has(key),
        private: r.private,
        announce: r.announce,
        invited: !r.members.has(key) && r.access.get(key)?.state === "invited",
        class: r === classRoom,
      })),
    };
  });

  // groups.members {room} -> ack {room, members: [{name, online, owner, founder, admin}]}
  api.on(GroupMembers, ({ room }, ctx) => {
    const r = rooms.find(room);
    const me = ctx.session.name!;
    if (r.private && !g.isMember(r, me) && !api.accounts.isAdmin(me)) {
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

  // groups.send {room, text} -> ack {room, ts, seq?, sent, stored} | NO_SUCH_ROOM |
  //   NOT_A_MEMBER | KICKED | ANNOUNCE_ONLY | TEXT_TOO_LONG. Synchronous up to ctx.post: one
  //   room's posts are logged in the order they arrive, so every member sees the same order.
  api.on(GroupSend, ({ room, text }, ctx) => {
    if (text.length > api.limits.maxTextLength) {
      ctx.fail("TEXT_TOO_LONG", `a message has at most ${api.limits.maxTextLength} characters`);
    }
    const { r, to } = audience(room, ctx.session.name!);
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
  }, { pipelined: true });

  /** Who a post to `room` by `me` goes to (every member but `me`), or why `me` may not post. */
  const audience = (room: string, me: string) => {
    const r = rooms.find(room);
    if (!g.isMember(r, me)) {
      const access = r.access.get(me.toLowerCase());
      if (access?.state === "kicked") {
        throw new ChatError("KICKED", `you were kicked from #${r.name} by ${access.by}`);
      }
      throw new ChatError("NOT_A_MEMBER", `you are not in #${r.name}; /join ${r.name} first`);
    }
    if (r.announce && !g.moderates(r, me)) {
      throw new ChatError(
        "ANNOUNCE_ONLY",
        `#${r.name} is announce-only: only its owners and admins post`,
      );
    }
    const to: string[] = [];
    for (const m of r.members.values()) if (m.name !== me) to.push(m.name);
    return { r, to };
  };
  // Other plugins (sendfile) post to rooms by the same rules.
  api.provide<Audience>("groups.audience", (room, me) => {
    const { r, to } = audience(room, me);
    return { room: r.name, to };
  });

  groupsModeration(g);
  groupsText(api);
}
