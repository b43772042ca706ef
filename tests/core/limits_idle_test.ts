/**
 * Keepalive and wrong-protocol connections (issue 7): a protocol client silent for half of
 * --idle-timeout is pinged and one silent for all of it is closed with IDLE_TIMEOUT; a TLS
 * handshake on the plain port and plain text on the TLS port are closed at once. The server
 * serves everyone else throughout.
 */
import assert from "node:assert/strict";
import { pw, startServer, TestClient, withServer } from "../harness.ts";
import type { ServerSession } from "../../core/server/session.ts";

// Long enough that a loaded machine's timer delays (Watcher talks every quarter of it) never
// look like silence.
const IDLE_MS = 1200;

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

Deno.test("idle - a silent client is pinged after half of --idle-timeout and closed with IDLE_TIMEOUT after all of it; one that answers stays; an nc session is on its own, longer clock", () =>
  withServer(async (h) => {
    // Silent's last frame is sent after t0, so the server may close it no earlier than t0 + IDLE_MS.
    const t0 = performance.now();
    const [live, silent, watcher] = await h.users("Live", "Silent", "Watcher");
    // A conversation, so that Watcher is told when Silent leaves.
    await watcher.ok("dm.send", { receiver: "Silent", text: "are you there?" });
    const silentClosed = (async () => {
      const either = (f: { type: string }) =>
        f.type === "session.ping" || f.type === "session.closing";
      const first = await silent.expect(either, undefined, 4 * IDLE_MS);
      const f = await silent.expect("session.closing", undefined, 4 * IDLE_MS);
      return { first, f, at: performance.now() };
    })();
    const nc = await h.connect();
    await nc.expect("welcome");
    await nc.sendRaw("server:help\n");
    await nc.expectLine(/^commands:$/);
    // Live answers each ping, as the real client does; Watcher keeps talking, so it is never
    // pinged at all.
    let pings = 0;
    const answering = (async () => {
      while (!live.isClosed) {
        const ping = await live.expect("session.ping", () => true, 3 * IDLE_MS).catch(() => null);
        if (!ping) break;
        assert.equal(ping.id, undefined, "a server ping asks for no ack");
        pings++;
        await live.send("session.ping");
      }
    })();
    for (let i = 0; i < 12; i++) {
      await watcher.ok("session.ping");
      await sleep(IDLE_MS / 4);
    }
    // Silent was pinged once, did not answer, and was closed after the whole timeout.
    const closing = await silentClosed;
    assert.equal(closing.f.code, "IDLE_TIMEOUT");
    assert.ok(closing.at - t0 >= IDLE_MS, `closed ${closing.at - t0} ms after login`);
    assert.equal(closing.first.type, "session.ping", "pinged before it was closed");
    const left = await watcher.expect("presence.left", (f) => f.name === "Silent");
    assert.equal(left.reason, "IDLE_TIMEOUT");
    assert.ok(pings >= 2, `Live answered ${pings} pings`);
    assert.equal(live.isClosed, false);
    assert.equal(watcher.frames.some((f) => f.type === "session.ping"), false);
    assert.equal(nc.isClosed, false, "a plain-text session keeps its own, longer clock");
    assert.deepEqual((await live.ok("presence.who")).users, ["Live", "Watcher"]);
    live.close();
    await answering;
  }, { limits: { idleTimeoutMs: IDLE_MS } }));

Deno.test("idle - a TLS handshake on the plain port is closed with NOT_CHAT_PROTOCOL", async () => {
  const h = await startServer({ tls: false });
  try {
    const tls = Deno.connectTls({ hostname: "127.0.0.1", port: h.port });
    await assert.rejects(tls.then((c) => c.handshake()));
    const raw = await Deno.connect({ hostname: "127.0.0.1", port: h.port });
    // A ClientHello starts with the handshake record type 0x16 and TLS 1.0's version.
    await raw.write(new Uint8Array([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1]));
    const { text, closedByServer } = await readAll(raw);
    assert.match(text, /"code":"NOT_CHAT_PROTOCOL"/);
    assert.ok(closedByServer, "the server closed the connection");
    assert.equal(h.server.sessions.all.size, 0, "both closed");
    const ok = await h.connect();
    await ok.ok("session.login", { name: "Ann", password: pw("Ann") });
  } finally {
    await h.close();
  }
});

Deno.test("idle - plain text on the TLS port is closed at once; TLS clients are served", () =>
  withServer(async (h) => {
    const raw = await Deno.connect({ hostname: "127.0.0.1", port: h.port });
    await raw.write(new TextEncoder().encode('{"type":"session.ping","id":"x"}\n'));
    // Told, in its own format, that the port speaks TLS (tls_plaintext_test.ts), and closed.
    const { text, closedByServer } = await readAll(raw);
    assert.equal(JSON.parse(text).code, "TLS_REQUIRED");
    assert.ok(closedByServer, "the server closed the connection");
    const c = await TestClient.connect(h.port, { caCert: h.caCert });
    await c.ok("session.login", { name: "Bo", password: pw("Bo") });
    c.close();
  }));

/** Reads until the server closes (bounded), as text; closedByServer is false if the time ran out. */
async function readAll(conn: Deno.Conn, ms = 5000) {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, ms);
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  try {
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
  } catch { /* reset by the server, or closed by the timer */ }
  clearTimeout(timer);
  try {
    conn.close();
  } catch { /* closed */ }
  const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  return { text, closedByServer: !timedOut };
}

Deno.test("idle - shutdown of a TLS server ends even with a reader stalled and a peer that never handshakes", async () => {
  const h = await startServer({ limits: { sendQueueBytes: 64 * 1024 * 1024 } });
  const stalled = await TestClient.connect(h.port, { read: false, caCert: h.caCert });
  await stalled.send("session.login", { id: "l", name: "Stella", password: pw("Stella") });
  const [writer] = await h.users("Wes");
  for (let i = 0; !h.server.sessions.get("Stella"); i++) {
    assert.ok(i < 250, "Stella never logged in");
    await sleep(20);
  }
  // Fill Stella's socket until frames wait in her queue: they can never be written.
  const stella = h.server.sessions.get("Stella") as ServerSession;
  const text = "x".repeat(7000);
  for (let i = 0; stella.outbox.queuedBytes === 0; i++) {
    assert.ok(i < 5000, "Stella's queue never backed up");
    await writer.ok("dm.send", { receiver: "Stella", text });
  }
  const silent = await Deno.connect({ hostname: "127.0.0.1", port: h.port }); // no handshake
  let timer: ReturnType<typeof setTimeout> | undefined;
  const closed = await Promise.race([
    h.server.close().then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 15_000))),
  ]);
  clearTimeout(timer);
  assert.ok(closed, "server.close() hung");
  silent.close();
  stalled.close();
  writer.close();
});
