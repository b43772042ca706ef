/**
 * The terminal client at a student's 80 columns: a long half-typed question wraps over several
 * rows, and chat that arrives meanwhile must still appear above it, also after a resize.
 */
import assert from "node:assert/strict";
import { terminalTest } from "./tmux.ts";

/** A 200-character question, in words so a wrong redraw is easy to read in a failure. */
const TEXT = Array.from({ length: 40 }, (_, i) => `w${String(i).padStart(2, "0")}`).join(" ")
  .padEnd(194, ".");
const QUESTION = `Bob2: ${TEXT}`;

/** The typed line as the screen shows it (rows read joined): the last starting with "> ". */
const typed = (lines: string[]) => lines.findLast((l) => l.startsWith("> "));

terminalTest(
  "a 200-character half-typed line at 80 columns: incoming chat shows above it, also after a resize",
  "Alice",
  async (h, s) => {
    s.joined = true;
    await s.resize(80);
    await s.shows(/^\* logged in as Alice/);
    const [bob] = await h.users("Bob2");
    await s.type(QUESTION);
    await s.until((l) => typed(l) === `> ${QUESTION}`);
    for (const [i, columns] of [[1, 80], [2, 80], [3, 61], [4, 100]] as const) {
      if (columns !== 80 || i === 1) {
        await s.resize(columns);
        // The client learns of a resize by a signal, after the terminal has rewrapped: a
        // message that arrives first is drawn at the old width (as in any readline program).
        await new Promise((r) => setTimeout(r, 300));
      }
      await bob.ok("dm.send", { receiver: "Alice", text: `message ${i}` });
      const lines = await s.until((l) =>
        l.includes(`Bob2: [unencrypted] message ${i}`) && typed(l) === `> ${QUESTION}`
      );
      // Every message so far, once each, in order, above the intact typed line.
      const shown = lines.filter((l) => l.startsWith("Bob2: [unencrypted] message"));
      assert.deepEqual(
        shown,
        Array.from({ length: i }, (_, k) => `Bob2: [unencrypted] message ${k + 1}`),
      );
      assert.equal(lines.filter((l) => l.startsWith("> ")).length, 1, lines.join("\n"));
    }
    await s.type("", true);
    assert.equal((await bob.expect("dm.message")).text, TEXT);
  },
);
