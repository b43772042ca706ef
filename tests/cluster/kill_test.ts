/**
 * A node killed (-9) while its users chat with users on another node, as real processes
 * (`classchat serve --store ... --bus ... --node-id ...`): every message acknowledged before
 * the kill reaches its reader exactly once, after the reader reconnects; the surviving node
 * keeps serving; the killed node, started again, takes its users back.
 */
import assert from "node:assert/strict";
import { clusterReady, processCluster } from "../cluster.ts";
import { pw, TestClient } from "../harness.ts";
import { type ServerProcess, spawnServer } from "../process.ts";
import type { RawFrame } from "../../protocol/spec.ts";

const SENT = 300;
/** Acks to wait for before the kill: the rest are in flight when it comes. */
const KILL_AFTER = 100;

async function login(server: ServerProcess, name: string): Promise<TestClient> {
  const c = await TestClient.connect(server.port, { caCert: server.cert });
  await c.expect("welcome");
  await c.ok("session.login", { name, password: pw(name) });
  return c;
}

Deno.test({
  name:
    "cluster kill - kill -9 of a node: what it acked is delivered exactly once; the other serves on",
  ignore: !clusterReady,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const cluster = processCluster();
    const args = cluster.args;
    let a = await spawnServer(args("a"));
    const b = await spawnServer(args("b"));
    try {
      // Cid is online on node b and reads live; Bob is away (his messages wait in the store).
      await login(b, "Bob").then((c) => c.ok("session.quit"));
      const cid = await login(b, "Cid");
      const ann = await login(a, "Ann");
      const acked = new Map<string, Set<string>>([["Bob", new Set()], ["Cid", new Set()]]);
      const replies: Promise<void>[] = [];
      let done = 0;
      for (let i = 0; i < SENT; i++) {
        const receiver = i % 2 ? "Bob" : "Cid";
        const text = `m${i}`;
        replies.push(
          ann.request("dm.send", { receiver, text }).then((r) => {
            if (r.type === "ack") acked.get(receiver)!.add(text), done++;
          }).catch(() => {}),
        );
        // Part acknowledged, part in flight when the kill comes.
        while (i === SENT / 2 && done < KILL_AFTER) await new Promise((r) => setTimeout(r, 1));
      }
      await a.stop("SIGKILL", true);
      await Promise.allSettled(replies);

      // Each reader: what came live (acknowledged, as the client does), then reconnects to the
      // surviving node and gets the rest; by seq, nothing twice, nothing acknowledged missing.
      const delivered = async (name: string, live: TestClient | undefined) => {
        const shown = new Map<number, string>();
        const take = (f: RawFrame, fresh: boolean) => {
          if (f.type !== "dm.message" || typeof f.seq !== "number") return;
          assert.ok(!fresh || !shown.has(f.seq), `${name}: seq ${f.seq} shown twice`);
          shown.set(f.seq, String(f.text));
        };
        if (live) {
          await new Promise((r) => setTimeout(r, 300));
          for (const f of live.frames.splice(0)) take(f, true);
          if (shown.size) await live.send("session.ack", { upTo: Math.max(...shown.keys()) });
          await live.ok("session.quit");
        }
        const again = await login(b, name);
        await new Promise((r) => setTimeout(r, 1000));
        const replayed = again.frames.filter((f) => f.type === "dm.message");
        for (const f of replayed) take(f, true);
        const texts = [...shown.values()];
        assert.equal(new Set(texts).size, texts.length, `${name}: no message twice`);
        const lost = [...acked.get(name)!].filter((t) => !texts.includes(t));
        assert.deepEqual(lost, [], `${name}: every acknowledged message delivered`);
        console.log(
          `kill -9, ${name}: ${acked.get(name)!.size} acknowledged, ${texts.length} delivered ` +
            `(${replayed.length} after reconnecting), 0 lost, 0 twice`,
        );
        return again;
      };
      const cid2 = await delivered("Cid", cid);
      const bob2 = await delivered("Bob", undefined);
      console.log(`kill -9: ${SENT} sent, ${done} acknowledged before the kill`);

      // The surviving node serves on, and the killed one comes back with its users.
      await cid2.ok("dm.send", { receiver: "Bob", text: "still here" });
      assert.equal(
        (await bob2.expect("dm.message", (f) => f.text === "still here")).text,
        "still here",
      );
      a = await spawnServer(args("a"), a.data);
      const ann2 = await login(a, "Ann");
      await ann2.ok("dm.send", { receiver: "Bob", text: "back" });
      assert.equal((await bob2.expect("dm.message", (f) => f.text === "back")).text, "back");
      for (const c of [ann2, bob2, cid2]) c.close();
    } finally {
      await a.stop("SIGTERM").catch(() => {});
      await b.stop("SIGTERM").catch(() => {});
      await cluster.drop();
    }
  },
});
