/**
 * Transaction ids (docs/PROTOCOL.md, "Transaction ids"): a request sent again with the same
 * `txn` is answered with the first answer and done once, on the same connection, on the next
 * one after a drop, and after a server restart; the last TXN_RETAIN_PER_ACCOUNT are kept.
 */
import assert from "node:assert/strict";
import {
  type Harness,
  openTestStore,
  pw,
  startServer,
  type TestClient,
  withServer,
} from "../harness.ts";
import {
  TXN_MAX_ANSWER_CHARS,
  TXN_RETAIN_MS,
  TXN_RETAIN_PER_ACCOUNT,
} from "../../core/server/txn.ts";
import type { RawFrame } from "../../protocol/spec.ts";

/** dm.send to Bob with a transaction id. */
const send = (c: TestClient, txn: string, text = txn) =>
  c.request("dm.send", { receiver: "Bob", text, txn });

Deno.test("txn - a repeated request gets the first ack, and the receiver gets the message once", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    const first = await send(alice, "a1", "hello");
    assert.equal(first.type, "ack");
    assert.equal((await bob.expect("dm.message")).text, "hello");
    const again = await send(alice, "a1", "hello");
    assert.equal(again.type, "ack");
    assert.notEqual(again.re, first.re, "answered under the repeat's own id");
    assert.deepEqual([again.seq, again.ts, again.status], [first.seq, first.ts, first.status]);
    await bob.expectNone("dm.message");
    // Another txn is another request; no txn at all is done every time.
    assert.notEqual((await send(alice, "a2", "hello")).seq, first.seq);
    await alice.ok("dm.send", { receiver: "Bob", text: "plain" });
    await alice.ok("dm.send", { receiver: "Bob", text: "plain" });
    const texts = [bob.expect("dm.message"), bob.expect("dm.message"), bob.expect("dm.message")];
    assert.deepEqual((await Promise.all(texts)).map((m) => m.text), ["hello", "plain", "plain"]);
  }));

Deno.test("txn - a refused request's repeat gets the same error, even once it would pass", () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice");
    const r = await alice.request("dm.send", { receiver: "Zed", text: "hi", txn: "z1" });
    assert.equal(r.code, "NO_SUCH_USER");
    const [zed] = await h.users("Zed");
    const again = await alice.request("dm.send", { receiver: "Zed", text: "hi", txn: "z1" });
    assert.equal(again.code, "NO_SUCH_USER");
    await zed.expectNone("dm.message");
  }));

Deno.test("txn - a request cut off before its answer: the repeat on the next connection is answered, done once", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    // The request and the drop in one go: the server reads the frame, then the end.
    await alice.sendRaw(
      JSON.stringify({ type: "dm.send", id: "x", receiver: "Bob", text: "cut", txn: "c1" }) +
        "\n",
    );
    alice.close();
    await bob.expect("dm.message", (m) => m.text === "cut");
    const again = await relogin(h, "Alice");
    const r = await send(again, "c1", "cut");
    assert.equal(r.type, "ack");
    assert.equal(typeof r.seq, "number");
    await bob.expectNone("dm.message");
  }));

/** Logs in again once the server has seen the old connection go. */
async function relogin(h: Harness, name: string): Promise<TestClient> {
  for (let i = 0;; i++) {
    const c = await h.connect();
    await c.expect("welcome");
    const r = await c.request("session.login", { name, password: pw(name) });
    if (r.type === "ack") return c;
    c.close();
    if (i === 50) throw new Error(`${name} could not log in again: ${r.code}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("txn - the answers are kept across a server restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "classchat-txn-" });
  try {
    let h = await startServer({ dataDir });
    let [alice, bob] = await h.users("Alice", "Bob");
    const first = await send(alice, "r1", "before the restart");
    await bob.expect("dm.message");
    await bob.send("session.ack", { upTo: first.seq });
    await bob.ok("session.ping"); // the ack was read before the server stops
    await h.close();
    h = await startServer({ dataDir });
    try {
      [alice, bob] = await h.users("Alice", "Bob");
      const again = await send(alice, "r1", "before the restart");
      assert.deepEqual([again.type, again.seq, again.ts], ["ack", first.seq, first.ts]);
      await bob.expectNone("dm.message");
    } finally {
      await h.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("txn - only the last TXN_RETAIN_PER_ACCOUNT answers of an account are kept", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    const oldest = await send(alice, "k0");
    const second = await send(alice, "k1");
    // One more than the limit after the oldest: it is forgotten, the second is not.
    for (let i = 2; i < TXN_RETAIN_PER_ACCOUNT; i++) {
      await alice.send("dm.send", { receiver: "Bob", text: `k${i}`, txn: `k${i}` });
    }
    await send(alice, `k${TXN_RETAIN_PER_ACCOUNT}`); // answered after all before it
    assert.equal((await send(alice, "k1")).seq, second.seq, "kept: answered as before");
    const again = await send(alice, "k0");
    assert.equal(again.type, "ack");
    assert.ok(Number(again.seq) > Number(oldest.seq), "forgotten: done again");
    const texts: string[] = [];
    for (let i = 0; i <= TXN_RETAIN_PER_ACCOUNT + 1; i++) {
      texts.push(String((await bob.expect("dm.message")).text));
    }
    assert.equal(texts.filter((t) => t === "k0").length, 2);
    assert.equal(texts.filter((t) => t === "k1").length, 1);
  }));

Deno.test("txn - a txn that is not 1 to 64 printable ASCII characters is BAD_FRAME", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    for (const txn of ["", "x".repeat(65), "a b", 7, "é"]) {
      // Checked with the envelope, so the error has no `re` (like a bad `id`).
      await alice.send("dm.send", { receiver: "Bob", text: "t", txn });
      const e = await alice.expect("error");
      assert.equal(e.code, "BAD_FRAME", JSON.stringify(txn));
      assert.match(String(e.message), /"txn"/);
    }
    assert.equal((await send(alice, "x".repeat(64))).type, "ack");
    await bob.expect("dm.message");
  }));

Deno.test("txn - an answer longer than TXN_MAX_ANSWER_CHARS is not kept: its repeat runs again", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    // Rooms with long names until the list's answer is past the limit.
    const name = (i: number) => `r${String(i).padStart(3, "0")}${"x".repeat(27)}`;
    let rooms = 0;
    let first: RawFrame;
    do {
      await alice.ok("groups.create", { room: name(rooms++) });
      first = await alice.ok("groups.list", { txn: `list${rooms}` });
    } while (JSON.stringify(first).length <= TXN_MAX_ANSWER_CHARS + 200);
    const short = await alice.ok("groups.members", { room: name(0), txn: "members" });
    await alice.ok("groups.create", { room: name(rooms) });
    await bob.ok("groups.join", { room: name(0) });
    const again = await alice.ok("groups.list", { txn: `list${rooms}` });
    const count = (f: RawFrame) => (f.rooms as unknown[]).length;
    assert.equal(count(again), count(first) + 1, "run again: the new room is listed");
    const kept = await alice.ok("groups.members", { room: name(0), txn: "members" });
    assert.equal((short.members as unknown[]).length, 1);
    assert.deepEqual(kept.members, short.members, "a short answer is kept (Bob joined since)");
  }));

Deno.test("txn - a txn reused for a different request is refused, not answered with the first's outcome", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    await alice.ok("groups.create", { room: "lab" });
    const first = await send(alice, "x", "hello");
    assert.equal(first.type, "ack");
    const otherText = await send(alice, "x", "something else");
    assert.equal(otherText.code, "BAD_FRAME");
    const otherType = await alice.request("groups.send", { room: "lab", text: "hi", txn: "x" });
    assert.equal(otherType.code, "BAD_FRAME");
    assert.equal((await bob.expect("dm.message")).text, "hello");
    await bob.expectNone("dm.message");
    // The true repeat is still answered with the first outcome.
    assert.equal((await send(alice, "x", "hello")).seq, first.seq);
  }));

Deno.test("txn - answers older than TXN_RETAIN_MS are forgotten at start-up", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "classchat-txn-age-" });
  try {
    let h = await startServer({ dataDir });
    let [alice, bob] = await h.users("Alice", "Bob");
    const first = await send(alice, "old", "long ago");
    await bob.expect("dm.message");
    await alice.ok("session.ping");
    await h.close();
    const db = await openTestStore(dataDir);
    await db.run("UPDATE core_txn SET at = at - ?", [TXN_RETAIN_MS + 60_000]);
    await db.close();
    h = await startServer({ dataDir });
    try {
      [alice, bob] = await h.users("Alice", "Bob");
      const again = await send(alice, "old", "long ago");
      assert.equal(again.type, "ack");
      assert.notEqual(again.seq, first.seq, "run again: the old answer was forgotten");
    } finally {
      await h.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
