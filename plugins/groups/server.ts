/** The groups plugin's server half: rooms, membership and posts (through the message log), and
 *  the class room every account is in (`serve --class-room`). This file builds the state the
 *  handlers share and registers them, by concern: the class room and start-up in
 *  server_class.ts; create, join, leave in server_lifecycle.ts; list and members in
 *  server_queries.ts; posts in server_posts.ts; pins and a new member's welcome in
 *  server_pins.ts; moderation in server_moderation.ts; plain-text mode in server_text.ts. */
import type { ServerApi, Session } from "../types.ts";
import type { RawFrame } from "../../protocol/spec.ts";
import { type Room, Rooms } from "./store.ts";
import { groupsModeration } from "./server_moderation.ts";
import { groupsText } from "./server_text.ts";
import { groupsPins } from "./server_pins.ts";
import { roomClass } from "./server_class.ts";
import { roomLifecycle } from "./server_lifecycle.ts";
import { roomQueries } from "./server_queries.ts";
import { roomPosts } from "./server_posts.ts";
import { MAX_ROOMS_PER_ACCOUNT, roomLimit } from "./limits.ts";
import type { RoomsCtx } from "./server_ctx.ts";

export function groupsServer(api: ServerApi) {
  const rooms = new Rooms(api.db);
  const maxRooms = api.setting(MAX_ROOMS_PER_ACCOUNT);
  // A cluster: a room changed on one node is read again on the others, and what a room's
  // members are told (joined, left, kicked, mode, pins) reaches those on other nodes.
  rooms.onChange = (room) => api.bus.publish("changed", { room });
  api.bus.subscribe("changed", (m) => {
    rooms.reload((m as { room: string }).room)
      .catch((e) => api.log.error(`reading room ${(m as { room: string }).room} again: ${e}`));
  });
  api.bus.subscribe("told", (m) => {
    const { room, frame, except } = m as { room: string; frame: RawFrame; except?: string };
    const r = rooms.get(room);
    if (r) api.relay(online(r, except), frame);
  });

  const online = (room: Room, except?: string): Session[] => {
    const out: Session[] = [];
    for (const m of room.members.values()) {
      const s = api.sessions.get(m.name);
      if (s && s.name !== except) out.push(s);
    }
    return out;
  };
  const c: RoomsCtx = {
    api,
    rooms,
    push: (room, spec, body, except) => {
      for (const s of online(room, except)) api.send(s, spec, body);
      api.bus.publish("told", { room: room.name, frame: { type: spec.type, ...body }, except });
    },
    moderates: (room, name) =>
      api.accounts.isAdmin(name) || room.members.get(name.toLowerCase())?.owner === true,
    isMember: (room, name) => room.members.has(name.toLowerCase()),
    roomLimit: roomLimit(rooms.counts, maxRooms),
    online,
    welcomed: (r, names) => {
      for (const name of names) {
        welcome(r, name).catch((e) => api.log.error(`history for ${name} in #${r.name}: ${e}`));
      }
    },
    classRoom: undefined,
  };
  const welcome = groupsPins(c);

  roomClass(c);
  roomLifecycle(c);
  roomQueries(c);
  roomPosts(c);
  groupsModeration(c);
  groupsText(api);
}
