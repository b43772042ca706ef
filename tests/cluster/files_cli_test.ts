/**
 * Files between nodes as people send them: two `classchat serve` processes on one PostgreSQL
 * and NATS, `classchat connect` clients on each typing /sendfile. A file to someone online on
 * the other node arrives live and end-to-end encrypted; a file to someone away is kept and
 * delivered by the node they come back to.
 */
import assert from "node:assert/strict";
import { clusterReady, processCluster } from "../cluster.ts";
import { randomBytes, sha256 } from "../harness.ts";
import { clientConfigDir, spawnClient, spawnServer } from "../process.ts";

Deno.test({
  name: "cluster files cli - /sendfile to someone on the other node, live and kept for later",
  ignore: !clusterReady,
  async fn() {
    const cluster = processCluster();
    const args = cluster.args;
    const [a, b] = await Promise.all([spawnServer(args("a")), spawnServer(args("b"))]);
    const src = await Deno.makeTempDir({ prefix: "classchat-src-" });
    const bobDl = await Deno.makeTempDir({ prefix: "classchat-dl-" });
    const carolDl = await Deno.makeTempDir({ prefix: "classchat-dl-" });
    const clients: Array<ReturnType<typeof spawnClient>> = [];
    try {
      // Carol logs in once (her account and key exist), then is away; she comes back from
      // the same computer (the same key).
      const carolConfig = clientConfigDir();
      const carol = spawnClient("Carol", b, carolConfig, ["--downloads", carolDl]);
      await carol.waitFor(/^\* logged in as Carol/);
      await carol.end();
      const bob = spawnClient("Bob", b, undefined, ["--downloads", bobDl]);
      clients.push(bob);
      await bob.waitFor(/^\* logged in as Bob/);
      const alice = spawnClient("Alice", a);
      clients.push(alice);
      await alice.waitFor(/^\* logged in as Alice/);

      const notes = randomBytes(3_000_000);
      await Deno.writeFile(`${src}/notes.pdf`, notes);
      await alice.type(`/sendfile Bob "${src}/notes.pdf"`);
      await alice.waitFor(/^\* sent notes\.pdf \(.*\) to Bob in .*: verified by Bob$/);
      await bob.waitFor(
        /^\* received notes\.pdf .*: saved to .*notes\.pdf \(SHA-256 verified, end-to-end encrypted\)$/,
      );
      assert.equal(await sha256(await Deno.readFile(`${bobDl}/notes.pdf`)), await sha256(notes));

      const hw = randomBytes(100_000);
      await Deno.writeFile(`${src}/hw.zip`, hw);
      await alice.type(`/sendfile Carol "${src}/hw.zip"`);
      await alice.waitFor(
        /^\* hw\.zip is kept on the server for Carol .*: Carol gets it when they connect$/,
      );
      const carol2 = spawnClient("Carol", b, carolConfig, ["--downloads", carolDl]);
      clients.push(carol2);
      await carol2.waitFor(/^\* received hw\.zip .*: saved to .*hw\.zip/);
      assert.equal(await sha256(await Deno.readFile(`${carolDl}/hw.zip`)), await sha256(hw));
      await alice.waitFor(/^\* Carol got hw\.zip \(SHA-256 verified, end-to-end encrypted\)$/);
    } finally {
      for (const c of clients) await c.end().catch(() => {});
      await a.stop("SIGTERM").catch(() => {});
      await b.stop("SIGTERM").catch(() => {});
      await cluster.drop();
      for (const d of [src, bobDl, carolDl]) await Deno.remove(d, { recursive: true });
    }
  },
});
