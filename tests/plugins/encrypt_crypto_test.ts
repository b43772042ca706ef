import assert from "node:assert/strict";
import {
  decodeSealed,
  exportIdentity,
  generateIdentity,
  type Identity,
  importIdentity,
  isPublicKey,
  keyFingerprint,
  MAX_TEXT_BYTES,
  open,
  safetyNumber,
  seal,
  type StoredIdentity,
} from "../../plugins/encrypt/crypto.ts";
import { fromB64u, toB64u } from "../../protocol/base64url.ts";

const [alice, bob, carol] = await Promise.all([
  generateIdentity(),
  generateIdentity(),
  generateIdentity(),
]);
const parties = {
  sender: "Alice",
  senderKey: alice.publicKey,
  receiver: "Bob",
  receiverKey: bob.publicKey,
};
const as = (id: Identity) => ({ myPrivate: id.privateKey, myKey: id.publicKey });

/** Flips one bit of a base64url field, keeping it canonical base64url of the same length. */
function flip(field: string, byte = 0): string {
  const bytes = fromB64u(field);
  bytes[byte] ^= 1;
  return toB64u(bytes);
}

Deno.test("encrypt crypto - receiver opens, sender reopens its own message", async () => {
  const sealed = await seal({ ...parties, myPrivate: alice.privateKey, text: "hi Bob 👋" });
  assert.equal(await open({ ...parties, ...as(bob), sealed }), "hi Bob 👋");
  assert.equal(await open({ ...parties, ...as(alice), sealed }), "hi Bob 👋");
  // The other direction uses the same shared secret but its own AAD.
  const back = {
    sender: "Bob",
    senderKey: bob.publicKey,
    receiver: "Alice",
    receiverKey: alice.publicKey,
  };
  const reply = await seal({ ...back, myPrivate: bob.privateKey, text: "hi Alice" });
  assert.equal(await open({ ...back, ...as(alice), sealed: reply }), "hi Alice");
});

Deno.test("encrypt crypto - every part of the context is bound", async () => {
  const sealed = await seal({ ...parties, myPrivate: alice.privateKey, text: "secret" });
  const changed: [string, Record<string, unknown>][] = [
    ["sender name", { sender: "Mallory" }],
    ["receiver name", { receiver: "Carol" }],
    // The other end's key is the ECDH peer, so swapping it also changes the secret; swapping
    // my own key (still claimed as mine) isolates the AAD binding.
    ["sender key", { senderKey: carol.publicKey }],
    ["receiver key", { receiverKey: carol.publicKey, myKey: carol.publicKey }],
    ["salt", { sealed: { ...sealed, salt: flip(sealed.salt) } }],
    ["iv", { sealed: { ...sealed, iv: flip(sealed.iv) } }],
    ["ciphertext bit", { sealed: { ...sealed, ct: flip(sealed.ct, 3) } }],
    ["tag bit", { sealed: { ...sealed, ct: flip(sealed.ct, fromB64u(sealed.ct).length - 1) } }],
  ];
  for (const [what, change] of changed) {
    await assert.rejects(
      () => open({ ...parties, ...as(bob), sealed, ...change }),
      /cannot decrypt/,
      what,
    );
  }
  // The unchanged message still opens, so the failures above come from the changes.
  assert.equal(await open({ ...parties, ...as(bob), sealed }), "secret");
});

Deno.test("encrypt crypto - names are bound case-insensitively, like user names", async () => {
  const sealed = await seal({ ...parties, myPrivate: alice.privateKey, text: "x" });
  const relabelled = { ...parties, sender: "ALICE", receiver: "bob" };
  assert.equal(await open({ ...relabelled, ...as(bob), sealed }), "x");
});

Deno.test("encrypt crypto - sender key is bound when the sender reopens", async () => {
  // Reopening my own message with a forged sender key must fail on the AAD alone.
  const sealed = await seal({ ...parties, myPrivate: alice.privateKey, text: "x" });
  const forged = { ...parties, senderKey: carol.publicKey };
  await assert.rejects(
    () => open({ ...forged, myPrivate: alice.privateKey, myKey: carol.publicKey, sealed }),
    /cannot decrypt/,
  );
});

Deno.test("encrypt crypto - a third party or a key that is not mine cannot open", async () => {
  const sealed = await seal({ ...parties, myPrivate: alice.privateKey, text: "x" });
  await assert.rejects(() => open({ ...parties, ...as(carol), sealed }), /neither from nor to/);
  // Carol claiming Bob's public key still lacks Bob's private key.
  const pretend = { myPrivate: carol.privateKey, myKey: bob.publicKey };
  await assert.rejects(() => open({ ...parties, ...pretend, sealed }), /cannot decrypt/);
});

Deno.test("encrypt crypto - same text sealed twice differs in salt, iv, ct", async () => {
  const a = await seal({ ...parties, myPrivate: alice.privateKey, text: "same" });
  const b = await seal({ ...parties, myPrivate: alice.privateKey, text: "same" });
  assert.notEqual(a.salt, b.salt);
  assert.notEqual(a.iv, b.iv);
  assert.notEqual(a.ct, b.ct);
  assert.deepEqual([fromB64u(a.salt).length, fromB64u(a.iv).length], [32, 12]);
  assert.equal(fromB64u(a.ct).length, new TextEncoder().encode("same").length + 16);
});

Deno.test("encrypt crypto - text over the size bound is refused before sealing", async () => {
  const text = "x".repeat(MAX_TEXT_BYTES + 1);
  await assert.rejects(() => seal({ ...parties, myPrivate: alice.privateKey, text }), /exceeds/);
  const atLimit = await seal({ ...parties, myPrivate: alice.privateKey, text: text.slice(1) });
  assert.equal(decodeSealed(atLimit).ct, atLimit.ct);
});

Deno.test("encrypt crypto - decodeSealed accepts real, rejects bad shapes", async () => {
  const good = await seal({ ...parties, myPrivate: alice.privateKey, text: "x" });
  assert.deepEqual(decodeSealed({ ...good, extra: 1 }), good);
  const b64 = (n: number) => toB64u(new Uint8Array(n));
  const bad: [string, unknown][] = [
    ["null", null],
    ["string", "sealed"],
    ["array", [good]],
    ["no version", { ...good, v: undefined }],
    ["version 2", { ...good, v: 2 }],
    ["salt missing", { ...good, salt: undefined }],
    ["salt 31 bytes", { ...good, salt: b64(31) }],
    ["salt 33 bytes", { ...good, salt: b64(33) }],
    ["iv 16 bytes", { ...good, iv: b64(16) }],
    ["iv a number", { ...good, iv: 12 }],
    ["ct shorter than a tag", { ...good, ct: b64(15) }],
    ["ct too long", { ...good, ct: b64(MAX_TEXT_BYTES + 17) }],
    ["ct with padding", { ...good, ct: good.ct + "=" }],
    ["ct in base64 alphabet", { ...good, ct: "+/" + good.ct.slice(2) }],
    ["ct non-canonical", { ...good, ct: b64(16).slice(0, -1) + "B" }],
  ];
  for (const [what, v] of bad) assert.throws(() => decodeSealed(v), /sealed:/, what);
  assert.equal(decodeSealed({ ...good, ct: b64(MAX_TEXT_BYTES + 16) }).v, 1);
});

Deno.test("encrypt crypto - isPublicKey accepts exactly canonical 32-byte base64url", () => {
  const cases: [unknown, boolean][] = [
    [alice.publicKey, true],
    [toB64u(new Uint8Array(32).fill(255)), true],
    [toB64u(new Uint8Array(31)), false],
    [toB64u(new Uint8Array(33)), false],
    [alice.publicKey + "=", false],
    [alice.publicKey.slice(0, -1) + "B", false], // non-canonical final character
    [btoa(String.fromCharCode(...new Uint8Array(32).fill(251))), false], // +, / and padding
    ["", false],
    [42, false],
    [null, false],
    [new Uint8Array(32), false],
  ];
  for (const [v, want] of cases) assert.equal(isPublicKey(v), want, String(v));
});

Deno.test("encrypt crypto - fingerprint format, stability, known answer", async () => {
  const fp = await keyFingerprint(alice.publicKey);
  assert.match(fp, /^[0-9a-f]{4}( [0-9a-f]{4}){7}$/);
  assert.equal(await keyFingerprint(alice.publicKey), fp);
  assert.notEqual(await keyFingerprint(bob.publicKey), fp);
  // Known answer: SHA-256 of 32 zero bytes starts 66687aadf862bd776c8fc18b8e9f8e20.
  assert.equal(
    await keyFingerprint(toB64u(new Uint8Array(32))),
    "6668 7aad f862 bd77 6c8f c18b 8e9f 8e20",
  );
});

Deno.test("encrypt crypto - export/import keeps the identity and the ability to open", async () => {
  const stored = JSON.parse(JSON.stringify(await exportIdentity(bob))) as StoredIdentity;
  assert.deepEqual([stored.v, stored.alg, stored.publicKey], [1, "X25519", bob.publicKey]);
  const again = await importIdentity(stored);
  assert.equal(again.publicKey, bob.publicKey);
  const sealed = await seal({ ...parties, myPrivate: alice.privateKey, text: "kept" });
  assert.equal(await open({ ...parties, ...as(again), sealed }), "kept");
});

Deno.test("encrypt crypto - importIdentity rejects malformed or mismatched", async () => {
  const good = await exportIdentity(alice);
  const jwk = good.privateJwk;
  const bad: [string, unknown, RegExp][] = [
    ["null", null, /not an object/],
    ["version", { ...good, v: 2 }, /version/],
    ["algorithm", { ...good, alg: "P-256" }, /algorithm/],
    ["public key", { ...good, publicKey: "abc" }, /publicKey/],
    ["no jwk", { ...good, privateJwk: undefined }, /privateJwk/],
    ["jwk curve", { ...good, privateJwk: { ...jwk, crv: "Ed25519" } }, /X25519 key/],
    ["jwk without d", { ...good, privateJwk: { ...jwk, d: undefined } }, /\bd\b/],
    ["short d", { ...good, privateJwk: { ...jwk, d: "AAAA" } }, /\bd\b/],
    // Bob's public key with Alice's private key: both fields well-formed, pair inconsistent.
    ["mismatched pair", {
      ...good,
      publicKey: bob.publicKey,
      privateJwk: { ...jwk, x: bob.publicKey },
    }, /does not belong/],
  ];
  for (const [what, v, re] of bad) {
    await assert.rejects(() => importIdentity(v as StoredIdentity), re, what);
  }
  await assert.rejects(() => importIdentity(bad[0][1] as StoredIdentity), /malformed identity/);
});

Deno.test("encrypt crypto - safety number is symmetric and follows the spec", async () => {
  const a = { name: "Alice", publicKey: alice.publicKey };
  const b = { name: "bob", publicKey: bob.publicKey };
  const n = await safetyNumber(a, b);
  assert.match(n, /^\d{5}( \d{5}){5}$/);
  assert.equal(await safetyNumber(b, a), n);
  assert.equal(await safetyNumber({ ...a, name: "ALICE" }, { ...b, name: "Bob" }), n);
  // Recomputed here from the definition: parties sorted by lower-cased name, SHA-256, and
  // each group a big-endian 4-byte word mod 100000.
  const input = `classchat-verify-v1\nalice\n${alice.publicKey}\nbob\n${bob.publicKey}`;
  const hash = new DataView(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(input)),
  );
  const want = [0, 1, 2, 3, 4, 5].map((i) =>
    String(hash.getUint32(i * 4) % 100000).padStart(5, "0")
  );
  assert.equal(n, want.join(" "));
});

Deno.test("encrypt crypto - safety number changes with either key or either name", async () => {
  const a = { name: "Alice", publicKey: alice.publicKey };
  const b = { name: "Bob", publicKey: bob.publicKey };
  const n = await safetyNumber(a, b);
  const others = await Promise.all([
    safetyNumber(a, { ...b, publicKey: carol.publicKey }),
    safetyNumber({ ...a, publicKey: carol.publicKey }, b),
    safetyNumber(a, { ...b, name: "Bobby" }),
    safetyNumber({ ...a, name: "Alicia" }, b),
  ]);
  for (const other of others) assert.notEqual(other, n);
});
