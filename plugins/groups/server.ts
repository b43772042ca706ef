/** The groups plugin's server half: rooms, membership and posts (through the message log). */
import type { PostResult, ServerApi, Session } from "../types.ts";
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
  TO_ROOM_LINE,
} from "./protocol.ts";
import { type Room, Rooms } from "./store.ts";

export function groupsServer(api: ServerApi) {
  const rooms = new Rooms(api.db);
  api.onStartup(() => rooms.load());

  /** The other members of a room who are online. */
  const online = (room: Room, except?: string): Session[] => {
    const out: Session[] = [];
    for (const m of room.members.values()) {
      const s = api.sessions.get(m.name);
      if (s && s.name !== except) out.push(s);
    }
    return out;
  };
  const notify = (room: Room, spec: typeof GroupJoined, name: string) => {
    for (const s of online(room, name)) api.send(s, spec, { room: room.name, name });
  };

  // groups.create {room} -> ack {room} | ROOM_EXISTS | BAD_ROOM_NAME
  api.on(GroupCreate, async ({ room }, ctx) => {
    const r = await rooms.create(room, ctx.session.name!);
    return { room: r.name };
  });

  // groups.join {room} -> ack {room, members} | NO_SUCH_ROOM
  api.on(GroupJoin, async ({ room }, ctx) => {
    const r = rooms.find(room);
    const me = ctx.session.name!;
    if (await rooms.join(r, me)) notify(r, GroupJoined, me);
    return { room: r.name, members: r.members.size };
  });

  // groups.leave {room} -> ack {room} | NO_SUCH_ROOM | NOT_A_MEMBER
  api.on(GroupLeave, async ({ room }, ctx) => {
    const r = rooms.find(room);
    const me = ctx.session.name!;
    if (!(await rooms.leave(r, me))) ctx.fail("NOT_A_MEMBER", `you are not in #${r.name}`);
    notify(r, GroupLeft, me);
    return { room: r.name };
  });

  // groups.list {} -> ack {rooms: [{room, members, online, joined}]}
  api.on(GroupList, (_m, ctx) => ({
    rooms: rooms.all().map((r) => ({
      room: r.name,
      members: r.members.size,
      online: online(r).length,
      joined: r.members.has(ctx.session.name!.toLowerCase()),
    })),
  }));

  // groups.members {room} -> ack {room, members: [{name, online, owner}]}
  api.on(GroupMembers, ({ room }) => {
    const r = rooms.find(room);
    const members = [...r.members.values()]
      .map((m) => ({
        name: m.name,
        online: api.sessions.get(m.name) !== undefined,
        owner: m.owner,
      }))
      .sort((a, b) => a.name.localeCompare(b.name, "en", { sensitivity: "base" }));
    return { room: r.name, members };
  });

  // groups.send {room, text} -> ack {room, ts, seq?, sent, stored} | NO_SUCH_ROOM |
  //   NOT_A_MEMBER | TEXT_TOO_LONG. Synchronous up to ctx.post: one room's posts are logged
  //   in the order they arrive, so every member sees the same order.
  api.on(GroupSend, ({ room, text }, ctx) => {
    if (text.length > api.limits.maxTextLength) {
      ctx.fail("TEXT_TOO_LONG", `a message has at most ${api.limits.maxTextLength} characters`);
    }
    const r = rooms.find(room);
    const me = ctx.session.name!;
    if (!r.members.has(me.toLowerCase())) {
      ctx.fail("NOT_A_MEMBER", `you are not in #${r.name}; /join ${r.name} first`);
    }
    const ts = Date.now();
    const to = [...r.members.values()].map((m) => m.name).filter((n) => n !== me);
    const result = (p: PostResult) => ({
      room: r.name,
      ts,
      seq: p.seq,
      sent: p.sent.length,
      stored: p.stored.length,
    });
    const p = ctx.post({
      conv: `room:${r.name.toLowerCase()}`,
      to,
      spec: GroupMessage,
      body: { room: r.name, sender: me, text, ts },
    });
    return p instanceof Promise ? p.then(result) : result(p);
  }, { pipelined: true });

  api.text.command({
    usage: "@<room> <message>",
    summary: "post to a room you are in",
    match: TO_ROOM_LINE,
    toFrame: (m) => ({ type: GroupSend.type, room: m[1], text: m[2] }),
    ack: (r) => `posted to #${r.room} (${r.sent} now, ${r.stored} later)`,
  });
  api.text.command({
    usage: "/join <room>",
    summary: "join a room (also /create, /leave)",
    match: /^(?:server:|\/)(join|create|leave)\s+(\S+)$/i,
    toFrame: (m) => ({ type: `groups.${m[1].toLowerCase()}`, room: m[2] }),
    ack: (r) => `ok #${r.room}`,
  });
  api.text.render(GroupMessage, (m) => `[#${m.room}] ${m.sender}: ${m.text}`);
  api.text.render(GroupJoined, (m) => `* ${m.name} joined #${m.room}`);
  api.text.render(GroupLeft, (m) => `* ${m.name} left #${m.room}`);
}
