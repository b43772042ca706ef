/** The class room every account is in (`serve --class-room`), and who is related to whom
 *  through rooms (for presence). Also loads the rooms at start-up. */
import { ChatError } from "../../protocol/errors.ts";
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
  const joinClassRoom = async (names: string[], welcome = true) => {
    const room = c.classRoom!;
    const eligible = names.filter((n) => room.access.get(n.toLowerCase())?.state !== "kicked");
    const { added, first } = await rooms.join(room, eligible);
    const staff = c.online(room).filter((s) => c.moderates(room, s.name!));
    for (const name of added) {
      for (const s of staff) {
        if (s.name !== name) api.send(s, GroupJoined, { room: room.name, name });
      }
    }
    if (welcome) c.welcomed(room, first);
    return first;
  };

  /** Creates the class room; nodes of a cluster started together race to, and the store
   *  lets one win: the others read the room it made. */
  const makeClassRoom = async (name: string) => {
    try {
      return await rooms.create(name, undefined, { announce: true, by: "--class-room" });
    } catch (e) {
      if (!(e instanceof ChatError && e.code === "ROOM_EXISTS")) throw e;
      await rooms.reload(name.toLowerCase());
      return rooms.get(name) ?? (() => {
        throw new Error(`the class room #${name} was made and then removed`);
      })();
    }
  };

  api.onStartup(async () => {
    await rooms.load();
    if (classRoomName === undefined) return;
    const name = roomName({ type: "", room: classRoomName });
    const classRoom = rooms.get(name) ?? await makeClassRoom(name);
    c.classRoom = classRoom;
    rooms.counts.uncount(classRoom);
    await joinClassRoom(api.accounts.names());
    api.log.info(`class room #${classRoom.name}: ${classRoom.members.size} members`);
  });
  // A new account joins the class room at its first login (it did not exist at start-up),
  // before the login is answered: its first request may be about the class room (on a
  // PostgreSQL store, or another node, the join is not done by then otherwise). The room's
  // past is shown once the session is there to show it to.
  const toWelcome = new Set<string>();
  api.onLoginLoad(async (name) => {
    if (c.classRoom && !c.isMember(c.classRoom, name)) {
      const first = await joinClassRoom([name], false);
      for (const n of first) toWelcome.add(n.toLowerCase());
    }
  });
  api.onLogin((s) => {
    if (c.classRoom && toWelcome.delete(s.name!.toLowerCase())) c.welcomed(c.classRoom, [s.name!]);
  });
}
