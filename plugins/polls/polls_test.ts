/**
 * polls, through a real server over TCP: an anonymous poll in the class room (staff open it,
 * students vote and change their votes, results coalesced, no frame a student gets names a
 * voter, no ballot kept once closed), a named multi-choice poll in a student's room that closes
 * by itself, a poll surviving a restart, and the plain-text and terminal commands.
 */
import assert from "node:assert/strict";
import { startServer, withServer } from "../../tests/harness.ts";
import { appClient } from "../../tests/app.ts";
import { parsePoll } from "./syntax.ts";
import { MISSED_SHOWN } from "./options.ts";

const CLASS = { admins: ["Prof"], pluginOptions: { "class-room": ["cs350"] } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("polls - anonymous in the class room: live results name no voter, and no ballot outlives it", () =>
  withServer(async (h) => {
    const [prof, ann, bob] = await h.users("Prof", "Ann", "Bob");
    await sleep(100);
    for (const c of [prof, ann, bob]) c.frames.length = 0; // from here, every frame is read
    // Students may not open a poll in the announce-only class room.
    const asked = { room: "cs350", question: "Which lab slot?", options: ["Mon", "Tue", "Wed"] };
    assert.equal(await ann.fails("polls.create", asked), "ANNOUNCE_ONLY");
    const { poll } = await prof.ok("polls.create", { ...asked, anonymous: true });
    for (const c of [ann, bob]) {
      const opened = await c.expect("polls.opened");
      assert.deepEqual([opened.poll, opened.by, opened.anonymous], [poll, "Prof", true]);
    }
    await ann.ok("polls.vote", { poll, choices: [0] });
    await bob.ok("polls.vote", { poll, choices: [1] });
    await ann.ok("polls.vote", { poll, choices: [2] }); // changed her mind
    assert.equal(await ann.fails("polls.vote", { poll, choices: [0, 1] }), "BAD_VOTE");
    assert.equal(await ann.fails("polls.vote", { poll, choices: [5] }), "BAD_VOTE");
    // Three votes, one results frame each (coalesced), with the counts and no names.
    const r = await bob.expect("polls.results");
    assert.deepEqual([r.counts, r.voters, r.votes], [[0, 1, 1], 2, undefined]);
    await sleep(1200);
    assert.equal(bob.frames.filter((f) => f.type === "polls.results").length, 0);
    // Only the author (or staff) closes it; then it is final.
    assert.equal(await ann.fails("polls.close", { poll }), "NOT_POLL_OWNER");
    await prof.ok("polls.close", { poll });
    const closed = await ann.expect("polls.results", (f) => f.closed === true);
    assert.deepEqual(closed.counts, [0, 1, 1]);
    assert.equal(await bob.fails("polls.vote", { poll, choices: [0] }), "POLL_CLOSED");
    // Every frame each student got, and the staff too: no voter's name anywhere.
    for (const [c, other] of [[ann, "Bob"], [bob, "Ann"], [prof, "Ann"], [prof, "Bob"]] as const) {
      const seen = JSON.stringify(c.frames);
      assert.ok(!seen.includes(`"${other}"`), `a frame names ${other}: ${seen}`);
    }
    // Closed, an anonymous poll keeps its counts and no ballot.
    const ballots = await h.server.db.all("SELECT * FROM poll_votes WHERE poll = ?", [
      poll as number,
    ]);
    assert.deepEqual(ballots, []);
    const listed = ((await bob.ok("polls.list", { room: "cs350" })).polls as Poll[])[0];
    assert.deepEqual([listed.closed, listed.counts, listed.votes], [true, [0, 1, 1], undefined]);
  }, CLASS));

type Poll = { poll: number; closed: boolean; counts: number[]; votes?: unknown };

Deno.test("polls - named and multi-choice in a student's room; it closes by itself", () =>
  withServer(async (h) => {
    const [ann, bob, cat] = await h.users("Ann", "Bob", "Cat");
    await ann.ok("groups.create", { room: "study" });
    await bob.ok("groups.join", { room: "study" });
    const q = { room: "#study", question: "When?", options: ["Sat", "Sun"], multi: true };
    const { poll } = await ann.ok("polls.create", { ...q, closesIn: 2 });
    await bob.expect("polls.opened");
    await bob.ok("polls.vote", { poll, choices: [0, 1] });
    // Cat was not in the room when it opened: not a voter, and not told.
    assert.equal(await cat.fails("polls.vote", { poll, choices: [0] }), "NOT_A_VOTER");
    const done = await ann.expect("polls.results", (f) => f.closed === true, 5000);
    assert.deepEqual(done.counts, [1, 1]);
    assert.deepEqual(done.votes, [{ name: "Bob", choices: [0, 1] }]);
    assert.equal(cat.frames.filter((f) => String(f.type).startsWith("polls.")).length, 0);
  }));

Deno.test("polls - an open poll and its votes survive a restart; voters are shown it at login", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "classchat-polls-" });
  try {
    let h = await startServer({ dataDir });
    let [ann, bob] = await h.users("Ann", "Bob");
    await ann.ok("groups.create", { room: "lab" });
    await bob.ok("groups.join", { room: "lab" });
    const { poll } = await ann.ok("polls.create", {
      room: "lab",
      question: "Q?",
      options: ["a", "b"],
    });
    await bob.ok("polls.vote", { poll, choices: [1] });
    await h.close();
    h = await startServer({ dataDir });
    [bob] = await h.users("Bob");
    const shown = await bob.expect("polls.opened");
    assert.deepEqual([shown.poll, shown.counts, shown.closed], [poll, [0, 1], false]);
    [ann] = await h.users("Ann");
    await ann.ok("polls.vote", { poll, choices: [0] });
    await ann.ok("polls.close", { poll });
    const final = await bob.expect("polls.results", (f) => f.closed === true);
    assert.deepEqual(final.counts, [1, 1]);
    await h.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("polls - nc users and the terminal client open, vote and list", () =>
  withServer(async (h) => {
    const [ann] = await h.users("Ann");
    await ann.ok("groups.create", { room: "lab" });
    const nc = await h.connect();
    await nc.expect("welcome");
    await nc.sendRaw("server:register Nia nia-secret\r\n");
    await nc.expectLine(/^created account Nia$/);
    await nc.sendRaw("/join lab\r\n");
    await nc.expectLine(/joined #lab/i);
    const term = await appClient(h, "Tom");
    term.type("/join lab");
    await term.waitFor(/joined #lab/);
    term.type('/poll #lab "Lunch?" pizza | salad | soup --anonymous');
    const opened = await term.waitFor(/poll (\d+) is open/);
    const poll = Number(opened.match(/poll (\d+)/)![1]);
    await nc.expectLine(new RegExp(`new poll ${poll} in #lab by Tom \\(anonymous\\): Lunch\\?`));
    await nc.sendRaw(`server:vote ${poll} 2\n`);
    await nc.expectLine(new RegExp(`voted in poll ${poll}`));
    await term.waitFor(/2\) salad \(1\)/);
    await nc.sendRaw(`server:polls #lab\n`);
    await nc.expectLine(/1 voted, open/);
  }));

Deno.test("polls - the typed syntax", () => {
  assert.deepEqual(parsePoll('"Which slot?" Mon 4pm | Tue 9am --anonymous --closes 10m'), {
    question: "Which slot?",
    options: ["Mon 4pm", "Tue 9am"],
    anonymous: true,
    multi: false,
    closesIn: 600,
  });
  assert.deepEqual(parsePoll("Best? a | b --multi")?.multi, true);
  assert.equal(parsePoll('"Only one?" a'), undefined);
  assert.equal(parsePoll("no question here"), undefined);
});

Deno.test("polls - a voter away when a poll closes is shown its results at the next login, once, naming no voter", () =>
  withServer(async (h) => {
    const [prof, ann, bob] = await h.users("Prof", "Ann", "Bob");
    await sleep(100); // first logins: they join the class room
    const { poll } = await prof.ok("polls.create", {
      room: "cs350",
      question: "Move the quiz?",
      options: ["yes", "no"],
      anonymous: true,
    });
    await ann.ok("polls.vote", { poll, choices: [0] });
    await bob.ok("polls.vote", { poll, choices: [1] });
    bob.close(); // Bob leaves; Ann stays
    await ann.gone("Bob");
    await prof.ok("polls.close", { poll });
    await ann.expect("polls.results", (f) => f.closed === true);

    const [bob2] = await h.users("Bob");
    const missed = await bob2.expect("polls.results");
    assert.deepEqual(
      [missed.poll, missed.closed, missed.counts, missed.replay, typeof missed.ts],
      [poll, true, [1, 1], "missed", "number"],
    );
    assert.ok(!JSON.stringify(missed).includes("Ann"), JSON.stringify(missed));
    bob2.close();
    await ann.gone("Bob");
    const [bob3] = await h.users("Bob"); // shown once: not again
    await bob3.expectNone("polls.results", 500);
  }, CLASS));

Deno.test("polls - no room named means the class room; named staff open polls there, students may not", () =>
  withServer(async (h) => {
    const [prof, tom, ann] = await h.users("Prof", "Tom", "Ann");
    await sleep(100); // first logins: they join the class room
    const asked = { question: "Review session?", options: ["Thu", "Fri"] };
    assert.equal(await tom.fails("polls.create", asked), "ANNOUNCE_ONLY");
    await prof.ok("staff.add", { name: "Tom" });
    const { poll } = await tom.ok("polls.create", asked);
    assert.equal((await ann.expect("polls.opened")).room, "cs350");
    assert.equal(await ann.fails("polls.create", asked), "ANNOUNCE_ONLY");
    const listed = (await ann.ok("polls.list")).polls as Array<{ poll: number }>;
    assert.deepEqual(listed.map((p) => p.poll), [poll]);
  }, CLASS));

Deno.test("polls - without a class room, a poll must name its room", () =>
  withServer(async (h) => {
    const [ann] = await h.users("Ann");
    const r = await ann.request("polls.create", { question: "Q?", options: ["a", "b"] });
    assert.deepEqual([r.code, r.message], [
      "NO_SUCH_ROOM",
      "name a room: this server has no class room",
    ]);
  }));

Deno.test("polls - a bare room before the quoted question is a room; named staff see no poll of a room they are not in; past MISSED_SHOWN, the newest only", async () => {
  const h = await startServer({ ...CLASS });
  try {
    const [prof, ann, bob, tom] = await h.users("Prof", "Ann", "Bob", "Tom");
    await ann.ok("groups.create", { room: "study" });
    await ann.ok("groups.invite", { room: "study", name: "Bob" });
    await bob.ok("groups.join", { room: "study" });
    const nc = await h.connect();
    await nc.expect("welcome");
    await nc.sendRaw("server:register Nia nia-secret\r\n");
    await nc.expectLine(/^created account Nia$/);
    await nc.sendRaw('server:poll study "Meet Thursday?" yes | no\r\n');
    await nc.expectLine(/^error NOT_A_MEMBER/); // a room, not words of the question

    const { poll } = await ann.ok("polls.create", {
      room: "study",
      question: "Which chapter?",
      options: ["3", "4"],
    });
    await bob.ok("polls.vote", { poll, choices: [1] });
    await prof.ok("staff.add", { name: "Tom" });
    assert.equal(await tom.fails("polls.list", { room: "study" }), "NOT_A_MEMBER");
    assert.equal(await tom.fails("polls.close", { poll }), "NOT_POLL_OWNER");

    // Bob is away while more polls close than are shown at a login.
    bob.close();
    await ann.gone("Bob");
    const ids: number[] = [];
    for (let i = 0; i <= MISSED_SHOWN; i++) {
      const p =
        (await ann.ok("polls.create", { room: "study", question: `Q${i}?`, options: ["a", "b"] }))
          .poll as number;
      await ann.ok("polls.close", { poll: p });
      ids.push(p);
    }
    const [bob2] = await h.users("Bob");
    await sleep(300);
    const missed = bob2.frames.filter((f) => f.type === "polls.results" && f.replay === "missed");
    assert.deepEqual(missed.map((f) => f.poll), ids.slice(-MISSED_SHOWN));
    bob2.close();
    await ann.gone("Bob");
    const [bob3] = await h.users("Bob");
    await sleep(300);
    assert.equal(bob3.frames.filter((f) => f.replay === "missed").length, 0);
  } finally {
    await h.close();
  }
});
