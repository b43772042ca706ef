/**
 * After `bye` the server ends the connection (issue 17): the answer is flushed, then the
 * peer sees the end of stream at once, in plain-text mode (nc, or openssl s_client on the TLS
 * port) and for a JSON client's session.quit. Raw TCP and TLS clients against real servers.
 */
import assert from "node:assert/strict";
import { pw, withServer } from "../harness.ts";

/** The lines the server sends until it ends the stream; fails if it has not within ms. */
async function linesUntilEnd(c: Deno.Conn, ms: number): Promise<string[]> {
  let text = "";
  const buf = new Uint8Array(4096);
  const timer = setTimeout(() => c.close(), ms);
  try {
    for (let n; (n = await c.read(buf)) !== null;) {
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
  } catch (e) {
    throw new Error(`no end of stream within ${ms} ms (${e}); got ${JSON.stringify(text)}`);
  } finally {
    clearTimeout(timer);
  }
  return text.split("\n").filter((l) => l !== "");
}

const write = (c: Deno.Conn, s: string) => c.write(new TextEncoder().encode(s));
/** How soon the end must follow the answer: no deadline or linger (2 s) is waited for. */
const PROMPTLY_MS = 1000;

Deno.test("bye - nc on a --no-tls server: server:exit is answered bye, then the end of stream", async () => {
  await withServer(async (h) => {
    const c = await Deno.connect({ hostname: "127.0.0.1", port: h.port });
    await write(c, `server:register Carl ${pw("Carl")}\n`);
    await write(c, "server:exit\n");
    const lines = await linesUntilEnd(c, 3000);
    // (A login notice queued meanwhile may follow the bye: the two lines were sent at once.)
    assert.ok(lines.includes("bye"), lines.join("\n"));
    assert.ok(lines.includes("created account Carl"), lines.join("\n"));
    c.close();
  }, { tls: false });
});

Deno.test("bye - openssl s_client on the TLS port: bye, then the end of stream, promptly", async () => {
  await withServer(async (h) => {
    const c = await Deno.connectTls({ hostname: "127.0.0.1", port: h.port, caCerts: [h.caCert!] });
    await write(c, `server:register Carl ${pw("Carl")}\nserver:exit\n`);
    const started = Date.now();
    const lines = await linesUntilEnd(c, 3000);
    assert.ok(lines.includes("bye"), lines.join("\n"));
    assert.ok(Date.now() - started < PROMPTLY_MS, `ended after ${Date.now() - started} ms`);
    c.close();
  });
});

Deno.test("bye - a JSON client's session.quit is acked, then the end of stream, promptly", async () => {
  await withServer(async (h) => {
    const c = await Deno.connect({ hostname: "127.0.0.1", port: h.port });
    const frame = (f: Record<string, unknown>) => write(c, JSON.stringify(f) + "\n");
    await frame({ type: "session.login", id: "1", name: "Dana", password: pw("Dana") });
    await frame({ type: "session.quit", id: "2" });
    const started = Date.now();
    const frames = (await linesUntilEnd(c, 3000)).map((l) => JSON.parse(l));
    assert.deepEqual([frames.at(-1).type, frames.at(-1).re], ["ack", "2"]);
    assert.ok(Date.now() - started < PROMPTLY_MS, `ended after ${Date.now() - started} ms`);
    c.close();
  }, { tls: false });
});
