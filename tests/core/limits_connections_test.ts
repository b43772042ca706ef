/**
 * Connection limits (issue 7): in total, per client address, and the time a connection may
 * take to log in (slowloris). Each is exceeded here; the server says why, closes, and keeps
 * serving the connections within the limits.
 */
import assert from "node:assert/strict";
import { pw, type TestClient, withServer } from "../harness.ts";
import { addressKey } from "../../core/server/conn.ts";

/** Waits until the server closed this connection (bounded). */
async function closedByServer(c: TestClient, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!c.isClosed) {
    if (Date.now() > deadline) throw new Error("the server did not close the connection");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("limits - connections per address: one more is refused with TOO_MANY_CONNECTIONS; a freed slot is usable again", async () => {
  await withServer(async (h) => {
    const [a, b] = [await h.connect(), await h.connect()];
    for (const c of [a, b]) await c.expect("welcome");
    const c = await h.connect();
    const closing = await c.expect("session.closing");
    assert.equal(closing.code, "TOO_MANY_CONNECTIONS");
    assert.match(String(closing.message), /127\.0\.0\.1 has its maximum of 2 connections/);
    await closedByServer(c);
    assert.equal(c.frames.some((f) => f.type === "welcome"), false);
    // The two within the limit are served as before.
    await a.ok("session.login", { name: "Ann", password: pw("Ann") });
    b.close();
    await new Promise((r) => setTimeout(r, 100)); // the server notices b is gone
    const d = await h.connect();
    await d.expect("welcome");
    await d.ok("session.login", { name: "Dan", password: pw("Dan") });
  }, { limits: { maxConnectionsPerAddress: 2 } });
});

Deno.test("limits - connections in total: past --max-connections a new one is refused", async () => {
  await withServer(async (h) => {
    const ok = [await h.connect(), await h.connect(), await h.connect()];
    for (const c of ok) await c.expect("welcome");
    const extra = await h.connect();
    const closing = await extra.expect("session.closing");
    assert.equal(closing.code, "TOO_MANY_CONNECTIONS");
    assert.match(String(closing.message), /the server has its maximum of 3 connections/);
    await closedByServer(extra);
    await ok[2].ok("session.login", { name: "Cy", password: pw("Cy") });
  }, { limits: { maxConnections: 3 } });
});

Deno.test("limits - a connection that does not log in within --login-timeout is closed with LOGIN_TIMEOUT; one that did stays", async () => {
  await withServer(async (h) => {
    const idle = await h.connect();
    await idle.expect("welcome");
    const [user] = await h.users("Una");
    const closing = await idle.expect("session.closing", () => true, 3000);
    assert.equal(closing.code, "LOGIN_TIMEOUT");
    await closedByServer(idle);
    // Una logged in before the timeout passed and is still served after it.
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual((await user.ok("presence.who")).users, ["Una"]);
  }, { limits: { loginTimeoutMs: 300 } });
});

Deno.test("limits - per-address limits count an IPv4 address, or an IPv6 /64; a mapped IPv4 is IPv4", () => {
  assert.equal(addressKey("203.0.113.7"), "203.0.113.7");
  assert.equal(addressKey("::ffff:203.0.113.7"), "203.0.113.7");
  // Every address of one /64 (one host's, routinely) is one key; the next /64 is another.
  const key = "2001:db8:aa:bb::/64";
  for (const a of ["2001:db8:aa:bb::1", "2001:db8:aa:bb:ffff:1:2:3", "2001:0db8:00aa:00bb::9"]) {
    assert.equal(addressKey(a), key);
  }
  assert.equal(addressKey("2001:db8:aa:bc::1"), "2001:db8:aa:bc::/64");
  assert.equal(addressKey("::1"), "0:0:0:0::/64");
  assert.equal(addressKey("fe80::1%eth0"), "fe80:0:0:0::/64");
});
