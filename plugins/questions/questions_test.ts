/**
 * questions, through a real server over TCP: students ask in the class room (announce-only,
 * yet a place to ask), openly and anonymously; every frame another student gets, pushed or
 * listed, in JSON or plain text, is read for the anonymous author's name and has none, while
 * staff see it and the author sees the question marked as theirs; upvotes once each; answers
 * by staff or the asker; resolve, reopen and delete (a tombstone); questions survive a restart.
 */
import assert from "node:assert/strict";
import { startServer } from "../../tests/harness.ts";
import { appClient } from "../../tests/app.ts";
import { MISSED_SHOWN } from "./options.ts";

const CLASS = { admins: ["Prof"], pluginOptions: { "class-room": ["cs350"] } };

Deno.test("questions - anonymous to students, never to staff; upvotes, answers, resolve, tombstones, a restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "classchat-questions-" });
  try {
    let h = await startServer({ dataDir, ...CLASS });
    const [prof, ann, bob] = await h.users("Prof", "Ann", "Bob");
    const nc = await h.connect();
    await nc.expect("welcome");
    await nc.sendRaw("server:register Nia nia-secret\r\n");
    await nc.expectLine(/^created account Nia$/);
    await new Promise((r) => setTimeout(r, 100));
    for (const c of [prof, ann, bob]) c.frames.length = 0; // from here, every frame is read
    nc.lines.length = 0;

    // Ann asks anonymously in the announce-only class room.
    const q = (await ann.ok("questions.ask", {
      room: "cs350",
      text: "Is the midterm open book?",
      anonymous: true,
    })).question as number;
    const toBob = await bob.expect("questions.asked");
    assert.deepEqual([toBob.by, toBob.anonymous, toBob.mine], [undefined, true, undefined]);
    const toProf = await prof.expect("questions.asked");
    assert.equal(toProf.by, "Ann"); // staff see who asked
    const toAnn = await ann.expect("questions.asked");
    assert.deepEqual([toAnn.by, toAnn.mine], [undefined, true]); // marked as hers
    await nc.expectLine(/^\* new question #\d+ in #cs350 \(0 votes\) anonymous: Is the midterm/);

    // Upvotes: once each.
    assert.equal((await bob.ok("questions.upvote", { question: q })).votes, 1);
    assert.equal(await bob.fails("questions.upvote", { question: q }), "ALREADY_VOTED");
    // The asker answers her own anonymous question: still no name to students.
    await ann.ok("questions.answer", { question: q, text: "found it: yes, one page of notes" });
    const answered = await bob.expect("questions.updated");
    assert.deepEqual([answered.answer, answered.answeredBy], [
      "found it: yes, one page of notes",
      undefined,
    ]);
    assert.equal(await bob.fails("questions.answer", { question: q, text: "x" }), "NOT_YOURS");
    assert.equal(await bob.fails("questions.resolve", { question: q }), "STAFF_ONLY");
    await prof.ok("questions.resolve", { question: q });
    await bob.expect("questions.updated", (f) => f.resolved === true);
    assert.equal(
      ((await bob.ok("questions.list", { room: "cs350" })).questions as unknown[]).length,
      0,
    );
    const listed = (await bob.ok("questions.list", { room: "#cs350", all: true })).questions as Q[];
    assert.deepEqual([listed[0].by, listed[0].votes, listed[0].resolved], [undefined, 1, true]);
    await nc.sendRaw("server:questions #cs350 all\r\n");
    await nc.expectLine(
      /^#\d+ in #cs350 \(1 vote\) anonymous: Is the midterm open book\? \[resolved\] -> the asker:/,
    );

    // A named question, deleted by staff: a tombstone stays.
    const q2 = (await bob.ok("questions.ask", { room: "cs350", text: "spam spam" })).question;
    assert.equal((await ann.expect("questions.asked", (f) => f.question === q2)).by, "Bob");
    await prof.ok("questions.delete", { question: q2 });
    const tomb = await ann.expect("questions.updated", (f) => f.question === q2);
    assert.deepEqual([tomb.text, tomb.deleted], ["[deleted by staff]", true]);

    // No room named: the class room, from JSON and from plain text.
    const q3 = (await ann.ok("questions.ask", { text: "When is lab 5 due?", anonymous: true }))
      .question;
    assert.equal((await bob.expect("questions.asked", (f) => f.question === q3)).room, "cs350");
    await nc.sendRaw("server:ask -a Can we use Python 3.13?\r\n");
    await nc.expectLine(/^asked: question \d+$/);
    const q4 = await bob.expect("questions.asked", (f) => f.text === "Can we use Python 3.13?");
    assert.deepEqual([q4.room, q4.by, q4.anonymous], ["cs350", undefined, true]);

    // Every frame and line the other students got: Ann's name is nowhere.
    assert.ok(!JSON.stringify(bob.frames).includes("Ann"), JSON.stringify(bob.frames));
    assert.ok(!nc.lines.join("\n").includes("Ann"), nc.lines.join("\n"));

    // After a restart, the same views.
    await h.close();
    h = await startServer({ dataDir, ...CLASS });
    const [bob2, prof2] = await h.users("Bob", "Prof");
    const again = (await bob2.ok("questions.list", { room: "cs350", all: true })).questions as Q[];
    assert.deepEqual(again.map((x) => [x.question, x.by]), [
      [q, undefined],
      [q2, "Bob"],
      [q3, undefined],
      [q4.question, undefined],
    ]);
    const staffView = (await prof2.ok("questions.list", { room: "cs350", all: true }))
      .questions as Q[];
    assert.equal(staffView[0].by, "Ann");
    await h.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

type Q = { question: number; by?: string; votes: number; resolved: boolean };

Deno.test("questions - members away when a question is asked or answered see it at their next login, each their own view, once", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "classchat-questions-away-" });
  try {
    let h = await startServer({ dataDir, ...CLASS });
    const [prof, ann, bob] = await h.users("Prof", "Ann", "Bob");
    prof.close();
    bob.close();
    await ann.gone("Prof");
    await ann.gone("Bob");
    const q = (await ann.ok("questions.ask", {
      room: "cs350",
      text: "Is lab 4 graded?",
      anonymous: true,
    })).question;
    const [prof2] = await h.users("Prof");
    const asked = await prof2.expect("questions.asked");
    assert.deepEqual([asked.question, asked.by, asked.replay], [q, "Ann", "missed"]);
    await prof2.ok("questions.answer", { question: q, text: "yes, 5%" });

    // Bob was away for both, and across a restart: one frame, as the question is now.
    await h.close();
    h = await startServer({ dataDir, ...CLASS });
    const [bob2] = await h.users("Bob");
    const missed = await bob2.expect("questions.asked");
    assert.deepEqual(
      [missed.question, missed.by, missed.answer, missed.answeredBy, missed.replay],
      [q, undefined, "yes, 5%", "Prof", "missed"],
    );
    assert.ok(!JSON.stringify(bob2.frames).includes("Ann"), JSON.stringify(bob2.frames));
    await bob2.expectNone("questions.updated", 300);
    bob2.close();
    const [ann2] = await h.users("Ann");
    await ann2.gone("Bob");
    const [bob3] = await h.users("Bob"); // shown once: not again
    await bob3.expectNone("questions.asked", 500);
    await h.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("questions - a bare room before -a is a room, never text: an anonymous question stays anonymous; staff powers stop at their rooms", async () => {
  const h = await startServer({ ...CLASS });
  try {
    const [prof, ann, bob, tom] = await h.users("Prof", "Ann", "Bob", "Tom");
    await ann.ok("groups.create", { room: "lab2" });
    await h.users("Bea").then(([bea]) => bea.close());
    for (const [name, c] of [["Bob", bob], ["Bea", undefined]] as const) {
      await ann.ok("groups.invite", { room: "lab2", name });
      if (c) await c.ok("groups.join", { room: "lab2" });
    }
    const nc = await h.connect();
    await nc.expect("welcome");
    await nc.sendRaw("server:register Nia nia-secret\r\n");
    await nc.expectLine(/^created account Nia$/);
    // Old habit: the room without its #, then -a. In plain text and in the terminal client.
    await nc.sendRaw("server:ask lab2 -a Is this anonymous?\r\n");
    await nc.expectLine(/^error NOT_A_MEMBER/);
    const app = await appClient(h, "Bea");
    app.type("/join lab2");
    await app.waitFor(/joined #lab2/);
    app.type("/ask lab2 -a Do we need lab 2 for the exam?");
    await app.waitFor(/^\* asked: question \d+ \(anonymous to students\)$/);
    const q = await bob.expect("questions.asked");
    assert.deepEqual([q.room, q.by, q.anonymous], ["lab2", undefined, true]);
    await app.app.quit();

    // Tom is named staff but is not in #lab2: he may not read or act on its questions.
    await prof.ok("staff.add", { name: "Tom" });
    assert.equal(await tom.fails("questions.list", { room: "lab2" }), "NOT_A_MEMBER");
    for (const type of ["questions.upvote", "questions.resolve", "questions.delete"]) {
      assert.equal(await tom.fails(type, { question: q.question }), "NOT_A_MEMBER", type);
    }
    assert.equal(
      await tom.fails("questions.answer", { question: q.question, text: "x" }),
      "NOT_A_MEMBER",
    );
  } finally {
    await h.close();
  }
});

Deno.test("questions - past MISSED_SHOWN, a member back from away is shown the newest only, once; plain text marks them", async () => {
  const h = await startServer({ ...CLASS });
  try {
    const [ann, bob] = await h.users("Ann", "Bob");
    const nc = await h.connect();
    await nc.expect("welcome");
    await nc.sendRaw("server:register Nia nia-secret\r\n");
    await nc.expectLine(/^created account Nia$/);
    await nc.sendRaw("server:exit\r\n");
    bob.close();
    await ann.gone("Bob");
    await ann.gone("Nia");
    const ids: number[] = [];
    for (let i = 0; i <= MISSED_SHOWN; i++) {
      ids.push((await ann.ok("questions.ask", { text: `question ${i}` })).question as number);
    }
    const deleted = (await ann.ok("questions.ask", { text: "never seen" })).question;
    const [prof] = await h.users("Prof");
    await new Promise((r) => setTimeout(r, 100)); // a first login: Prof joins the class room
    await prof.ok("questions.delete", { question: deleted });

    const [bob2] = await h.users("Bob");
    await new Promise((r) => setTimeout(r, 300));
    const missed = bob2.frames.filter((f) => f.type === "questions.asked");
    assert.equal(missed.length, MISSED_SHOWN - 1); // the newest 50 rows, less the deleted one
    assert.deepEqual(missed.map((f) => f.question), ids.slice(-(MISSED_SHOWN - 1)));
    assert.ok(missed.every((f) => f.replay === "missed"));
    bob2.close();
    await ann.gone("Bob");
    const [bob3] = await h.users("Bob");
    await bob3.expectNone("questions.asked", 300);

    const nia = await h.connect();
    await nia.expect("welcome");
    await nia.sendRaw("server:register Nia nia-secret\r\n");
    await nia.expectLine(/^\(while you were away\) .*new question #\d+ in #cs350 .*: question 50$/);
  } finally {
    await h.close();
  }
});
