import assert from "node:assert/strict";
import { withServer } from "../harness.ts";

Deno.test("text mode - nc users register, list, message and exit with the assignment's commands", () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice");
    const nc = await h.connect();
    await nc.expect("welcome"); // the JSON welcome always comes first
    await nc.sendRaw("server:register Carl carl-secret\r\n");
    await nc.expectLine(/^Welcome to ClassChat \(plain-text mode\)/);
    await nc.expectLine(/^created account Carl$/);
    // Alice and Carl share nothing yet, so Alice is not told he came; after their messages
    // below she is told he left.

    await nc.sendRaw("server:who\n");
    await nc.expectLine(/^online \(2\): Alice, Carl$/);

    await nc.sendRaw("Alice: hello from nc\n");
    await nc.expectLine(/^sent to Alice$/);
    const m = await alice.expect("dm.message");
    assert.deepEqual([m.sender, m.text], ["Carl", "hello from nc"]);

    await alice.ok("dm.send", { receiver: "carl", text: "hi Carl" });
    await nc.expectLine(/^Alice: hi Carl$/);

    await nc.sendRaw("/msg Alice second way\n");
    assert.equal((await alice.expect("dm.message")).text, "second way");

    await nc.sendRaw("server:exit\n");
    await nc.expectLine(/^bye$/);
    await nc.closed;
    const left = await alice.expect("presence.left");
    assert.deepEqual([left.name, left.reason], ["Carl", "quit"]);
  }));

Deno.test("text mode - errors are readable lines with the stable code", () =>
  withServer(async (h) => {
    await h.users("Alice");
    const nc = await h.connect();
    await nc.sendRaw("Alice: before login\n");
    await nc.expectLine(/^error NOT_LOGGED_IN: /);
    await nc.sendRaw("server:register alice alice-secret\n");
    await nc.expectLine(/^error NAME_IN_USE: /);
    await nc.sendRaw("server:register Dave\n");
    await nc.expectLine(/^error BAD_FRAME: usage: server:register <name> <password>/);
    await nc.sendRaw("server:register Dave dave-secret\n");
    await nc.expectLine(/^created account Dave$/);
    await nc.sendRaw("Nobody: hi\n");
    await nc.expectLine(/^error NO_SUCH_USER: /);
    await nc.sendRaw("what is this\n");
    await nc.expectLine(/^error UNKNOWN_COMMAND: /);
    await nc.sendRaw("server:help\n");
    await nc.expectLine(/server:who/);
    // Still a plain-text session: a JSON-looking line is just text that matches no command.
    await nc.sendRaw('{"type":"session.ping","id":"1"}\n');
    await nc.expectLine(/^error UNKNOWN_COMMAND: /);
  }));

Deno.test("text mode - nc users are told a message was stored, get what they missed, and read history", () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice");
    const nc = await h.connect();
    await nc.sendRaw("server:register Carl carl-secret\n");
    await nc.expectLine(/^created account Carl$/);
    await nc.sendRaw("server:exit\n");
    await nc.closed;
    await alice.ok("dm.send", { receiver: "Carl", text: "while you were out" });

    const back = await h.connect();
    await back.sendRaw("server:register Carl carl-secret\n");
    await back.expectLine(/^logged in as Carl$/);
    await back.expectLine(/^\* 1 message while you were away: 1 from Alice$/);
    await back.expectLine(
      /^\(while you were away\) \[\d{4}-\d\d-\d\d \d\d:\d\d UTC\] Alice: while you were out$/,
    );
    await back.sendRaw("server:history Alice\n");
    await back.expectLine(/^\[\d{4}-\d\d-\d\d \d\d:\d\d UTC\] Alice: while you were out$/);
    await back.expectLine(/^end of history \(1 message\)$/);
    await back.sendRaw("server:exit\n");
    await back.closed;
    // What reached the nc session counts as seen: nothing is missed at the next login.
    await alice.ok("dm.send", { receiver: "Carl", text: "second" });
    const again = await h.connect();
    await again.sendRaw("server:register Carl carl-secret\n");
    await again.expectLine(/^\* 1 message while you were away: 1 from Alice$/);
    await again.sendRaw("Alice: thanks\n");
    await again.expectLine(/^sent to Alice$/);
    // To an offline account, the reply says it was stored.
    alice.close();
    await again.expectLine(/^\* Alice left/);
    await again.sendRaw("Alice: are you there?\n");
    await again.expectLine(/^Alice is offline: stored, delivered when they connect$/);
  }));

Deno.test("text mode - the first line chooses the mode once: later lines do not switch it", () =>
  withServer(async (h) => {
    // A JSON session stays JSON: a later plain line is malformed JSON, not a text command.
    const json = await h.connect();
    await json.expect("welcome");
    await json.sendRaw('{"type":"session.ping","id":"p1"}\n');
    assert.equal((await json.expect("ack")).re, "p1");
    await json.sendRaw("server:who\n");
    assert.equal((await json.expect("error")).code, "BAD_JSON");
    // A plain-text session stays plain text: a later line that looks like JSON is a command
    // line that matches nothing.
    const nc = await h.connect();
    await nc.expect("welcome");
    await nc.sendRaw("server:help\n");
    await nc.expectLine(/^commands:$/);
    await nc.sendRaw('{"type":"session.ping","id":"p2"}\n');
    await nc.expectLine(/^error UNKNOWN_COMMAND: /);
  }));
