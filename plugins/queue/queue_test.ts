/**
 * queue (office hours), through a real server over TCP: staff open it, students join with a
 * topic and see their place; /next tells the student, /done ends the help and feeds the wait
 * estimate; the queue survives a restart; a student who drops keeps their place for the grace
 * period and is passed over after it; nc users and the terminal client have the commands.
 */
import assert from "node:assert/strict";
import { startServer, withServer } from "../../tests/harness.ts";
import { appClient } from "../../tests/app.ts";

const STAFF = { admins: ["Prof"] };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("queue - staff open it, students line up, /next tells the student, /done feeds the wait", () =>
  withServer(async (h) => {
    const [prof, ann, bob, cat] = await h.users("Prof", "Ann", "Bob", "Cat");
    assert.equal(await ann.fails("queue.join", { topic: "hw3" }), "QUEUE_CLOSED");
    assert.equal(await ann.fails("queue.open"), "STAFF_ONLY");
    await prof.ok("queue.open", { room: "cs350" });
    assert.deepEqual(
      [
        (await ann.ok("queue.join", { topic: "hw3 q2" })).position,
        (await bob.ok("queue.join")).position,
      ],
      [1, 2],
    );
    assert.equal((await prof.expect("queue.waiting", (f) => f.count === 2)).count, 2);
    // Joining again changes the topic, not the place.
    assert.equal((await ann.ok("queue.join", { topic: "hw3 q3" })).position, 1);
    const st = await bob.ok("queue.status");
    assert.deepEqual([st.open, st.room, st.waiting, st.position, st.waitMs], [
      true,
      "cs350",
      2,
      2,
      undefined,
    ]);
    assert.equal(await bob.fails("queue.next"), "STAFF_ONLY");
    const next = await prof.ok("queue.next");
    assert.deepEqual([next.name, next.topic], ["Ann", "hw3 q3"]);
    assert.deepEqual((await ann.expect("queue.ready")).by, "Prof");
    assert.equal((await bob.expect("queue.moved")).position, 1);
    await sleep(50);
    assert.equal((await prof.ok("queue.done")).name, "Ann");
    assert.equal(await prof.fails("queue.done"), "NOT_HELPING");
    // One service done: the wait is now estimated (Bob is first: nothing ahead, no one helped).
    assert.equal((await cat.ok("queue.join")).position, 2);
    const catWait = (await cat.ok("queue.status")).waitMs as number;
    assert.ok(catWait > 0, `an estimate after one service: ${catWait}`);
    assert.equal(await ann.fails("queue.leave"), "NOT_QUEUED");
    await bob.ok("queue.leave");
    assert.equal((await cat.expect("queue.moved", (f) => f.position === 1)).position, 1);
    const stats = await prof.ok("queue.stats");
    assert.deepEqual([stats.served, stats.waiting], [1, 1]);
    // Closing clears the line, and whoever waited is told.
    assert.equal((await prof.ok("queue.close")).left, 1);
    await cat.expect("queue.closed");
    assert.equal(await cat.fails("queue.join"), "QUEUE_CLOSED");
  }, STAFF));

Deno.test("queue - it survives a restart; a student who dropped keeps the place for the grace period only", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "classchat-queue-" });
  const opts = { dataDir, ...STAFF, pluginOptions: { "queue-grace": ["1"] } };
  try {
    let h = await startServer(opts);
    let [prof, ann, bob] = await h.users("Prof", "Ann", "Bob");
    await prof.ok("queue.open");
    await ann.ok("queue.join", { topic: "lab 2" });
    await bob.ok("queue.join", { topic: "lab 3" });
    await h.close();
    h = await startServer(opts);
    [bob] = await h.users("Bob");
    // Back after the restart: the place is kept and told at login.
    assert.equal((await bob.expect("queue.moved")).position, 2);
    [prof] = await h.users("Prof");
    // Ann never came back: past the grace period (1 s), /next passes over her.
    await sleep(1200);
    const next = await prof.ok("queue.next");
    assert.deepEqual([next.name, next.topic], ["Bob", "lab 3"]);
    assert.equal((await prof.ok("queue.status")).waiting, 0);
    [ann] = await h.users("Ann");
    assert.equal((await ann.ok("queue.status")).position, undefined);
    await h.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("queue - nc users and the terminal client", () =>
  withServer(async (h) => {
    const prof = await appClient(h, "Prof");
    prof.type("/queue open cs350");
    await prof.waitFor(/office hours are open/);
    const nc = await h.connect();
    await nc.expect("welcome");
    await nc.sendRaw("server:register Nia nia-secret\r\n");
    await nc.expectLine(/^created account Nia$/);
    await nc.sendRaw("server:queue join my code will not compile\r\n");
    await nc.expectLine(/^in the queue: 1 in line, wait unknown yet$/);
    await prof.waitFor(/1 waiting in the office-hours queue/);
    prof.type("/next");
    await prof.waitFor(/helping Nia \(my code will not compile\)/);
    await nc.expectLine(/^\* Prof \(staff\) is ready for you in #cs350$/);
    prof.type("/done");
    await prof.waitFor(/done with Nia/);
    prof.type("/queue stats");
    await prof.waitFor(/today: 1 helped, 0 waiting, waits: median 0 min/);
  }, STAFF));
