/**
 * The web listener's edges, with Deno's own WebSocket and raw HTTP (no browser): a WebSocket
 * session is a session (welcome, login, ping), a text message is one frame whatever it holds,
 * a message over the frame limit closes the socket (1009), and only the server's own names
 * and addresses are answered (DNS rebinding: 421).
 */
import assert from "node:assert/strict";
import { type Harness, pw, startServer } from "../harness.ts";
import { webAssets } from "../../web/files.ts";

async function plainWebServer(): Promise<Harness> {
  return await startServer({
    tls: false,
    limits: { maxFrameBytes: 4096 },
    web: { port: 0, assets: webAssets(), names: ["classroom.example"] },
  });
}

/** A WebSocket to the server, with its messages as they come and how it closed. */
async function socket(h: Harness) {
  const ws = new WebSocket(`ws://127.0.0.1:${h.server.webAddr!.port}/ws`);
  const got: string[] = [];
  const closed = Promise.withResolvers<number>();
  ws.onmessage = (e) => got.push(String(e.data));
  ws.onclose = (e) => closed.resolve(e.code);
  await new Promise((r) => (ws.onopen = r));
  const frame = async (test: (f: Record<string, unknown>) => boolean) => {
    for (let i = 0; i < 200; i++) {
      const f = got.map((m) => JSON.parse(m)).find(test);
      if (f) return f;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no such frame in ${got.join("\n")}`);
  };
  return { ws, got, closed: closed.promise, frame };
}

Deno.test("web socket - a session like any other; a text message is one frame, whatever it holds", async () => {
  const h = await plainWebServer();
  try {
    const s = await socket(h);
    await s.frame((f) => f.type === "welcome");
    s.ws.send(JSON.stringify({ type: "session.login", id: "l", name: "Ann", password: pw("Ann") }));
    await s.frame((f) => f.re === "l" && f.type === "ack");
    // Two frames in one message are not two frames: one line, not JSON.
    s.ws.send('{"type":"session.ping","id":"a"}\n{"type":"session.ping","id":"b"}');
    assert.equal((await s.frame((f) => f.type === "error")).code, "BAD_JSON");
    // A text message cannot start a binary frame (0x01 and a huge "length").
    s.ws.send("\x01\xff\xff\xff\xff");
    await s.frame((f) => f.type === "error" && s.got.length > 3);
    s.ws.send('{"type":"session.ping","id":"c"}');
    await s.frame((f) => f.re === "c" && f.type === "ack");
    assert.ok(!s.got.some((m) => m.includes('"re":"b"')));
    // Over the frame limit: closed at once, before it is queued.
    s.ws.send("x".repeat(5000));
    assert.equal(await s.closed, 1009);
  } finally {
    await h.close();
  }
});

Deno.test("web socket - only the server's own names and addresses are answered", async () => {
  const h = await plainWebServer();
  try {
    const port = h.server.webAddr!.port;
    const status = async (host: string) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        const req = `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
        await conn.write(new TextEncoder().encode(req));
        const buf = new Uint8Array(1024);
        const n = await conn.read(buf);
        return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split(" ")[1];
      } finally {
        conn.close();
      }
    };
    assert.equal(await status(`127.0.0.1:${port}`), "200");
    assert.equal(await status(`localhost:${port}`), "200");
    assert.equal(await status(`classroom.example:${port}`), "200"); // a name it was given
    assert.equal(await status(`[::1]:${port}`), "200");
    assert.equal(await status(`evil.example:${port}`), "421"); // another site's name
  } finally {
    await h.close();
  }
});
