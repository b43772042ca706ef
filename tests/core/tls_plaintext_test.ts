/**
 * nc on the TLS port (issue 17): a peer whose first bytes are not a TLS handshake is told in
 * one readable line to use TLS (core/server/not_tls.ts), then the connection ends; a real TLS
 * client, even one whose ClientHello arrives a byte at a time, is served as before. Raw TCP
 * clients against a real TLS server.
 */
import assert from "node:assert/strict";
import { pw, withServer } from "../harness.ts";
import { NOT_TLS_LINGER_MS } from "../../core/server/not_tls.ts";

/** Everything the server sends until it ends the connection, and how it ended, within ms. */
async function readUntilEnd(c: Deno.Conn, ms: number) {
  const chunks: number[] = [];
  const buf = new Uint8Array(4096);
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      c.read(buf),
      new Promise<"late">((r) => (timer = setTimeout(() => r("late"), deadline - Date.now()))),
    ]).finally(() => clearTimeout(timer));
    if (n === "late") break;
    if (n === null) return { text: new TextDecoder().decode(new Uint8Array(chunks)), chunks };
    chunks.push(...buf.subarray(0, n));
  }
  throw new Error(`no end within ${ms} ms; got ${JSON.stringify(chunks)}`);
}

/** True once the kernel has dropped this client socket as reset (Linux: it leaves
 *  /proc/net/tcp, as it was in CLOSE_WAIT after the server's FIN), within ms. A reset is what
 *  makes OpenBSD nc exit: after a FIN alone it waits for a keystroke. A read cannot tell (once a
 *  FIN has arrived, reads return the end of stream, reset or not). */
async function resetWithin(c: Deno.Conn, ms: number): Promise<boolean> {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, "0");
  const local = `:${hex((c.localAddr as Deno.NetAddr).port)} `;
  const remote = `:${hex((c.remoteAddr as Deno.NetAddr).port)} `;
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const table = await Deno.readTextFile("/proc/net/tcp");
    if (!table.split("\n").some((l) => l.includes(local) && l.includes(remote))) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

const dial = (port: number) => Deno.connect({ hostname: "127.0.0.1", port });
const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("tls port - a plain-text line gets one readable line saying to use TLS, then the end", async () => {
  await withServer(async (h) => {
    const c = await dial(h.port);
    try {
      await c.write(bytes("server:register Carl carls-password\n"));
      const started = Date.now();
      const { text, chunks } = await readUntilEnd(c, 2000);
      // Readable: one line, no TLS alert (its last byte, 0x32, was the stray "2" nc showed).
      assert.ok(chunks.every((b) => b === 0x0a || (b >= 0x20 && b < 0x7f)), text);
      assert.equal(text.indexOf("\n"), text.length - 1, text);
      assert.match(text, /^closing TLS_REQUIRED: this port speaks TLS/);
      assert.ok(text.includes(`openssl s_client -quiet -connect 127.0.0.1:${h.port}`), text);
      assert.ok(text.includes("--no-tls"), text);
      assert.ok(Date.now() - started < 1000, "told and closed at once, not at a deadline");
      // Then a reset, so that nc (which does not exit on a FIN) exits.
      if (Deno.build.os === "linux") {
        assert.ok(await resetWithin(c, NOT_TLS_LINGER_MS + 1500), "no reset after the line");
      }
    } finally {
      c.close();
    }
  });
});

Deno.test("tls port - a JSON line gets session.closing TLS_REQUIRED as a frame", async () => {
  await withServer(async (h) => {
    const c = await dial(h.port);
    try {
      await c.write(bytes(' {"type":"session.login","name":"Carl","password":"x"}\n'));
      const { text } = await readUntilEnd(c, 2000);
      const frame = JSON.parse(text);
      assert.equal(frame.type, "session.closing");
      assert.equal(frame.code, "TLS_REQUIRED");
      assert.equal(text.indexOf("\n"), text.length - 1, text);
    } finally {
      c.close();
    }
  });
});

Deno.test("tls port - a TLS client whose ClientHello arrives a byte first, then the rest, is served", async () => {
  await withServer(async (h) => {
    // A relay that holds the client's first byte back alone for a moment: the server decides
    // on it by itself and must hand it to TLS with what follows.
    const relay = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const relaying = (async () => {
      const inner = await relay.accept();
      const outer = await dial(h.port);
      const first = new Uint8Array(1);
      await inner.read(first);
      await outer.write(first);
      await new Promise((r) => setTimeout(r, 100));
      await Promise.all([
        inner.readable.pipeTo(outer.writable).catch(() => {}),
        outer.readable.pipeTo(inner.writable).catch(() => {}),
      ]);
    })();
    const port = (relay.addr as Deno.NetAddr).port;
    const c = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [h.caCert!] });
    const line = (f: Record<string, unknown>) => bytes(JSON.stringify(f) + "\n");
    await c.write(line({ type: "session.login", id: "1", name: "Dana", password: pw("Dana") }));
    const seen = await readLines(c, (l) => l.includes('"re":"1"'));
    assert.match(seen[0], /"type":"welcome"/);
    assert.match(seen.at(-1)!, /"type":"ack"/);
    c.close();
    relay.close();
    await relaying;
  });
});

/** Lines read from c until one passes `last` (within 5 s). */
async function readLines(c: Deno.Conn, last: (l: string) => boolean): Promise<string[]> {
  const lines: string[] = [];
  let text = "";
  const buf = new Uint8Array(4096);
  const timer = setTimeout(() => c.close(), 5000);
  try {
    while (true) {
      const n = await c.read(buf);
      if (n === null) throw new Error(`ended after ${JSON.stringify(lines)}`);
      text += new TextDecoder().decode(buf.subarray(0, n));
      for (let i; (i = text.indexOf("\n")) >= 0; text = text.slice(i + 1)) {
        lines.push(text.slice(0, i));
        if (last(lines.at(-1)!)) return lines;
      }
    }
  } finally {
    clearTimeout(timer);
  }
}
