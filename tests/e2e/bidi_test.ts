/**
 * Bidi overrides in message text (issue 16): "\u202E" reverses what follows it on screen, so a
 * line could read other than its bytes. They are removed where text is decoded (server and
 * client), and the terminal never shows one.
 */
import assert from "node:assert/strict";
import { withServer } from "../harness.ts";
import { type Screen, terminalTest } from "./tmux.ts";

const RLO = "\u202E"; // RIGHT-TO-LEFT OVERRIDE
const OVERRIDES = "\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069";

Deno.test("bidi - overrides and isolates are removed from direct messages, room posts and plain-text lines; direction marks stay", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    await alice.ok("dm.send", { receiver: "Bob", text: `invoice${RLO}fdp.exe` });
    assert.equal((await bob.expect("dm.message")).text, "invoicefdp.exe");
    // Every embedding, override and isolate goes; LRM, RLM and ALM (direction only) stay.
    await alice.ok("dm.send", { receiver: "Bob", text: `a${OVERRIDES}b \u200E\u200F\u061C שלום` });
    assert.equal((await bob.expect("dm.message")).text, "ab \u200E\u200F\u061C שלום");
    // A text that is nothing but overrides is empty: refused like an empty one.
    const r = await alice.request("dm.send", { receiver: "Bob", text: RLO + RLO });
    assert.equal(r.code, "BAD_FRAME");
    // Room posts and what is stored for later are clean too.
    await alice.ok("groups.create", { room: "lab" });
    await bob.ok("groups.join", { room: "lab" });
    await alice.ok("groups.send", { room: "lab", text: `${RLO}txt.ereh kcilc` });
    assert.equal((await bob.expect("groups.message")).text, "txt.ereh kcilc");
    await bob.ok("offline.history", { with: "Alice" });
    for (let i = 0; i < 2; i++) {
      const past = await bob.expect("dm.message", (f) => f.replay === "history");
      assert.ok(!String(past.text).includes(RLO), String(past.text));
    }
    // A plain-text (nc) user neither sends nor sees one.
    const nc = await h.connect();
    await nc.expect("welcome");
    await nc.sendRaw("server:register Carl carl-secret\n");
    await nc.expectLine(/^created account Carl$/);
    await nc.sendRaw(`Alice: from nc ${RLO}olleh\n`);
    assert.equal((await alice.expect("dm.message")).text, "from nc olleh");
    await alice.ok("dm.send", { receiver: "Carl", text: `to nc ${RLO}olleh` });
    const line = await nc.expectLine(/^Alice: to nc/);
    assert.equal(line, "Alice: to nc olleh");
  }));

terminalTest(
  "a message with a right-to-left override is shown in the order it was typed, with no override",
  "Alice",
  async (h, s: Screen) => {
    await s.shows(/^\* logged in as Alice/);
    const bob = await h.connect();
    await bob.login("Bob2");
    await bob.ok("dm.send", { receiver: "Alice", text: `see my homework_${RLO}fdp.exe` });
    const lines = await s.shows(/^Bob2: \[unencrypted\] see my homework_/);
    const line = lines.find((l) => l.startsWith("Bob2: [unencrypted] see my"))!;
    assert.equal(line, "Bob2: [unencrypted] see my homework_fdp.exe");
    assert.ok(!(await s.raw()).includes(RLO), "no override reached the terminal");
  },
);
