/**
 * Connection limits (issue 7): in total, per client address, and the time a connection may
 * take to log in (slowloris). Each is exceeded here; the server says why, closes, and keeps
 * serving the connections within the limits.
 */
import assert from "node:assert/strict";
import { pw, TestClient, withServer } from "../harness.ts";
import { REFUSING_AT_ONCE } from "../../core/guard.ts";

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

/** Polls until check() holds (bounded). */
async function until(check: () => boolean, what: string, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("limits - TLS peers that never handshake keep their slots until their sockets close, and a flood of them stops at the accept bound", async () => {
  await withServer(async (h) => {
    const dial = () => Deno.connect({ hostname: "127.0.0.1", port: h.port });
    const silent = [await dial(), await dial()];
    await new Promise((r) => setTimeout(r, 600)); // past --login-timeout
    // Deno cannot free a socket mid-handshake, so both still count: the server is full.
    const late = await TestClient.connect(h.port, { caCert: h.caCert });
    assert.equal((await late.expect("session.closing")).code, "TOO_MANY_CONNECTIONS");
    late.close();
    // A flood: accepted up to the bound, the rest wait in the kernel's backlog.
    const flood = await Promise.all(Array.from({ length: REFUSING_AT_ONCE + 20 }, dial));
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(h.server.guard.open <= 2 + REFUSING_AT_ONCE, `${h.server.guard.open} sockets`);
    // Once the peers hang up, every place is free again and the server serves.
    for (const c of [...silent, ...flood]) c.close();
    await until(() => h.server.guard.open === 0, "every socket closed");
    const ok = await TestClient.connect(h.port, { caCert: h.caCert });
    await ok.ok("session.login", { name: "Ola", password: pw("Ola") });
    ok.close();
  }, { limits: { maxConnections: 2, loginTimeoutMs: 300 } });
});
