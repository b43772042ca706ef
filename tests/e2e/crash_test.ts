/**
 * SIGKILL at a random moment (seeded) while two senders stream direct messages and room posts
 * to people who are away: after a restart on the same data directory, with no manual step,
 * every message the server acknowledged is delivered, once, in order.
 */
import assert from "node:assert/strict";
import { pw, TestClient } from "../harness.ts";
import { type ServerProcess, spawnServer } from "../process.ts";
import { Rng } from "../../bench/rng.ts";

const SEED = Number(Deno.env.get("CRASH_SEED") ?? 7);
const ROUNDS = 3;
/** Requests in flight per sender: enough that the kill lands between write and commit. */
const BATCH = 16;

async function client(server: ServerProcess, name: string): Promise<TestClient> {
  const c = await TestClient.connect(server.port, { caCert: server.cert });
  await c.ok("session.login", { name, password: pw(name) });
  return c;
}

/** Sends `${tag} ${n}` for n = 0, 1, ... in batches until the connection breaks; returns the
 *  texts the server acknowledged. `flowing` is called once the first batch is acknowledged. */
async function stream(
  c: TestClient,
  type: string,
  to: Record<string, string>,
  tag: string,
  flowing: () => void,
) {
  const acked: string[] = [];
  try {
    for (let n = 0;; n += BATCH) {
      for (let k = n; k < n + BATCH; k++) {
        await c.send(type, { ...to, id: `${tag}${k}`, text: `${tag} ${k}` });
      }
      for (let k = n; k < n + BATCH; k++) {
        const a = await c.expect((f) => f.re === `${tag}${k}`);
        assert.equal(a.type, "ack", JSON.stringify(a));
        acked.push(`${tag} ${k}`);
      }
      flowing();
    }
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
  }
  return acked;
}

/** Logs in and takes everything missed; returns the texts in the order they came. */
async function missed(server: ServerProcess, name: string): Promise<string[]> {
  const c = await client(server, name);
  const { count } = await c.expect("offline.summary");
  const texts: string[] = [];
  for (let i = 0; i < (count as number); i++) {
    const m = await c.expect((f) => f.type === "dm.message" || f.type === "groups.message");
    texts.push(String(m.text));
  }
  c.close();
  return texts;
}

Deno.test(`crash - SIGKILL at ${ROUNDS} random moments (seed ${SEED}) loses no acknowledged message; the restart needs no manual step`, async () => {
  const random = new Rng(SEED);
  for (let round = 0; round < ROUNDS; round++) {
    let server = await spawnServer(["--frames-per-second", "0"]);
    try {
      const dave = await client(server, "Dave");
      await dave.ok("groups.create", { room: "lab" });
      for (const name of ["Bob", "Carol"]) {
        const c = await client(server, name);
        await c.ok("groups.join", { room: "lab" });
        c.close();
      }
      const alice = await client(server, "Alice");
      await new Promise((r) => setTimeout(r, 300)); // Bob and Carol are away
      // The kill's moment counts from when both streams have something acknowledged, so a
      // slow machine cannot make a round that tests nothing.
      const flowing = [Promise.withResolvers<void>(), Promise.withResolvers<void>()];
      const streams = Promise.all([
        stream(alice, "dm.send", { receiver: "Bob" }, "dm", flowing[0].resolve),
        stream(dave, "groups.send", { room: "lab" }, "room", flowing[1].resolve),
      ]);
      await Promise.race([Promise.all(flowing.map((f) => f.promise)), streams]);
      const delay = random.int(600);
      await new Promise((r) => setTimeout(r, delay));
      assert.notEqual(await server.stop("SIGKILL", true), 0);
      const [dms, posts] = await streams;
      assert.ok(dms.length > 0 && posts.length > 0, `round ${round}: nothing acked by ${delay} ms`);

      server = await spawnServer(["--frames-per-second", "0"], server.data);
      const bob = await missed(server, "Bob");
      const carol = await missed(server, "Carol");
      for (const [who, got, want] of [["Bob", bob, [...dms, ...posts]], ["Carol", carol, posts]]) {
        assert.equal(new Set(got).size, got.length, `${who}: no duplicates`);
        const lost = (want as string[]).filter((t) => !got.includes(t));
        assert.deepEqual(lost, [], `${who}: acked but lost after a kill at ${delay} ms`);
        for (const tag of ["dm", "room"]) {
          const ns = (got as string[]).filter((t) => t.startsWith(`${tag} `)).map((t) =>
            Number(t.split(" ")[1])
          );
          assert.deepEqual(ns, ns.toSorted((a, b) => a - b), `${who}: ${tag} in order`);
        }
      }
    } finally {
      await server.stop();
    }
  }
});
