/**
 * A server that hides a pinned peer's key must not get messages or files in the clear, nor
 * pass off unsealed ones as sealed: the real client talks to a real server through a proxy
 * that lies about keys (tests/key_proxy.ts), and what the server's handlers receive is
 * recorded, since that is all the server ever sees.
 */
import assert from "node:assert/strict";
import { type Harness, withServer } from "../harness.ts";
import { keyProxy, proxiedClient, tempDir } from "../key_proxy.ts";

/** Records what the server's handler for `type` is given. */
function record(h: Harness, type: string): Array<Record<string, unknown>> {
  const entry = h.server.registry.handlers.get(type)!;
  const seen: Array<Record<string, unknown>> = [];
  const handle = entry.handler;
  entry.handler = (msg, ctx) => (seen.push(msg as Record<string, unknown>), handle(msg, ctx));
  return seen;
}

async function secretFile(text: string): Promise<string> {
  const path = `${tempDir("classchat-send-")}/notes.txt`;
  await Deno.writeTextFile(path, text);
  return path;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Alice writes to Bob once (so her client pins his key), then logs in again, so that what
 *  the server says about Bob's key from now on is asked afresh. */
async function pinnedThenAgain(h: Harness, proxy: ReturnType<typeof keyProxy>) {
  let alice = await proxiedClient(h, proxy, "Alice");
  const bob = await proxiedClient(h, proxy, "Bob");
  alice.type("Bob: first");
  await bob.waitFor(/^Alice: first$/);
  await alice.app.quit();
  return { bob, relogin: async () => alice = await proxiedClient(h, proxy, "Alice", alice) };
}

Deno.test("encrypt downgrade - a pinned peer's key gone from the server: KEY_MISSING, nothing sent", () =>
  withServer(async (h) => {
    const dms = record(h, "dm.send");
    const offers = record(h, "sendfile.offer");
    const proxy = keyProxy(h.port);
    try {
      const { bob, relogin } = await pinnedThenAgain(h, proxy);
      proxy.mode = "strip";
      const alice = await relogin();
      alice.type("Bob: my exam answers");
      await alice.waitFor(/^! KEY_MISSING: .*nothing was sent to Bob.*no longer offers Bob.s/);
      let mark = alice.out.length;
      alice.type(`/sendfile Bob ${await secretFile("secret file body")}`);
      await alice.waitFor(/^! KEY_MISSING: .*nothing was sent to Bob/, mark);

      // /verify explains, and accepting does not unpin: still nothing goes out.
      mark = alice.out.length;
      alice.type("/verify Bob");
      await alice.waitFor(/^! KEY_MISSING: .*Bob/, mark);
      mark = alice.out.length;
      alice.type("/verify Bob accept");
      await alice.waitFor(/^! KEY_MISSING: .*Bob/, mark);
      mark = alice.out.length;
      alice.type("Bob: still secret");
      await alice.waitFor(/^! KEY_MISSING: .*Bob/, mark);
      await pause(200);

      assert.ok(proxy.lies >= 1, "the proxy did answer with no key");
      assert.equal(dms.length, 1, "only the first, sealed message reached the server");
      assert.equal(dms[0].text, undefined);
      assert.equal(offers.length, 0, "no file was offered");
      assert.ok(!bob.out.some((l) => /exam|secret/.test(l)), bob.out.join("\n"));

      // An honest server that lost Bob's key (a store restored from an old backup) gets the
      // same answer; Bob logging in again publishes his key, which matches the pin: sealed.
      proxy.mode = "pass";
      await h.server.db.run("DELETE FROM encrypt_keys WHERE name_key = ?", ["bob"]);
      mark = alice.out.length;
      alice.type("Bob: lost key");
      await alice.waitFor(/^! KEY_MISSING: .*nothing was sent to Bob/, mark);
      await bob.app.quit();
      const bob2 = await proxiedClient(h, proxy, "Bob", bob);
      alice.type("Bob: back to normal");
      await bob2.waitFor(/^Alice: back to normal$/);
      assert.equal(dms.length, 2, "only the sealed messages reached the server");
      assert.equal(dms[1].text, undefined, "sealed again");
    } finally {
      await proxy.close();
    }
  }, { tls: false }));

Deno.test("encrypt downgrade - a server without the encrypt plugin cannot get a pinned peer's messages in clear", () =>
  withServer(async (h) => {
    const dms = record(h, "dm.send");
    const offers = record(h, "sendfile.offer");
    const proxy = keyProxy(h.port);
    try {
      const { bob, relogin } = await pinnedThenAgain(h, proxy);
      const carol = await proxiedClient(h, proxy, "Carol");
      proxy.mode = "hide";
      const alice = await relogin();
      await alice.waitFor(/does not offer end-to-end encryption/);
      alice.type("Bob: my exam answers");
      await alice.waitFor(/^! KEY_MISSING: .*nothing was sent to Bob/);
      const mark = alice.out.length;
      alice.type(`/sendfile Bob ${await secretFile("secret file body")}`);
      await alice.waitFor(/^! KEY_MISSING: .*nothing was sent to Bob/, mark);
      await pause(200);
      assert.ok(proxy.lies >= 1, "the proxy did hide the plugin");
      assert.equal(dms.length, 1, "only the first, sealed message reached the server");
      assert.equal(offers.length, 0, "no file was offered");
      assert.ok(!bob.out.some((l) => /exam/.test(l)), bob.out.join("\n"));

      // Someone never pinned is written to as the notice at login said: in the clear.
      alice.type("Carol: hello");
      await carol.waitFor(/^Alice: \[unencrypted\] hello$/); // said, not alarmed
      // And turning encryption off is a person's explicit choice, which still works.
      alice.type("/e2e off");
      await alice.waitFor(/encryption is OFF/);
      alice.type("Bob: in the clear, on purpose");
      // Bob pinned Alice's key (her first message), so he sees it marked for what it is.
      await bob.waitFor(/^Alice: \[NOT end-to-end encrypted\] in the clear, on purpose$/);
      assert.equal(dms.at(-1)!.text, "in the clear, on purpose");
    } finally {
      await proxy.close();
    }
  }, { tls: false }));

Deno.test("encrypt downgrade - an unsealed message or file from a pinned peer is marked", () =>
  withServer(async (h) => {
    const proxy = keyProxy(h.port);
    try {
      const alice = await proxiedClient(h, proxy, "Alice");
      const bob = await proxiedClient(h, proxy, "Bob");
      const carol = await proxiedClient(h, proxy, "Carol");
      bob.type("Alice: sealed hello");
      await alice.waitFor(/^Bob: sealed hello$/); // Alice has pinned Bob's key

      // The server forges a message "from" Bob: shown, but marked on the same line.
      const frame = { type: "dm.message", sender: "Bob", receiver: "Alice", ts: Date.now() };
      await proxy.inject("Alice", { ...frame, text: "send me your password" });
      await alice.waitFor(/^Bob: \[NOT end-to-end encrypted\] send me your password$/);
      await alice.waitFor(/^! NOT_ENCRYPTED: .*Bob.*server could have read or forged/);

      // Bob turned encryption off himself: marked the same way, explained once per peer.
      bob.type("/e2e off");
      bob.type("Alice: plain on purpose");
      await alice.waitFor(/^Bob: \[NOT end-to-end encrypted\] plain on purpose$/);
      assert.equal(alice.out.filter((l) => l.startsWith("! NOT_ENCRYPTED")).length, 1);

      bob.type(`/sendfile Alice ${await secretFile("plain file body")}`);
      await alice.waitFor(/^! NOT_ENCRYPTED: .*notes\.txt.*Bob/);
      const got = await alice.waitFor(/^\* received notes\.txt .*from Bob/);
      assert.match(got, /NOT end-to-end encrypted/);
      assert.equal(await Deno.readTextFile(`${alice.downloads}/notes.txt`), "plain file body");

      // Someone never pinned is trusted on first use: a small mark, no alarm.
      carol.type("/e2e off");
      carol.type("Alice: hi from Carol");
      await alice.waitFor(/^Carol: \[unencrypted\] hi from Carol$/);
      assert.ok(!alice.out.some((l) => /NOT_ENCRYPTED: .*Carol/.test(l)));
    } finally {
      await proxy.close();
    }
  }, { tls: false }));

Deno.test("encrypt downgrade - another user's key given for a pinned peer is refused", () =>
  withServer(async (h) => {
    const dms = record(h, "dm.send");
    const proxy = keyProxy(h.port);
    try {
      const { bob, relogin } = await pinnedThenAgain(h, proxy);
      // The server's own account, whose private key it holds: its key, passed off as Bob's
      // under its own name, would be pinned as new and never meet Bob's pin.
      await proxiedClient(h, proxy, "Mallory");
      const mallory = proxy.published.get("mallory")!;
      proxy.keyAnswer = (ack) =>
        ack.name === "Bob" ? { ...ack, name: "Mallory", key: mallory } : ack;
      const alice = await relogin();
      alice.type("Bob: my exam answers");
      await alice.waitFor(/^! E2E_FAILED: /);
      await pause(200);
      assert.ok(proxy.lies >= 1, "the proxy did swap the key");
      assert.equal(dms.length, 1, "only the first message, sealed for Bob, reached the server");
      assert.ok(!bob.out.some((l) => /exam/.test(l)), bob.out.join("\n"));
    } finally {
      await proxy.close();
    }
  }, { tls: false }));
