/**
 * A direct message sealed "from" a pinned peer with a key other than the pinned one could have
 * been sealed by the server itself (with a key pair of its own, to the receiver's real key):
 * every such line is marked, not just the first, in /history too, until the person compares
 * safety numbers and accepts the key (/verify <user> accept). The forger is a proxy in front of
 * a real server (tests/key_proxy.ts) pushing frames sealed by the test's own key pair.
 */
import assert from "node:assert/strict";
import { withServer } from "../harness.ts";
import { appClient } from "../app.ts";
import { keyProxy, proxiedClient } from "../key_proxy.ts";
import { generateIdentity, type Identity, seal } from "../../plugins/encrypt/crypto.ts";

/** A dm.message "from" `sender` to `receiver`, sealed with `forger`'s key pair to the
 *  receiver's real key: all a server needs to write one. */
async function forged(
  forger: Identity,
  sender: string,
  receiver: string,
  to: string,
  text: string,
) {
  const parties = { sender, senderKey: forger.publicKey, receiver, receiverKey: to };
  const sealed = await seal({ ...parties, myPrivate: forger.privateKey, text });
  const body = { ...sealed, from: forger.publicKey, to };
  return { type: "dm.message", sender, receiver, sealed: body, ts: Date.now() };
}

const explained = (out: string[]) => out.filter((l) => /^! KEY_CHANGED: .*Bob/.test(l)).length;

Deno.test("encrypt unverified - each DM the server seals 'from' a pinned peer with its own key is marked", () =>
  withServer(async (h) => {
    const proxy = keyProxy(h.port);
    try {
      const alice = await proxiedClient(h, proxy, "Alice");
      const bob = await proxiedClient(h, proxy, "Bob");
      bob.type("Alice: sealed hello");
      await alice.waitFor(/^Bob: sealed hello$/); // Alice has pinned Bob's key

      const server = await generateIdentity();
      const aliceKey = proxy.published.get("alice")!;
      const forge = (text: string) => forged(server, "Bob", "Alice", aliceKey, text);
      await proxy.inject("Alice", await forge("send me your password"));
      await proxy.inject("Alice", await forge("really, right now"));
      await alice.waitFor(/^Bob: \[UNVERIFIED KEY\] send me your password$/);
      await alice.waitFor(/^Bob: \[UNVERIFIED KEY\] really, right now$/);
      await alice.waitFor(/^! KEY_CHANGED: .*Bob.*\[UNVERIFIED KEY\]/);
      assert.ok(!alice.out.some((l) => /^Bob: (send me|really)/.test(l)), alice.out.join("\n"));
      assert.equal(explained(alice.out), 1, "explained once, each line marked");

      // Bob himself, with the pinned key, is shown as ever.
      bob.type("Alice: the real me");
      await alice.waitFor(/^Bob: the real me$/);

      // Accepting the key the server offers for Bob (his real one, compared in person) does
      // not pass the forger's key: its lines stay marked.
      alice.type("/verify Bob accept");
      await alice.waitFor(/^\* Bob's key is trusted from now on$/);
      const mark = alice.out.length;
      await proxy.inject("Alice", await forge("one more time"));
      await alice.waitFor(/^Bob: \[UNVERIFIED KEY\] one more time$/, mark);
      await alice.waitFor(/^! KEY_CHANGED: .*Bob/, mark); // told again after the accept
    } finally {
      await proxy.close();
    }
  }, { tls: false }));

Deno.test("encrypt unverified - a new computer's DMs are marked, in /history too, until /verify accept", () =>
  withServer(async (h) => {
    const alice = await appClient(h, "Alice");
    const bob = await appClient(h, "Bob");
    bob.type("Alice: old laptop");
    await alice.waitFor(/^Bob: old laptop$/); // Alice has pinned Bob's key
    await bob.app.quit();

    // Bob on a new computer: a new key, which the server offers for him from now on.
    const bob2 = await appClient(h, "Bob");
    await alice.waitFor(/^! KEY_CHANGED: Bob has a new encryption key/);
    bob2.type("Alice: new laptop");
    bob2.type("Alice: still the new laptop");
    await alice.waitFor(/^Bob: \[UNVERIFIED KEY\] new laptop$/);
    await alice.waitFor(/^Bob: \[UNVERIFIED KEY\] still the new laptop$/);
    assert.ok(!alice.out.some((l) => /^Bob: (new|still)/.test(l)), alice.out.join("\n"));

    // History replays go through the same check: no unmarked copy of what was marked.
    let mark = alice.out.length;
    alice.type("/history Bob");
    await alice.waitFor(/end of history with Bob \(3 messages/, mark);
    const replayed = (from: number) =>
      alice.out.slice(from).filter((l) => /^\[.*?\] Bob: /.test(l)).map((l) =>
        l.replace(/^\[.*?\] /, "")
      );
    assert.deepEqual(replayed(mark), [
      "Bob: old laptop",
      "Bob: [UNVERIFIED KEY] new laptop",
      "Bob: [UNVERIFIED KEY] still the new laptop",
    ]);

    alice.type("/verify Bob accept");
    await alice.waitFor(/^\* Bob's key is trusted from now on$/);
    bob2.type("Alice: after the accept");
    await alice.waitFor(/^Bob: after the accept$/);

    // Now the new key is the pinned one. History is judged by today's pin: what the old key
    // sealed is marked now, since nothing tells a stolen old key from a retired one.
    mark = alice.out.length;
    alice.type("/history Bob");
    await alice.waitFor(/end of history with Bob \(4 messages/, mark);
    assert.deepEqual(replayed(mark), [
      "Bob: [UNVERIFIED KEY] old laptop",
      "Bob: new laptop",
      "Bob: still the new laptop",
      "Bob: after the accept",
    ]);
  }));
