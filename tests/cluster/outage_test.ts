/**
 * A node that loses PostgreSQL or NATS (through a proxy the test takes down) refuses new work
 * with UNAVAILABLE, says so on GET /healthz (503), keeps its connections, and recovers by
 * itself when the service is back.
 */
import assert from "node:assert/strict";
import { clusterReady, NATS_URL, PG_URL } from "../cluster.ts";
import { pw, startServer } from "../harness.ts";
import { tcpProxy } from "../tcp_proxy.ts";
import { dropSchema, TEST_SCHEMA_PREFIX, withSchema } from "../pg_schemas.ts";
import { webAssets } from "../../web/files.ts";

Deno.test({
  name: "cluster outage - losing PostgreSQL or NATS: UNAVAILABLE and 503, then back by itself",
  ignore: !clusterReady,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const id = crypto.randomUUID().replaceAll("-", "");
    const schema = `${TEST_SCHEMA_PREFIX}${id}`;
    const pg = tcpProxy(Number(new URL(PG_URL).port || 5432));
    const nats = tcpProxy(Number(new URL(NATS_URL).port || 4222));
    const pgUrl = new URL(PG_URL);
    pgUrl.port = String(pg.port);
    pgUrl.hostname = "127.0.0.1";
    const h = await startServer({
      store: withSchema(pgUrl.toString(), schema),
      bus: `nats://127.0.0.1:${nats.port}?prefix=cc_test_${id}`,
      nodeId: "n",
      web: { port: 0, assets: webAssets() },
    });
    const health = async () => {
      const r = await fetch(`https://127.0.0.1:${h.server.webAddr!.port}/healthz`, {
        client: Deno.createHttpClient({ caCerts: [h.caCert!] }),
      });
      return { status: r.status, ...(await r.json()) };
    };
    try {
      const [ann, bob] = await h.users("Ann", "Bob");
      assert.equal((await health()).status, 200);

      pg.down();
      // The driver tries to connect again first (at most its connect timeout).
      await ann.send("dm.send", { receiver: "Bob", text: "lost?", id: "down1" });
      assert.equal(
        (await ann.expect("error", (f) => f.re === "down1", 15_000)).code,
        "UNAVAILABLE",
      );
      const sick = await health();
      assert.deepEqual([sick.status, sick.store], [503, false]);
      pg.up();
      await until(async () =>
        (await ann.request("dm.send", { receiver: "Bob", text: "back" })).type === "ack"
      );
      // Pushed once committed; the driver may still be backing off from the outage.
      assert.equal((await bob.expect("dm.message", (f) => f.text === "back", 15_000)).text, "back");
      assert.equal((await health()).status, 200);

      nats.down();
      await until(async () => (await health()).bus === false);
      const late = await h.connect();
      await late.expect("welcome");
      assert.equal(
        await late.fails("session.login", { name: "Cid", password: pw("Cid") }),
        "UNAVAILABLE",
      );
      nats.up();
      await until(async () => (await health()).status === 200);
      await late.ok("session.login", { name: "Cid", password: pw("Cid") });
    } finally {
      await h.close();
      pg.close();
      nats.close();
      await dropSchema(PG_URL, schema);
    }
  },
});

async function until(fn: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > end) throw new Error("not in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}
