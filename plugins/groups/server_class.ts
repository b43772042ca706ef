/** The class room every account is in (`serve --class-room`), and who is related to whom
 *  through rooms (for presence). Also loads the rooms at start-up. */
import { GroupJoined, roomName } from "./protocol.ts";
import { CLASS_ROOM } from "./options.ts";
import type { RoomsCtx } from "./server_ctx.ts";

export function roomClass(c: RoomsCtx) {
  const { api, rooms } = c;
  const classRoomName = api.setting(CLASS_ROOM);

  // People who share a room are related (presence tells them when the other comes and goes),
  // except in the class room: every account is in it, so it relates no one to anyone.
  api.relations(function* (account) {
    const key = account.toLowerCase();
    for (const r of rooms.each()) {
      if (r === c.classRoom || !r.members.has(key)) continue;
      for (const m of r.members.values()) yield m.name;
    }
  });

  /** Adds accounts to the class room, but not those kicked from it. Only its moderators
   *  (owners, server admins) are told: every account joins it, so telling every member would
   *  cost members x members frames as a class makes its accounts, and say nothing. */
  const joinClassRoom = async (names: string[]) => {
    const room = c.classRoom!;
    const eligible = names.filter((n) => room.access.get(n.toLowerCase())?.state !== "kicked");
    const { added, first } = await rooms.join(room, eligible);
    const staff = c.online(room).filter((s) => c.moderates(room, s.name!));
    for (const name of added) {
      for (const s of staff) {
        if (s.name !== name) api.send(s, GroupJoined, { room: room.name, name });
      }
    }
    c.welcomed(room, first);
  };

  api.onStartup(async () => {
    await rooms.load();
    if (classRoomName === undefined) return;
    const name = roomName({ type: "", room: classRoomName });
    const classRoom = rooms.get(name) ??
      await rooms.create(name, undefined, { announce: true, by: "--class-room" });
    c.classRoom = classRoom;
    rooms.counts.uncount(classRoom);
    await joinClassRoom(api.accounts.names());
    api.log.info(`class room #${classRoom.name}: ${classRoom.members.size} members`);
  });
  // A new account joins the class room at its first login (it did not exist at start-up).
  api.onLogin((s) => {
    if (c.classRoom && !c.isMember(c.classRoom, s.name!)) {
      joinClassRoom([s.name!]).catch((e) => api.log.error(`class room join: ${e}`));
    }
  });
}
