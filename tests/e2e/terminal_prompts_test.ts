/**
 * The prompts a student meets besides the chat line: /passwd's questions, and leaving (the
 * shell's prompt must start on a row of its own).
 */
import assert from "node:assert/strict";
import { pw, withServer } from "../harness.ts";
import { hasTmux, Screen, terminalTest } from "./tmux.ts";

const settle = () => new Promise((r) => setTimeout(r, 400));

terminalTest(
  "/passwd: the first question stays; Enter there cancels and says so",
  "Alice",
  async (h, s) => {
    await s.shows(/^\* logged in as Alice/);
    await s.type("/passwd", true);
    await s.until((l) => l.at(-1) === "current password:");
    await settle();
    assert.equal((await s.until(() => true)).at(-1), "current password:"); // not erased
    await s.type("", true);
    const lines = await s.until((l) => l.some((x) => /^\* \/passwd cancelled/.test(x)));
    await s.until((l) => l.at(-1) === ">"); // the chat prompt is back
    assert.ok(!lines.some((x) => x.startsWith("! ")), lines.join("\n"));
    // And the whole change works, each question in turn, with the prompt back after.
    await s.type("/passwd", true);
    await s.until((l) => l.at(-1) === "current password:");
    await s.type(pw("Alice"), true);
    await s.until((l) => l.at(-1) === "new password:");
    await s.type("a-new-password-1", true);
    await s.until((l) => l.at(-1) === "new password again:");
    await s.type("a-new-password-1", true);
    await s.shows(/^\* password changed/);
    await s.until((l) => l.at(-1) === ">");
    const [carol] = await h.users("Carol");
    assert.ok(carol); // the server still serves; the new password is checked in accounts_test
  },
);

terminalTest(
  "after /quit the shell's prompt starts on a row of its own",
  "Alice",
  async (_h, s) => {
    await s.shows(/^\* logged in as Alice/);
    await s.type("/quit", true);
    const lines = await s.shows(/EXITED/);
    assert.equal(lines.at(-1), "EXITED 0", lines.join("\n"));
    assert.ok(!lines.some((l) => /^> *$/.test(l)), lines.join("\n")); // no empty prompt left
  },
  "; echo EXITED $?; sleep 30",
);

terminalTest(
  "Ctrl-C with a half-typed line keeps the line and ends it before the shell's prompt",
  "Alice",
  async (_h, s) => {
    await s.shows(/^\* logged in as Alice/);
    await s.type("Bob: half a thou");
    await s.until((l) => l.at(-1) === "> Bob: half a thou");
    await s.key("C-c");
    const lines = await s.shows(/EXITED/);
    assert.deepEqual(lines.slice(-2), ["> Bob: half a thou", "EXITED 0"], lines.join("\n"));
  },
  "; echo EXITED $?; sleep 30",
);

Deno.test({
  name: "terminal - a name that is an existing account says so first; Enter picks another name",
  ignore: !hasTmux,
  fn: () =>
    withServer(async (h) => {
      const [dana] = await h.users("Dana");
      await dana.ok("session.quit"); // her account exists; she is away
      const s = await Screen.open("taken", h, "Dana", "NO_COLOR=1 ", "", true);
      try {
        await s.shows(/Trust this server/);
        await s.type("yes", true);
        await s.shows(/^\* Dana is an existing account\. If it is yours, type its password;/);
        await s.until((l) => l.at(-1) === "password for Dana:");
        await s.type("", true); // not mine
        await s.until((l) => l.at(-1) === "name>");
        await s.type("Dana2", true);
        await s.shows(/^\* Dana2 is a new account/);
        assert.ok(!(await s.raw()).includes("BAD_PASSWORD"));
      } finally {
        await s.close();
      }
    }),
});

terminalTest(
  "a message arriving while a long secret is typed erases nothing above",
  "Alice",
  async (h, s) => {
    await s.resize(80);
    await s.shows(/^\* logged in as Alice/);
    const [bob] = await h.users("Bob2");
    await s.type("/passwd", true);
    await s.until((l) => l.at(-1) === "current password:");
    await s.type("x".repeat(150)); // two rows' worth, unseen
    await settle();
    await bob.ok("dm.send", { receiver: "Alice", text: "hello" });
    // The message is printed, then the question drawn again below it: wait for the screen to
    // settle (a capture between the two showed the message without the question yet, under
    // CI load), then check what is on it.
    const lines = await s.until((l) =>
      l.some((x) => x.endsWith("hello")) && l.at(-1) === "current password:"
    );
    assert.deepEqual(lines.slice(-3), [
      "> /passwd",
      "Bob2: [unencrypted] hello",
      "current password:",
    ]);
    assert.ok(lines.some((l) => l.startsWith("* logged in as Alice")), lines.join("\n"));
    assert.ok(!lines.some((l) => l.includes("xxx")), "the secret is not shown");
  },
);
