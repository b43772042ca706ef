/**
 * hands, through a real server over TCP: students raise hands, staff (server admins) see the
 * line in order and lower hands; the line survives a restart; the limits hold; nc users and
 * the terminal client have the same commands. A plugin's tests may live in its folder.
 */
import assert from "node:assert/strict";
import { type Harness, startServer, withServer } from "../../tests/harness.ts";
import { appClient } from "../../tests/app.ts";
import { MAX_HANDS, MAX_HANDS_CEILING, MAX_TOPIC_LENGTH } from "./options.ts";
import { encodeFrame } from "../../protocol/framing.ts";
import { DEFAULT_LIMITS, LIMITS } from "../../protocol/limits.ts";

const STAFF = { admins: ["Prof"] };

Deno.test("hands - students raise hands, staff see them in order and lower them", () =>
  withServer(async (h) => {
    const [prof, ann, bob] = await h.users("Prof", "Ann", "Bob");
    assert.equal((await ann.ok("hands.raise", { topic: "hw3 q2" })).position, 1);
    assert.deepEqual(pick(await prof.expect("hands.raised")), ["Ann", "hw3 q2", 1]);
    assert.equal((await bob.ok("hands.raise")).position, 2);
    assert.deepEqual(pick(await prof.expect("hands.raised")), ["Bob", undefined, 2]);
    // Raised again: the topic changes, the place does not.
    assert.equal((await ann.ok("hands.raise", { topic: "hw3 q3" })).position, 1);
    const line = (await prof.ok("hands.list")).hands as Array<Record<string, unknown>>;
    assert.deepEqual(line.map((x) => [x.name, x.topic, x.position]), [
      ["Ann", "hw3 q3", 1],
      ["Bob", undefined, 2],
    ]);
    // A student sees only their own place, and may not lower anyone else's hand.
    const mine = (await bob.ok("hands.list")).hands as Array<Record<string, unknown>>;
    assert.deepEqual(mine.map((x) => [x.name, x.position]), [["Bob", 2]]);
    assert.equal(await bob.fails("hands.lower", { name: "Ann" }), "STAFF_ONLY");
    // Staff lower Ann's hand: she is told who did; Bob moves up.
    assert.equal((await prof.ok("hands.lower", { name: "ann" })).name, "Ann");
    assert.deepEqual([(await ann.expect("hands.lowered")).by], ["Prof"]);
    assert.equal(await prof.fails("hands.lower", { name: "Ann" }), "HAND_NOT_RAISED");
    assert.equal((await bob.ok("hands.raise")).position, 1);
    // Bob lowers his own; staff are told.
    await bob.ok("hands.lower");
    assert.deepEqual((await prof.expect("hands.lowered")).name, "Bob");
    assert.deepEqual((await prof.ok("hands.list")).hands, []);
  }, STAFF));

Deno.test("hands - the line survives a restart, and staff logging in are told how many wait", async () => {
  const dataDir = await Deno.makeTempDir();
  let h: Harness | undefined = await startServer({ dataDir, ...STAFF });
  try {
    const [ann, bob] = await h.users("Ann", "Bob", "Prof");
    await ann.ok("hands.raise", { topic: "lab 2" });
    await bob.ok("hands.raise");
    await h.close();
    h = await startServer({ dataDir, ...STAFF });
    const [prof] = await h.users("Prof");
    assert.equal((await prof.expect("hands.waiting")).count, 2);
    const line = (await prof.ok("hands.list")).hands as Array<Record<string, unknown>>;
    assert.deepEqual(line.map((x) => [x.name, x.topic]), [["Ann", "lab 2"], ["Bob", undefined]]);
  } finally {
    await h?.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("hands - past --max-hands a hand is TOO_MANY_HANDS; a topic past its length is BAD_FRAME", () =>
  withServer(async (h) => {
    const [a, b, c] = await h.users("A1", "B1", "C1");
    await a.ok("hands.raise");
    await b.ok("hands.raise");
    assert.equal(await c.fails("hands.raise"), "TOO_MANY_HANDS");
    await a.ok("hands.raise", { topic: "raised already: not one more" });
    const long = "x".repeat(MAX_TOPIC_LENGTH + 1);
    assert.equal(await c.fails("hands.raise", { topic: long }), "BAD_FRAME");
    await a.ok("hands.lower");
    await c.ok("hands.raise", { topic: "x".repeat(MAX_TOPIC_LENGTH) });
  }, { pluginOptions: { "max-hands": ["2"] } }));

Deno.test("hands - nc users raise, list and lower with server: commands", () =>
  withServer(async (h) => {
    const [prof] = await h.users("Prof");
    const nc = await h.connect();
    await nc.expect("welcome");
    await nc.sendRaw("server:register Carl carl-secret\r\n");
    await nc.expectLine(/^created account Carl$/);
    await nc.sendRaw("server:hand can I get an extension?\r\n");
    await nc.expectLine(/^hand raised \(1 in line\)$/);
    assert.equal((await prof.expect("hands.raised")).topic, "can I get an extension?");
    await nc.sendRaw("server:hands\r\n");
    await nc.expectLine(/^1\. Carl \(since \d{4}-\d\d-\d\d \d\d:\d\d UTC\): can I get an ext/);
    await prof.ok("hands.lower", { name: "Carl" });
    await nc.expectLine(/^\* Prof \(staff\) lowered Carl's hand$/);
    await nc.sendRaw("server:hand down\r\n");
    await nc.expectLine(/^error HAND_NOT_RAISED: your hand is not raised$/);
  }, STAFF));

Deno.test("hands - the terminal client's /hand, /hands and /lower", () =>
  withServer(async (h) => {
    const prof = await appClient(h, "Prof");
    const ann = await appClient(h, "Ann");
    ann.type("/hand question about the midterm");
    await ann.waitFor(/^\* hand raised \(1 in line\); \/hand down lowers it$/);
    await prof.waitFor(/^\* Ann raised a hand \(1 in line\): question about the midterm$/);
    prof.type("/hands");
    await prof.waitFor(/^\* 1\. Ann \(since \d{4}-\d\d-\d\d \d\d:\d\d\): question about/);
    prof.type("/lower Ann");
    await prof.waitFor(/^\* lowered Ann's hand$/);
    await ann.waitFor(/^\* Prof \(staff\) lowered your hand$/);
    ann.type("/hand down");
    await ann.waitFor(/^! HAND_NOT_RAISED: your hand is not raised$/);
    ann.type("/lower Prof");
    await ann.waitFor(
      /^! STAFF_ONLY: only staff \(server admins and the people they name\) may do that$/,
    );
    ann.type("/hands extra");
    await ann.waitFor(/^! USAGE: \/hands$/);
    await Promise.all([prof.app.quit(), ann.app.quit()]);
  }, STAFF));

function pick(f: Record<string, unknown>): unknown[] {
  return [f.name, f.topic, f.position];
}

Deno.test("hands - the whole line at --max-hands' ceiling, longest names and topics, fits half the default send queue", () => {
  // Names are ASCII, at most 256 (--max-name-length's ceiling); a topic's worst case is 3
  // UTF-8 bytes a character (e.g. the euro sign; control characters are refused).
  const name = "n".repeat(256);
  assert.throws(() => LIMITS.maxNameLength.read(["257"]));
  const hands = Array.from({ length: MAX_HANDS_CEILING }, (_, i) => ({
    name,
    topic: "\u20ac".repeat(MAX_TOPIC_LENGTH),
    ts: Date.now(),
    position: i + 1,
  }));
  const bytes = encodeFrame({ type: "ack", re: "1234567890", hands }).length;
  assert.ok(bytes < DEFAULT_LIMITS.sendQueueBytes / 2, `${bytes} bytes`);
  assert.equal(MAX_HANDS.read([String(MAX_HANDS_CEILING)]), MAX_HANDS_CEILING);
  assert.throws(() => MAX_HANDS.read([String(MAX_HANDS_CEILING + 1)]));
});
