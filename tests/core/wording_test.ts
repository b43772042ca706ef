/** What people read: counts in words, and waits in the unit a person would use. */
import assert from "node:assert/strict";
import { pw, withServer } from "../harness.ts";
import { appClient } from "../app.ts";
import { plural, waitText } from "../../protocol/words.ts";
import { DEFAULT_LIMITS } from "../../protocol/limits.ts";
import { HISTORY_MAX } from "../../plugins/offline/protocol.ts";

Deno.test("wording - plural and waitText", () => {
  assert.equal(plural(1, "message"), "1 message");
  assert.equal(plural(0, "message"), "0 messages");
  assert.equal(plural(2, "person", "people"), "2 people");
  assert.equal(waitText(1), "1 s");
  assert.equal(waitText(59_000), "59 s");
  assert.equal(waitText(893_000), "15 min");
  assert.equal(waitText(3_600_000), "1 h");
  assert.equal(waitText(7_500_000), "2 h 5 min");
});

Deno.test("wording - /history of one message says '1 message'", () =>
  withServer(async (h) => {
    const alice = await appClient(h, "Alice");
    await appClient(h, "Bob");
    alice.type("Bob: just one");
    await alice.waitFor(/^-> Bob: just one$/);
    alice.type("/history Bob");
    assert.match(await alice.waitFor(/^\* end of history/), /\(1 message\)$/);
  }));

Deno.test("wording - a locked login says how long in minutes, not hundreds of seconds", () =>
  withServer(async (h) => {
    const c = await h.connect();
    await c.expect("welcome");
    await c.login("Prof");
    await c.ok("session.quit");
    const d = await h.connect();
    await d.expect("welcome");
    for (let i = 0; i < DEFAULT_LIMITS.loginFailuresPerAccount; i++) {
      await d.fails("session.login", { name: "Prof", password: `wrong-${i}` });
    }
    const locked = await d.request("session.login", { name: "Prof", password: pw("Prof") });
    assert.equal(locked.code, "RATE_LIMITED");
    assert.match(String(locked.message), /try again in \d+ min$/);
  }));

Deno.test("wording - /help explains the two line shapes in words and lists every alias", () =>
  withServer(async (h) => {
    const alice = await appClient(h, "Alice");
    alice.type("/help");
    await alice.waitFor(/^\* {3}\/quit .*\(also \/exit, \/q\)$/);
    await alice.waitFor(/^\* {3}<user>: <text> +a direct message: the name, a colon/);
    await alice.waitFor(/^\* {3}@<room> <text> +post to a room you are in/);
    const help = alice.out.filter((l) => l.startsWith("*   "));
    for (const c of alice.app.registry.commands) {
      const line = help.find((l) => l.startsWith(`*   ${c.usage}`));
      assert.ok(line, `/${c.name} is listed`);
      for (const a of c.aliases ?? []) assert.ok(line.includes(`/${a}`), `/${a} in: ${line}`);
    }
  }));

Deno.test("wording - a command used wrongly prints its own usage text, after what was wrong", () =>
  withServer(async (h) => {
    const alice = await appClient(h, "Alice");
    const usage = (name: string) => alice.app.registry.byName.get(name)!.usage;
    for (const [line, name] of [["/pins", "pins"], ["/msg Bob", "msg"], ["/e2e maybe", "e2e"]]) {
      const from = alice.out.length;
      alice.type(line);
      assert.equal(await alice.waitFor(/^! /, from), `! USAGE: ${usage(name)}`);
    }
    const from = alice.out.length;
    alice.type("/history Bob 0");
    assert.equal(
      await alice.waitFor(/^! /, from),
      `! USAGE: n is a whole number from 1 to ${HISTORY_MAX} (${usage("history")})`,
    );
  }));
