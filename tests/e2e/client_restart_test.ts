/**
 * The client against a real server that goes away: restarted with SIGTERM, run without the
 * encrypt plugin, or back with a new key. Each gives a clear message and either a reconnect or
 * a clean stop, never a stack trace (real `classchat connect` processes in pipe mode).
 */
import assert from "node:assert/strict";
import { spawnServer } from "../process.ts";
import { assertNoCrash, client, endsClean, killLeftovers } from "./fake_server.ts";

Deno.test("client robustness - a server restarted with SIGTERM: both clients reconnect by themselves and chat on", async () => {
  let server = await spawnServer();
  try {
    const alice = client("Alice", server);
    const bob = client("Bob", server);
    await alice.waitFor(/^\* logged in as Alice/);
    await bob.waitFor(/^\* logged in as Bob/);
    assert.equal(await server.stop("SIGTERM", true), 0);
    for (const c of [alice, bob]) {
      await c.waitFor(/^! SERVER_SHUTDOWN: /);
      await c.waitFor(/^\* reconnecting in /);
    }
    server = await spawnServer(["--port", String(server.port)], server.data);
    await alice.waitFor(/^\* reconnected as Alice$/, 20_000);
    await bob.waitFor(/^\* reconnected as Bob$/, 20_000);
    await bob.type("Alice: after the restart");
    await alice.waitFor(/^Bob: after the restart$/);
    await alice.type("Bob: got it");
    await bob.waitFor(/^Alice: got it$/);
    for (const c of [alice, bob]) {
      await endsClean(c);
    }
  } finally {
    await killLeftovers();
    await server.stop();
  }
});

Deno.test("client robustness - a server run with --disable encrypt: clients log in and chat, told it is unencrypted", async () => {
  const server = await spawnServer(["--disable", "encrypt"]);
  try {
    const alice = client("Alice", server);
    const bob = client("Bob", server);
    for (const c of [alice, bob]) {
      await c.waitFor(/^\* this server does not offer end-to-end encryption/);
      await c.waitFor(/^\* logged in as /);
    }
    await alice.type("Bob: hello without a key");
    await bob.waitFor(/^Alice: hello without a key$/);
    for (const c of [alice, bob]) {
      await endsClean(c);
    }
  } finally {
    await killLeftovers();
    await server.stop();
  }
});

Deno.test("client robustness - a server whose key changed during a reconnect: the warning is shown line by line, and the client stops", async () => {
  let server = await spawnServer();
  try {
    const alice = client("Alice", server);
    await alice.waitFor(/^\* logged in as Alice/);
    assert.equal(await server.stop("SIGTERM", true), 0);
    await alice.waitFor(/^\* reconnecting in /);
    // The same port, a new data directory: a new certificate.
    server = await spawnServer(["--port", String(server.port)]);
    await alice.waitFor(/^! CERT_CHANGED: @+$/, 20_000);
    await alice.waitFor(/^IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!$/);
    await alice.waitFor(/^ {2}server now shows: {4}[0-9a-f:]+$/i);
    const r = await alice.end();
    assert.notEqual(r.code, 0, "the session ended as lost");
    assert.ok(
      !r.stdout.includes("\uFFFD"),
      `a newline was shown as a control character:\n${r.stdout}`,
    );
    assertNoCrash(r.stdout, "stdout");
    assertNoCrash(r.stderr, "stderr");
  } finally {
    await killLeftovers();
    await server.stop();
  }
});
