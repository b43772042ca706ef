import assert from "node:assert/strict";
import { generateIdentity, open, seal } from "../../plugins/encrypt/crypto.ts";
import { loadOrCreateIdentity, PeerKeys, serverDirName } from "../../plugins/encrypt/keystore.ts";

const SERVER = "127.0.0.1:5757";
const isWindows = Deno.build.os === "windows";

/** Runs `fn` with a fresh temporary directory as the client's config directory. */
async function withConfigDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "classchat-e2e-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("encrypt keystore - server keys become safe directory names", () => {
  assert.equal(serverDirName("127.0.0.1:5757"), "127.0.0.1_5757");
  assert.equal(serverDirName("[::1]:5757"), "___1__5757");
  assert.equal(serverDirName("my_host-2.lan:80"), "my_host-2.lan_80"); // kept as they are
  assert.equal(serverDirName("../../etc"), ".._.._etc");
  for (const bad of ["", ".", ".."]) assert.throws(() => serverDirName(bad), /server key/);
});

Deno.test("encrypt keystore - identity is created once, private, and reused", () =>
  withConfigDir(async (dir) => {
    const first = await loadOrCreateIdentity(dir, SERVER, "Alice");
    assert.equal(first.created, true);
    const path = `${dir}/e2e/127.0.0.1_5757/alice.identity.json`;
    if (!isWindows) {
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(`${dir}/e2e/127.0.0.1_5757`)).mode! & 0o777, 0o700);
    }
    assert.deepEqual([...Deno.readDirSync(`${dir}/e2e/127.0.0.1_5757`)].map((e) => e.name), [
      "alice.identity.json",
    ]);

    const second = await loadOrCreateIdentity(dir, SERVER, "ALICE");
    assert.equal(second.created, false);
    assert.equal(second.identity.publicKey, first.identity.publicKey);
    // The reloaded private key is the same key: it opens what was sealed to the first one.
    const bob = await generateIdentity();
    const parties = {
      sender: "Bob",
      senderKey: bob.publicKey,
      receiver: "Alice",
      receiverKey: first.identity.publicKey,
    };
    const sealed = await seal({ ...parties, myPrivate: bob.privateKey, text: "still me" });
    const me = { myPrivate: second.identity.privateKey, myKey: second.identity.publicKey };
    assert.equal(await open({ ...parties, ...me, sealed }), "still me");

    const other = await loadOrCreateIdentity(dir, "other:1", "Alice");
    assert.equal(other.created, true);
    assert.notEqual(other.identity.publicKey, first.identity.publicKey);
  }));

Deno.test("encrypt keystore - clients starting together end up with one identity", () =>
  withConfigDir(async (dir) => {
    const all = await Promise.all(
      [1, 2, 3, 4].map(() => loadOrCreateIdentity(dir, SERVER, "Alice")),
    );
    assert.equal(new Set(all.map((r) => r.identity.publicKey)).size, 1);
    assert.equal(all.filter((r) => r.created).length, 1);
  }));

Deno.test("encrypt keystore - a damaged identity file is an error, not replaced", () =>
  withConfigDir(async (dir) => {
    const path = `${dir}/e2e/127.0.0.1_5757/alice.identity.json`;
    await loadOrCreateIdentity(dir, SERVER, "Alice");
    const stored = JSON.parse(await Deno.readTextFile(path));
    for (const text of ["{not json", JSON.stringify({ ...stored, v: 9 })]) {
      await Deno.writeTextFile(path, text);
      await assert.rejects(
        () => loadOrCreateIdentity(dir, SERVER, "Alice"),
        /alice\.identity\.json/,
      );
      assert.equal(await Deno.readTextFile(path), text);
    }
    await assert.rejects(() => loadOrCreateIdentity(dir, SERVER, "../x"), /invalid user name/);
  }));

Deno.test("encrypt keystore - peers: new, pinned, same, changed, verified, and persisted", () =>
  withConfigDir(async (dir) => {
    const [k1, k2] = await Promise.all([generateIdentity(), generateIdentity()]);
    const peers = await PeerKeys.load(dir, SERVER, "Alice");
    assert.equal(peers.check("Bob", k1.publicKey), "new");
    assert.equal(peers.get("Bob"), undefined);

    const before = Date.now();
    await peers.pin("Bob", k1.publicKey);
    assert.equal(peers.check("bob", k1.publicKey), "same");
    assert.equal(peers.check("BOB", k2.publicKey), "changed");
    const pinned = peers.get("Bob")!;
    assert.deepEqual([pinned.publicKey, pinned.verified], [k1.publicKey, false]);
    assert.ok(
      Date.parse(pinned.firstSeen) >= before - 1000 && Date.parse(pinned.firstSeen) <= Date.now(),
    );

    await assert.rejects(() => peers.markVerified("Bob", k2.publicKey), /not the one/);
    await peers.markVerified("Bob", k1.publicKey);
    await assert.rejects(() => peers.markVerified("Carol"), /no pinned key/);

    const path = `${dir}/e2e/127.0.0.1_5757/alice.peers.json`;
    if (!isWindows) assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const reloaded = await PeerKeys.load(dir, SERVER, "ALICE");
    assert.deepEqual(reloaded.get("bob"), { ...pinned, verified: true });
    assert.equal(reloaded.check("Bob", k2.publicKey), "changed");

    // Re-pinning the same key keeps verification; pinning a new key resets it.
    await reloaded.pin("Bob", k1.publicKey);
    assert.equal(reloaded.get("Bob")!.verified, true);
    await reloaded.pin("Bob", k2.publicKey);
    const third = await PeerKeys.load(dir, SERVER, "Alice");
    assert.deepEqual([third.get("Bob")!.publicKey, third.get("Bob")!.verified], [
      k2.publicKey,
      false,
    ]);
    assert.equal(third.check("Bob", k2.publicKey), "same");
  }));

Deno.test("encrypt keystore - peers are kept per account and overlapping pins all persist", () =>
  withConfigDir(async (dir) => {
    // Many pins at once: unordered writes would often leave an older snapshot on disk last.
    const names = Array.from({ length: 20 }, (_, i) => `Peer${i}`);
    const keys = (await Promise.all(names.map(() => generateIdentity()))).map((k) => k.publicKey);
    for (let round = 0; round < 3; round++) {
      const alice = await PeerKeys.load(dir, SERVER, "Alice");
      await Promise.all(names.map((n, i) => alice.pin(n, keys[(i + round) % keys.length])));
      const again = await PeerKeys.load(dir, SERVER, "Alice");
      const want = names.map((_, i) => keys[(i + round) % keys.length]);
      assert.deepEqual(names.map((n) => again.get(n)?.publicKey), want, `round ${round}`);
    }
    assert.equal((await PeerKeys.load(dir, SERVER, "Bob")).get("Peer1"), undefined);
  }));

Deno.test("encrypt keystore - a damaged peers file is an error, not an empty list", () =>
  withConfigDir(async (dir) => {
    const path = `${dir}/e2e/127.0.0.1_5757/alice.peers.json`;
    await Deno.mkdir(`${dir}/e2e/127.0.0.1_5757`, { recursive: true });
    const k = (await generateIdentity()).publicKey;
    const entry = { publicKey: k, firstSeen: new Date().toISOString(), verified: false };
    const bad = [
      "[]",
      "{oops",
      JSON.stringify({ bob: { ...entry, publicKey: "x" } }),
      JSON.stringify({ Bob: entry }),
    ];
    for (const text of bad) {
      await Deno.writeTextFile(path, text);
      await assert.rejects(() => PeerKeys.load(dir, SERVER, "Alice"), /alice\.peers\.json/, text);
    }
    await Deno.writeTextFile(path, JSON.stringify({ bob: entry }));
    assert.equal((await PeerKeys.load(dir, SERVER, "Alice")).check("Bob", k), "same");
  }));
