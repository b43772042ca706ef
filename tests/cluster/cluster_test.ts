/**
 * ClassChat on several nodes (PostgreSQL store, NATS bus), each its own port: users on
 * different nodes chat as on one server.
 */
import assert from "node:assert/strict";
import { clusterReady, startCluster } from "../cluster.ts";
import { pw } from "../harness.ts";
import { openPostgres } from "../../core/server/storage/postgres.ts";

const ignore = !clusterReady;

Deno.test({
  name: "cluster - a DM each way between nodes; who lists both; one session per account",
  ignore,
  async fn() {
    const c = await startCluster(2);
    try {
      const [ann] = await c.nodes[0].users("Ann");
      const [bob] = await c.nodes[1].users("Bob");
      const sent = await ann.ok("dm.send", { receiver: "Bob", text: "hi from node 0" });
      assert.equal(sent.status, "sent", "Bob is online, on the other node");
      assert.equal((await bob.expect("dm.message")).text, "hi from node 0");
      await bob.ok("dm.send", { receiver: "Ann", text: "hi from node 1" });
      assert.equal((await ann.expect("dm.message")).text, "hi from node 1");
      assert.deepEqual((await ann.ok("presence.who")).users, ["Ann", "Bob"]);

      // Ann is logged in on node 0: not again on node 1.
      const again = await c.nodes[1].connect();
      await again.expect("welcome");
      assert.equal(
        await again.fails("session.login", { name: "Ann", password: pw("Ann") }),
        "NAME_IN_USE",
      );
    } finally {
      await c.close();
    }
  },
});

Deno.test({
  name: "cluster - a room across nodes: one order of posts for every member, and its events",
  ignore,
  async fn() {
    const c = await startCluster(2);
    try {
      const [ann, cid] = await c.nodes[0].users("Ann", "Cid");
      const [bob] = await c.nodes[1].users("Bob");
      await ann.ok("groups.create", { room: "lab" });
      await until(async () => (await bob.request("groups.join", { room: "lab" })).type === "ack");
      assert.equal((await ann.expect("groups.joined")).name, "Bob", "told across nodes");
      await cid.ok("groups.join", { room: "lab" });
      // Both nodes post at once, 20 each: every member sees the same 40, in the same order.
      await Promise.all([
        ...Array.from(
          { length: 20 },
          (_, i) => ann.ok("groups.send", { room: "lab", text: `a${i}` }),
        ),
        ...Array.from(
          { length: 20 },
          (_, i) => bob.ok("groups.send", { room: "lab", text: `b${i}` }),
        ),
      ]);
      const seen = async (who: typeof ann, own: string) => {
        // A member is not sent their own posts: compare the others' in the order received.
        const texts: string[] = [];
        const others = own === "a" ? 20 + 20 : 20;
        while (texts.length < (own === "c" ? 40 : 20)) {
          texts.push(String((await who.expect("groups.message")).text));
        }
        return { texts, others };
      };
      const atCid = (await seen(cid, "c")).texts;
      const atAnn = (await seen(ann, "a")).texts;
      const atBob = (await seen(bob, "b")).texts;
      assert.deepEqual(atAnn, atCid.filter((t) => t.startsWith("b")));
      assert.deepEqual(atBob, atCid.filter((t) => t.startsWith("a")));
      assert.equal(new Set(atCid).size, 40);
    } finally {
      await c.close();
    }
  },
});

/** Tries `fn` until it is true (another node learns of a change within milliseconds). */
async function until(fn: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error("not in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test({
  name: "cluster - the store and the nodes agree again at each heartbeat: a lost kick, a stale row",
  ignore,
  async fn() {
    const c = await startCluster(2);
    const db = await openPostgres(c.options(0).store!);
    try {
      const [ann] = await c.nodes[0].users("Ann");
      // Another node (live, heart-beating) took Ann's session over, and its kick to node 0
      // was lost on the bus. (A node of its own, not node 1: node 1 would find the row with
      // no session of its own, and delete it.)
      await db.run("INSERT INTO cluster_nodes (node, seen_at) VALUES ('node9', ?)", [
        Date.now() + 60_000,
      ]);
      await db.run("UPDATE cluster_sessions SET node = 'node9' WHERE account = 'ann'");
      assert.equal((await ann.expect("session.closing", undefined, 8000)).code, "SESSION_REPLACED");
      // A row of node 0 with no session there (its release failed): freed, so Zed logs in.
      await c.nodes[1].users("Zed").then(([z]) => z.ok("session.quit"));
      await db.run(
        "INSERT INTO cluster_sessions (account, name, node, since) VALUES ('zed', 'Zed', 'node0', 0)" +
          " ON CONFLICT (account) DO UPDATE SET node = 'node0'",
      );
      await until(async () => {
        const z = await c.nodes[1].connect();
        await z.expect("welcome");
        return (await z.request("session.login", { name: "Zed", password: pw("Zed") })).type ===
          "ack";
      }, 10_000);
    } finally {
      await db.close();
      await c.close();
    }
  },
});

Deno.test({
  name: "cluster - pins made on one node are the room's pins on the other",
  ignore,
  async fn() {
    const c = await startCluster(2);
    try {
      const [ann] = await c.nodes[0].users("Ann");
      const [bob] = await c.nodes[1].users("Bob");
      await ann.ok("groups.create", { room: "lab" });
      await until(async () => (await bob.request("groups.join", { room: "lab" })).type === "ack");
      await ann.ok("groups.send", { room: "lab", text: "Repo: git.example/lab" });
      await ann.ok("groups.pin", { room: "lab" });
      assert.equal(
        ((await bob.expect("groups.pinned")).pin as { text: string }).text,
        "Repo: git.example/lab",
      );
      const pins =
        async () => ((await bob.ok("groups.pins", { room: "lab" })).pins as Array<{ seq: number }>);
      await until(async () => (await pins()).length === 1);
      // Unpinned on node 0: gone from the list on node 1, and unpinning there says so.
      const [{ seq }] = await pins();
      await ann.ok("groups.unpin", { room: "lab", seq });
      await until(async () => (await pins()).length === 0);
    } finally {
      await c.close();
    }
  },
});

Deno.test({
  name:
    "cluster - one connection's pipelined posts keep their order while the room changes under them",
  ignore,
  async fn() {
    const c = await startCluster(2);
    try {
      const [ann, dee] = await c.nodes[0].users("Ann", "Dee");
      const [bob] = await c.nodes[1].users("Bob");
      await ann.ok("groups.create", { room: "lab" });
      await until(async () => (await bob.request("groups.join", { room: "lab" })).type === "ack");
      // Dee joins and leaves on Ann's node all along: each post's reload of the room may be
      // raced by one of those changes and read again, while the next post's is not.
      let churn = true;
      const churning = (async () => {
        while (churn) {
          await dee.request("groups.join", { room: "lab" });
          await dee.request("groups.leave", { room: "lab" });
        }
      })();
      const sent = Array.from({ length: 60 }, (_, i) => `p${i}`);
      const acks = await Promise.all(
        sent.map((text) => ann.ok("groups.send", { room: "lab", text })),
      );
      assert.ok(acks.every((a) => Number(a.sent) + Number(a.stored) >= 1), "Bob is in each");
      churn = false;
      await churning;
      const got: string[] = [];
      while (got.length < sent.length) {
        const m = await bob.expect("groups.message", (f) => f.sender === "Ann");
        got.push(String(m.text));
      }
      assert.deepEqual(got, sent);
    } finally {
      await c.close();
    }
  },
});
