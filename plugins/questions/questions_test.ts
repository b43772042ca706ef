/**
 * questions, through a real server over TCP: students ask in the class room (announce-only,
 * yet a place to ask), openly and anonymously; every frame another student gets, pushed or
 * listed, in JSON or plain text, is read for the anonymous author's name and has none, while
 * staff see it and the author sees the question marked as theirs; upvotes once each; answers
 * by staff or the asker; resolve, reopen and delete (a tombstone); questions survive a restart.
 */
import assert from "node:assert/strict";
import { startServer } from "../../tests/harness.ts";

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

    // Every frame and line the other students got: Ann's name is nowhere.
    assert.ok(!JSON.stringify(bob.frames).includes("Ann"), JSON.stringify(bob.frames));
    assert.ok(!nc.lines.join("\n").includes("Ann"), nc.lines.join("\n"));

    // After a restart, the same views.
    await h.close();
    h = await startServer({ dataDir, ...CLASS });
    const [bob2, prof2] = await h.users("Bob", "Prof");
    const again = (await bob2.ok("questions.list", { room: "cs350", all: true })).questions as Q[];
    assert.deepEqual(again.map((x) => [x.question, x.by]), [[q, undefined], [q2, "Bob"]]);
    const staffView = (await prof2.ok("questions.list", { room: "cs350", all: true }))
      .questions as Q[];
    assert.equal(staffView[0].by, "Ann");
    await h.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

type Q = { question: number; by?: string; votes: number; resolved: boolean };
