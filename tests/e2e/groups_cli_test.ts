/** Rooms through real processes, set up as the README says: `classchat admin add-admin`, then
 *  `classchat serve --class-room`, and `classchat connect` clients typing the room commands a
 *  person would. */
import assert from "node:assert/strict";
import { runCli, spawnClassServer, spawnClient } from "../process.ts";

Deno.test("groups cli - the class room, a student room, moderation and /help, as people type them", async () => {
  const server = await spawnClassServer();
  try {
    const prof = spawnClient("Prof", server);
    await prof.waitFor(/^\* logged in as Prof/);
    const ann = spawnClient("Ann", server);
    await ann.waitFor(/^\* logged in as Ann/);
    await prof.waitFor(/^\* Ann joined #cs350$/);

    await prof.type("@cs350 Welcome to CS350: the syllabus is online");
    await prof.waitFor(/^-> \[#cs350\] Welcome to CS350/);
    await prof.waitFor(/^\* #cs350: 1 got it now$/);
    await ann.waitFor(/^\[#cs350\] Prof \(staff\): Welcome to CS350: the syllabus is online$/);
    await ann.type("@cs350 hello everyone");
    await ann.waitFor(/^! ANNOUNCE_ONLY: #cs350 is announce-only/);
    await ann.type("/leave cs350");
    await ann.waitFor(/^! CLASS_ROOM: /);

    await ann.type("/create team1 --private");
    await ann.waitFor(/^\* created private room #team1; you are its owner$/);
    await ann.type("/rooms");
    await ann.waitFor(
      /^\* {3}#cs350 {2}2 members, 2 online \(class room, announce-only, you are in it\)$/,
    );
    await ann.waitFor(/^\* {3}#team1 {2}1 member, 1 online \(private, you are in it\)$/);
    await ann.type("/invite team1 Prof");
    await ann.waitFor(/^\* invited Prof to #team1$/);
    await prof.waitFor(/^\* Ann invited you to #team1; \/join team1 to join$/);
    await prof.type("/join team1");
    await prof.waitFor(/^\* joined #team1 \(2 members\)$/);
    await ann.type("/group team1 our draft is in the repo");
    await prof.waitFor(/^\[#team1\] Ann: our draft is in the repo$/);
    await ann.type("/members team1");
    await ann.waitFor(
      /^\* #team1: 2 members, 2 online: Ann \(founder\), Prof \(staff\) \(admin\)$/,
    );
    await ann.type("/announce team1 maybe");
    await ann.waitFor(/^! USAGE: \/announce <room> on\|off$/);
    await prof.type("/kick team1 Ann");
    await ann.waitFor(/^! KICKED: you were kicked from #team1 by Prof/);
    await ann.type("@team1 hello?");
    await ann.waitFor(/^! KICKED: /);
    await ann.type("/join nowhere");
    await ann.waitFor(/^! NO_SUCH_ROOM: /);
    await ann.type("/create no/slash");
    await ann.waitFor(/^! BAD_ROOM_NAME: /);
    await ann.type("/create cs350");
    await ann.waitFor(/^! ROOM_EXISTS: /);

    await ann.type("/help");
    for (
      const cmd of [
        "create",
        "join",
        "leave",
        "rooms",
        "members",
        "group",
        "kick",
        "op",
        "invite",
        "announce",
      ]
    ) {
      await ann.waitFor(new RegExp(`/${cmd}\\b`));
    }
    await ann.type("/quit");
    assert.equal((await ann.end()).code, 0);
    await prof.type("/quit");
    assert.equal((await prof.end()).code, 0);
  } finally {
    await server.stop();
  }
});

Deno.test("groups cli - --class-room with groups disabled, or a bad room name, is refused at start", async () => {
  const off = await runCli([
    "serve",
    "--port",
    "0",
    "--class-room",
    "cs350",
    "--disable",
    "groups",
  ]);
  assert.equal(off.code, 2);
  assert.match(off.stderr, /--class-room needs plugin groups/);
  const bad = await runCli(["serve", "--port", "0", "--class-room", "no spaces"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /a room name has 1 to 32 letters/);
  const serve = await runCli(["serve", "--help"]);
  assert.match(serve.stdout, /--class-room <room>/);
  assert.match(serve.stdout, /--admin <name>/);
});
