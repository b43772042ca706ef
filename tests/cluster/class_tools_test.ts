/**
 * The class tools across nodes: staff named on one node are staff on the other at once (and
 * stop being so when removed), a hand raised on one node reaches the staff on the other, and
 * the office-hours queue is one queue, where two staff on two nodes calling /next at the same
 * moment never get the same student.
 */
import assert from "node:assert/strict";
import { clusterReady, startCluster } from "../cluster.ts";
import { runCli } from "../process.ts";

const ignore = !clusterReady;
const CLASS = { admins: ["Prof"], pluginOptions: { "class-room": ["cs350"] } };

/** Retries until `check` holds: another node learns of a change over the bus. */
async function until(check: () => Promise<boolean>, what: string, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name: "cluster class tools - staff named on one node are staff on the other; hands cross nodes",
  ignore,
  async fn() {
    const c = await startCluster(2, CLASS);
    try {
      const [prof] = await c.nodes[0].users("Prof");
      const [tom, ann] = await c.nodes[1].users("Tom", "Ann");
      assert.equal(await tom.fails("queue.open"), "STAFF_ONLY");
      await prof.ok("staff.add", { name: "Tom" });
      const told = await ann.expect("staff.changed");
      assert.deepEqual([told.name, told.staff, told.by], ["Tom", true, "Prof"], "told on node 1");
      await until(async () => (await tom.request("queue.open")).type === "ack", "Tom is staff");

      // A hand raised on node 1 reaches the staff on node 0, and its lowering comes back.
      const raised = await ann.ok("hands.raise", { topic: "question 3" });
      assert.equal(raised.position, 1);
      const atProf = await prof.expect("hands.raised");
      assert.deepEqual([atProf.name, atProf.topic, atProf.position], ["Ann", "question 3", 1]);
      const hands = (await prof.ok("hands.list")).hands as Array<{ name: string }>;
      assert.deepEqual(hands.map((h) => h.name), ["Ann"]);
      await prof.ok("hands.lower", { name: "Ann" });
      const lowered = await ann.expect("hands.lowered");
      assert.deepEqual([lowered.name, lowered.by], ["Ann", "Prof"]);
      await until(
        async () => ((await tom.ok("hands.list")).hands as unknown[]).length === 0,
        "line empty",
      );

      // Removed on node 0: no longer staff on node 1.
      await prof.ok("staff.remove", { name: "Tom" });
      await until(
        async () => (await tom.request("queue.close")).code === "STAFF_ONLY",
        "not staff",
      );
    } finally {
      await c.close();
    }
  },
});

Deno.test({
  name:
    "cluster class tools - one office-hours queue: two staff on two nodes never call the same student",
  ignore,
  async fn() {
    const c = await startCluster(2, { ...CLASS, admins: ["Prof", "Tara"] });
    try {
      const [prof, ann, bob] = await c.nodes[0].users("Prof", "Ann", "Bob");
      const [tara, cid, dee] = await c.nodes[1].users("Tara", "Cid", "Dee");
      await prof.ok("queue.open", { room: "cs350" });
      // Opened on node 0: students on node 1 may join.
      await until(async () => (await cid.request("queue.join", {})).type === "ack", "open");
      const waiting = await tara.expect("queue.waiting");
      assert.equal(waiting.count, 1);
      assert.equal((await ann.ok("queue.join", {})).position, 2);
      assert.equal((await dee.ok("queue.join", {})).position, 3);
      assert.equal((await bob.ok("queue.join", {})).position, 4);
      await until(async () => (await tara.ok("queue.status")).waiting === 4, "4 waiting");

      // Both staff call the next student at once, twice: four different students,
      // in the line's order.
      const called: string[] = [];
      for (let round = 0; round < 2; round++) {
        const both = await Promise.all([prof.ok("queue.next"), tara.ok("queue.next")]);
        called.push(...both.map((r) => String(r.name)).sort());
      }
      // The line was Cid, Ann, Dee, Bob: the first two in the first round, in either hands.
      assert.deepEqual(called, ["Ann", "Cid", "Bob", "Dee"], `each called once: ${called}`);
      // Each student is told, on their own node, by whoever called them.
      for (const s of [ann, bob, cid, dee]) {
        const ready = await s.expect("queue.ready");
        assert.ok(["Prof", "Tara"].includes(String(ready.by)));
      }
      assert.equal(await prof.fails("queue.next"), "QUEUE_EMPTY");
    } finally {
      await c.close();
    }
  },
});

Deno.test({
  name:
    "cluster class tools - a poll across nodes: votes from both count, it closes once, voters on both nodes see it",
  ignore,
  async fn() {
    const c = await startCluster(2, CLASS);
    try {
      const [prof, bob] = await c.nodes[0].users("Prof", "Bob");
      const [ann] = await c.nodes[1].users("Ann");
      const asked = { room: "cs350", question: "Ready?", options: ["yes", "no"] };
      const { poll } = await prof.ok("polls.create", asked);
      // Opened on node 0: Ann, on node 1, is shown it and votes there at once.
      const opened = await ann.expect("polls.opened", (f) => f.poll === poll);
      assert.deepEqual(opened.options, ["yes", "no"]);
      await ann.ok("polls.vote", { poll, choices: [0] });
      await bob.ok("polls.vote", { poll, choices: [1] });
      // Live results reach each voter, with the ballots of both nodes.
      await until(() => {
        const r = ann.frames.findLast((f) => f.type === "polls.results" && f.poll === poll);
        return Promise.resolve(JSON.stringify(r?.counts) === "[1,1]");
      }, "Ann sees both votes");
      await prof.ok("polls.close", { poll });
      const final = await ann.expect((f) => f.type === "polls.results" && f.closed === true);
      assert.deepEqual([final.counts, final.voters], [[1, 1], 2]);
      assert.equal(await ann.fails("polls.vote", { poll, choices: [1] }), "POLL_CLOSED");

      // A timed poll: both nodes' timers fire, and it closes once, final results told once.
      const timed = (await prof.ok("polls.create", { ...asked, closesIn: 1 })).poll;
      await ann.ok("polls.vote", { poll: timed, choices: [1] });
      const done = (f: Record<string, unknown>) =>
        f.type === "polls.results" && f.poll === timed && f.closed === true;
      await ann.expect(done, () => true, 5000);
      await bob.expect(done, () => true, 5000);
      await new Promise((r) => setTimeout(r, 500)); // a second close would be told by now
      assert.equal(ann.frames.filter(done).length, 0, "the final results once");
    } finally {
      await c.close();
    }
  },
});

Deno.test({
  name:
    "cluster class tools - an anonymous question on one node: staff and students on the other see it live, each their own view",
  ignore,
  async fn() {
    const c = await startCluster(2, CLASS);
    try {
      const [prof, bob] = await c.nodes[0].users("Prof", "Bob");
      const [ann] = await c.nodes[1].users("Ann");
      const { question } = await ann.ok("questions.ask", {
        text: "is it on the exam?",
        anonymous: true,
      });
      const atProf = await prof.expect("questions.asked");
      assert.deepEqual([atProf.question, atProf.by], [question, "Ann"], "staff see the asker");
      const atBob = await bob.expect("questions.asked");
      assert.equal(atBob.by, undefined, "students do not");
      assert.ok(!JSON.stringify(atBob).includes("Ann"));
      await prof.ok("questions.answer", { question, text: "yes" });
      const answered = await ann.expect("questions.updated");
      assert.deepEqual([answered.answer, answered.answeredBy, answered.replay], [
        "yes",
        "Prof",
        undefined,
      ]);
    } finally {
      await c.close();
    }
  },
});

Deno.test({
  name:
    "cluster class tools - staff removed by the operator: once the account logs in on one node, no node treats it as staff (no anonymous author leaks)",
  ignore,
  async fn() {
    const c = await startCluster(2, CLASS);
    const data = await Deno.makeTempDir({ prefix: "classchat-admin-" });
    try {
      const [prof, ann] = await c.nodes[0].users("Prof", "Ann");
      const [tom] = await c.nodes[1].users("Tom");
      await prof.ok("staff.add", { name: "Tom" });
      tom.close();
      await prof.gone("Tom");
      const removed = await runCli([
        "admin",
        "remove-staff",
        "Tom",
        "--data",
        data,
        "--store",
        c.options(0).store!,
      ]);
      assert.equal(removed.code, 0, removed.stderr);
      // Node 0 still has Tom as staff in memory; Tom's login on node 1 reads the store.
      const [tom2] = await c.nodes[1].users("Tom");
      const roster = async () => (await prof.ok("staff.list")).staff as Array<{ name: string }>;
      await until(async () => !(await roster()).some((m) => m.name === "Tom"), "node 0 knows");
      await ann.ok("questions.ask", { text: "is it on the exam?", anonymous: true });
      const atTom = await tom2.expect("questions.asked");
      assert.equal(atTom.by, undefined, "no longer staff: the asker is not named");
      assert.ok(!JSON.stringify(atTom).includes("Ann"));
    } finally {
      await c.close();
      await Deno.remove(data, { recursive: true });
    }
  },
});
