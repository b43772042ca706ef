/**
 * Sends that survive a dropped connection (issue 17): the real client (every plugin) sends
 * through a proxy that cuts its connection at random points, also after the server committed
 * a message and before its ack reached the client. Every send is confirmed once, the receiver
 * sees every message once and in order; the client is back within about a second of the
 * server, and at once when the person types. Seeded: RECONNECT_SEED=<n> repeats a run.
 */
import assert from "node:assert/strict";
import { type AppClient, appClient } from "../app.ts";
import { type Cut, type CutProxy, cutProxy } from "../cut_proxy.ts";
import { type Harness, startServer, withServer } from "../harness.ts";
import { clientConfigDir } from "../process.ts";
import { CLIENT_UNSENT_LIMIT } from "../../core/client/sends.ts";
import { PLUGINS } from "../../plugins/mod.ts";

const SENDS = 200;
/** Connections cut, one after another; the ones after are left alone. */
const CUTS = 12;

/** mulberry32: a small seeded generator, so a failing run can be repeated. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client of the plain-TCP harness server dialling `port` (the proxy's, or the server's). */
function client(h: Harness, name: string, port: number): Promise<AppClient> {
  return appClient(h, name, clientConfigDir(), {
    dial: () => Deno.connect({ hostname: "127.0.0.1", port }),
    reconnect: true,
  });
}

/** Waits until `out` has n lines matching re (and fails with the seed if it never does). */
async function count(c: AppClient, re: RegExp, n: number, why: string, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (c.out.filter((l) => re.test(l)).length < n) {
    if (Date.now() > deadline) {
      const got = c.out.filter((l) => re.test(l)).length;
      const last = c.out.filter((l) => !re.test(l) && !l.startsWith("* not connected")).slice(-30)
        .join("\n");
      throw new Error(`${why}: ${got} of ${n} lines ${re}; other lines end with:\n${last}`);
    }
    await sleep(20);
  }
}

/** A plain-TCP harness server, and a proxy to it that cuts nothing unless told (its `down`
 *  refuses new connections, `drop` cuts the open ones); the proxy is always closed. */
function withProxy(fn: (h: Harness, proxy: CutProxy) => Promise<void>) {
  return withServer(async (h) => {
    const proxy = cutProxy(h.port, () => undefined);
    try {
      await fn(h, proxy);
    } finally {
      await proxy.close();
    }
  }, { tls: false });
}

/** Takes c offline: the proxy refuses it and cuts its connection; waits until it says so. */
async function offline(proxy: CutProxy, c: AppClient) {
  proxy.down = true;
  proxy.drop();
  await c.waitFor(/^\* reconnecting in /);
}

Deno.test("reconnect sends - 200 sends through a connection cut at random points: each confirmed once, each received once, in order", async () => {
  const seed = Number(Deno.env.get("RECONNECT_SEED") ?? Math.floor(Math.random() * 2 ** 31));
  const why = `RECONNECT_SEED=${seed}`;
  const rand = random(seed);
  const kinds: Cut["at"][] = ["before-ack", "mid-send", "after-ack"];
  await withServer(async (h) => {
    // Connection 0 logs in; connections 1 to CUTS are each cut after a few sends.
    const proxy = cutProxy(
      h.port,
      (n) =>
        n === 0 || n > CUTS ? undefined : { at: kinds[n % 3], after: 1 + Math.floor(rand() * 12) },
    );
    try {
      const bob = await client(h, "Bob", h.port);
      const alice = await client(h, "Alice", proxy.port);
      proxy.drop(); // from here on, every connection of Alice's is cut (see the plan)
      const texts = Array.from({ length: SENDS }, (_, i) => `m${String(i + 1).padStart(3, "0")}`);
      for (const t of texts) {
        alice.type(`Bob: ${t}`);
        await sleep(rand() * 12);
      }
      await count(alice, /^-> Bob: m\d{3}$/, SENDS, why);
      await count(bob, /^Alice: m\d{3}$/, SENDS, why);
      await sleep(300); // nothing more comes, such as a late duplicate
      const confirmed = alice.out.filter((l) => /^-> Bob: m\d{3}$/.test(l));
      assert.deepEqual(confirmed, texts.map((t) => `-> Bob: ${t}`), `${why}: confirmations`);
      const received = bob.out.filter((l) => /^Alice: /.test(l));
      assert.deepEqual(received, texts.map((t) => `Alice: ${t}`), `${why}: received`);
      // Nothing was refused or reported unconfirmed: the only errors are the drops.
      const errors = alice.out.filter((l) => l.startsWith("! ") && !l.startsWith("! DISCONNECTED"));
      assert.deepEqual(errors, [], why);
      // The cuts happened, of every kind, including between a commit and its ack.
      for (const at of kinds) {
        assert.ok(proxy.cuts.some((c) => c.at === at), `${why}: no ${at} cut in ${proxy.cuts}`);
      }
      assert.ok(proxy.cuts.length >= CUTS / 2, `${why}: only ${proxy.cuts.length} cuts`);
      await alice.app.quit();
      await bob.app.quit();
    } finally {
      await proxy.close();
    }
  }, { tls: false });
});

Deno.test("reconnect sends - a server restart: the client tries every second, is back within a second of the server, and sends what was typed meanwhile", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "classchat-restart-" });
  // Without encrypt: both clients reconnect here, and in-process clients share one config
  // directory (tests/app.ts), which a reconnect reads again for its keys.
  const plugins = PLUGINS.filter((p) => p.name !== "encrypt");
  let h = await startServer({ dataDir, plugins, tls: false });
  const port = h.port;
  // Alice dials through a proxy that only counts her tries; Bob dials the server.
  const proxy = cutProxy(port, () => undefined);
  const tries: number[] = [];
  proxy.onAccept = () => tries.push(performance.now());
  try {
    const bob = await client(h, "Bob", port);
    const alice = await client(h, "Alice", proxy.port);
    await h.close();
    await alice.waitFor(/^! SERVER_SHUTDOWN: /);
    await alice.waitFor(/^\* reconnecting in /);
    alice.type("Bob: typed while the server was down");
    assert.match(
      await alice.waitFor(/^\* not connected: /),
      /^\* not connected: queued, sent when reconnected \((next try in [\d.]+ s|reconnecting now)\)$/,
    );
    // An outage of 4 s: the client once waited 0.5, 1, 2, then 4 s between tries.
    const down = performance.now();
    await sleep(4000);
    const gaps = tries.filter((t) => t > down).map((t, i, a) => t - (i ? a[i - 1] : down));
    assert.ok(gaps.length >= 4, `${gaps.length} tries in 4 s`);
    assert.ok(Math.max(...gaps) < 1300, `a wait of ${Math.round(Math.max(...gaps))} ms`);
    h = await startServer({ dataDir, port, plugins, tls: false });
    const back = performance.now();
    await alice.waitFor(/^\* reconnected as Alice$/);
    const took = performance.now() - back;
    assert.ok(took < 2000, `the client was back ${Math.round(took)} ms after the server`);
    await bob.waitFor(/^\* reconnected as Bob$/);
    await alice.waitFor(/^-> Bob: typed while the server was down$/);
    await bob.waitFor(/Alice: .*typed while the server was down$/);
    await sleep(200);
    assert.equal(bob.out.filter((l) => l.endsWith("typed while the server was down")).length, 1);
    assert.equal(alice.out.filter((l) => l.endsWith("typed while the server was down")).length, 1);
    await alice.app.quit();
    await bob.app.quit();
  } finally {
    await proxy.close();
    await h.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("reconnect sends - typing while offline tries to reconnect at once", () =>
  withProxy(async (h, proxy) => {
    const alice = await client(h, "Alice", proxy.port);
    proxy.down = true;
    const refused = () => new Promise<number>((r) => (proxy.onAccept = () => r(performance.now())));
    const first = refused();
    proxy.drop();
    await first;
    // Just after a failed try the next is half a second to a second away, unless the
    // person types: then it comes at once.
    await refused();
    await sleep(50);
    proxy.down = false;
    const next = refused();
    const typed = performance.now();
    alice.type("/who");
    const took = (await next) - typed;
    assert.ok(took < 250, `the next try came ${Math.round(took)} ms after typing`);
    await alice.waitFor(/^\* reconnected as Alice$/);
    await alice.app.quit();
  }));

Deno.test("reconnect sends - past CLIENT_UNSENT_LIMIT messages waiting, one more is refused; the others are sent once back", () =>
  withProxy(async (h, proxy) => {
    const bob = await client(h, "Bob", h.port);
    const alice = await client(h, "Alice", proxy.port);
    await offline(proxy, alice);
    const texts = Array.from({ length: CLIENT_UNSENT_LIMIT + 1 }, (_, i) => `q${i + 1}`);
    for (const t of texts) alice.type(`Bob: ${t}`);
    assert.equal(
      await alice.waitFor(/^! CLIENT: /),
      `! CLIENT: ${CLIENT_UNSENT_LIMIT} messages are waiting to be sent already; not sent`,
    );
    proxy.down = false;
    await count(alice, /^-> Bob: q\d+$/, CLIENT_UNSENT_LIMIT, "confirmed");
    await count(bob, /^Alice: q\d+$/, CLIENT_UNSENT_LIMIT, "received");
    const received = bob.out.filter((l) => /^Alice: q\d+$/.test(l));
    assert.deepEqual(received, texts.slice(0, -1).map((t) => `Alice: ${t}`));
    assert.equal(alice.out.filter((l) => l.startsWith("! CLIENT")).length, 1);
    await alice.app.quit();
    await bob.app.quit();
  }));

Deno.test("reconnect sends - a paste of more than CLIENT_UNSENT_LIMIT lines: no more go unanswered at once, and none is refused", () =>
  withServer(async (h) => {
    const proxy = cutProxy(h.port, () => undefined);
    try {
      const bob = await client(h, "Bob", h.port);
      const alice = await client(h, "Alice", proxy.port);
      alice.type("Bob: first"); // so that Alice has Bob's key before the pause
      await alice.waitFor(/^-> Bob: first$/);
      const before = proxy.relayed;
      proxy.pause();
      const texts = Array.from({ length: CLIENT_UNSENT_LIMIT + 44 }, (_, i) => `p${i + 1}`);
      for (const t of texts) alice.type(`Bob: ${t}`);
      const deadline = Date.now() + 5000;
      const sent = () => proxy.relayed - before;
      while (sent() < CLIENT_UNSENT_LIMIT && Date.now() < deadline) await sleep(20);
      await sleep(300);
      assert.equal(sent(), CLIENT_UNSENT_LIMIT, "sent while none was answered");
      proxy.resume();
      await count(alice, /^-> Bob: p\d+$/, texts.length, "confirmed");
      await count(bob, /^Alice: p\d+$/, texts.length, "received");
      assert.deepEqual(
        bob.out.filter((l) => /^Alice: p\d+$/.test(l)),
        texts.map((t) => `Alice: ${t}`),
      );
      assert.deepEqual(alice.out.filter((l) => l.startsWith("! ")), []);
      await alice.app.quit();
      await bob.app.quit();
    } finally {
      proxy.resume();
      await proxy.close();
    }
  }, { tls: false }));

Deno.test("reconnect sends - /quit with messages typed offline warns once; a second /quit leaves and says none was sent", () =>
  withProxy(async (h, proxy) => {
    const alice = await client(h, "Alice", proxy.port);
    await offline(proxy, alice);
    alice.type("Bob: are you there");
    await alice.waitFor(/^\* not connected: queued/);
    alice.type("/quit");
    const warned = await alice.waitFor(/^! NOT_SENT: /);
    assert.match(warned, /1 message not confirmed .*\/quit again/);
    await sleep(100);
    assert.equal(
      await Promise.race([alice.app.ended, sleep(50).then(() => "running")]),
      "running",
    );
    const from = alice.out.length;
    alice.type("/quit");
    assert.equal(await alice.app.ended, "quit");
    assert.match(await alice.waitFor(/^! NOT_SENT: /, from), /1 message never confirmed/);
  }));

Deno.test("reconnect sends - a message typed just before /quit is sent and confirmed before the client leaves", () =>
  withServer(async (h) => {
    const bob = await client(h, "Bob", h.port);
    const alice = await client(h, "Alice", h.port);
    alice.type("Bob: first");
    await alice.waitFor(/^-> Bob: first$/);
    alice.type("Bob: second"); // still being sealed when the quit comes
    alice.type("/quit");
    assert.equal(await alice.app.ended, "quit");
    assert.ok(alice.out.includes("-> Bob: second"), alice.out.join("\n"));
    assert.ok(!alice.out.some((l) => l.startsWith("! ")), alice.out.join("\n"));
    await bob.waitFor(/^Alice: second$/);
    await bob.app.quit();
  }, { tls: false }));

Deno.test("reconnect sends - a command other than a message typed offline fails at once, not later", () =>
  withProxy(async (h, proxy) => {
    const alice = await client(h, "Alice", proxy.port);
    await offline(proxy, alice);
    alice.type("Bob: queued");
    await alice.waitFor(/^\* not connected: queued/);
    const from = alice.out.length;
    alice.type("/create lab");
    assert.match(await alice.waitFor(/^! /, from), /^! CLIENT: not connected to the server/);
    proxy.down = false;
    await alice.waitFor(/^\* reconnected as Alice$/);
    alice.type("/rooms");
    await alice.waitFor(/^\* /, alice.out.length);
    await sleep(300);
    assert.ok(!alice.out.some((l) => /created #lab/.test(l)), "the /create never ran");
    await alice.app.quit();
  }));
