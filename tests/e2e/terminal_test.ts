/**
 * What a person sees: the interactive client in a real terminal (tmux), typed into with
 * send-keys and read with capture-pane.
 */
import assert from "node:assert/strict";
import { sha256, withServer } from "../harness.ts";
import { hasTmux, Screen, terminalTest } from "./tmux.ts";

terminalTest(
  "incoming messages print above the half-typed line, which stays intact",
  "Alice",
  async (h, s) => {
    await s.shows(/^\* logged in as Alice/);
    const bob = await h.connect();
    await bob.login("Bob2");
    await s.type("Bob2: still typ");
    await s.until((l) => l.at(-1) === "> Bob2: still typ");
    await bob.ok("dm.send", { receiver: "Alice", text: "are you there?" });
    // The line is written, then the prompt redrawn: a snapshot may fall between the two.
    const lines = await s.until((l) =>
      l.includes("Bob2: [unencrypted] are you there?") && l.at(-1)!.startsWith(">")
    );
    assert.equal(lines.at(-1), "> Bob2: still typ"); // the prompt and typed text, redrawn
    assert.equal(lines.at(-2), "Bob2: [unencrypted] are you there?"); // no key: marked
    await s.type("ing", true);
    assert.equal((await bob.expect("dm.message")).text, "still typing");
  },
);

terminalTest("a taken name makes the client ask for another", "bob", async (h, s) => {
  await s.shows(/^! NAME_IN_USE/);
  await s.until((l) => l.at(-1) === "name>");
  assert.equal((await s.raw()).match(/NAME_IN_USE/g)?.length, 1); // said once, then asked
  await s.type("Bob3", true);
  await s.shows(/^\* logged in as Bob3/);
  const [carol] = await h.users("Carol");
  assert.deepEqual((await carol.ok("presence.who")).users, ["Bob", "Bob3", "Carol"]);
});

terminalTest(
  "Ctrl-D at the name prompt ends the client instead of hanging",
  "bob",
  async (_h, s) => {
    await s.until((l) => l.at(-1) === "name>");
    await s.key("C-d");
    await s.shows(/EXITED 1/);
  },
  "; echo EXITED $?; sleep 30",
);

Deno.test({
  name: "terminal - colour in a terminal, none with NO_COLOR",
  ignore: !hasTmux,
  fn: () =>
    withServer(async (h) => {
      for (const [env, coloured] of [["", true], ["NO_COLOR=1 ", false]] as const) {
        const s = await Screen.open(`colour${+coloured}`, h, `C${+coloured}`, env);
        try {
          await s.shows(/logged in as/);
          const raw = await s.raw(true);
          assert.equal(raw.includes("\x1b["), coloured, raw);
        } finally {
          await s.close();
        }
      }
    }),
});

Deno.test({
  name: "terminal - first contact asks to trust the key; a new password is asked twice, unechoed",
  ignore: !hasTmux,
  fn: () =>
    withServer(async (h) => {
      const s = await Screen.open("prompts", h, "Erin", "NO_COLOR=1 ", "", true);
      try {
        await s.shows(/^\* The server 127\.0\.0\.1:\d+ is new to this computer/);
        await s.shows(new RegExp(`SHA256 ${h.fingerprint}`));
        await s.shows(/Trust this server and remember it\? \(yes\/no\)/);
        await s.type("yes", true);
        await s.shows(/^\* Erin is a new account: choose its password/);
        await s.shows(/^new password:/);
        await s.type("hunter2-but-longer", true);
        await s.shows(/^same password again:/);
        await s.type("hunter2-but-longer", true);
        await s.shows(/^\* logged in as Erin/);
        const screen = await s.raw();
        assert.ok(!screen.includes("hunter2"), `the password was echoed:\n${screen}`);
        // The history (arrow up) does not hold the password either.
        await s.key("Up");
        await new Promise((r) => setTimeout(r, 200));
        assert.ok(!(await s.raw()).includes("hunter2"), "the password is not in the history");
      } finally {
        await s.close();
      }
    }),
});

const progressDir = await Deno.makeTempDir({ prefix: "classchat-term-dl-" });
terminalTest(
  "a file's live progress line sits between the chat and the prompt, and goes when it is done",
  "Alice",
  async (h, s) => {
    try {
      await s.shows(/^\* logged in as Alice/);
      const [bob] = await h.users("Bob2");
      const chunk = new Uint8Array(32 * 1024).fill(65);
      const ack = await bob.ok("sendfile.offer", {
        to: "Alice",
        name: "data.bin",
        size: 4 * chunk.length,
      });
      await bob.send("sendfile.chunk", { file: ack.file, n: 0, data: chunk.toBase64() });
      await bob.expect("sendfile.credit");
      await s.type("half typ");
      const during = await s.until((l) =>
        l.some((x) => /^↓ data\.bin from Bob2: 25%, 33 KB of 131 KB, .*\/s, .* left$/.test(x)) &&
        l.at(-1) === "> half typ"
      );
      assert.match(during.at(-2)!, /^↓ data\.bin from Bob2: 25%/); // right above the prompt
      // Chat arrives above the progress line; the half-typed line stays intact.
      await bob.ok("dm.send", { receiver: "Alice", text: "nearly there" });
      const chat = await s.until((l) =>
        l.includes("Bob2: [unencrypted] nearly there") && l.at(-1) === "> half typ"
      );
      assert.equal(chat.at(-3), "Bob2: [unencrypted] nearly there");
      assert.match(chat.at(-2)!, /^↓ data\.bin from Bob2: \d+%/);
      // A line entered moves above the progress line, and its answer follows it there.
      await s.key("C-u");
      await s.type("/who", true);
      const who = await s.until((l) =>
        l.some((x) => x.startsWith("* online (3)")) && l.at(-1) === ">"
      );
      assert.deepEqual(who.slice(-4, -2), ["> /who", "* online (3): Alice, Bob, Bob2"]);
      assert.match(who.at(-2)!, /^↓ data\.bin from Bob2: \d+%/);
      assert.equal(who.filter((x) => x.startsWith("↓")).length, 1);
      await s.type("half typ");
      for (let n = 1; n < 4; n++) {
        await bob.send("sendfile.chunk", { file: ack.file, n, data: chunk.toBase64() });
      }
      const all = new Uint8Array(4 * chunk.length).fill(65);
      await bob.send("sendfile.end", { file: ack.file, sha256: await sha256(all) });
      assert.equal((await bob.expect("sendfile.verified")).ok, true);
      const after = await s.until((l) => l.some((x) => x.startsWith("* received data.bin")));
      assert.ok(!after.some((x) => x.startsWith("↓")), after.join("\n")); // the line is gone
      assert.equal(after.at(-1), "> half typ");
    } finally {
      await Deno.remove(progressDir, { recursive: true });
    }
  },
  ` --downloads ${progressDir}`,
);
