/**
 * The server's TLS connections (core/server/listener.ts, core/server/tls_conn.ts) through real
 * loopback sockets. Bytes arrive whole and in order however they are cut, a peer
 * cannot make the server hold what it has not read (nor pile up what it writes), and close()
 * frees a socket mid-handshake.
 */
import assert from "node:assert/strict";
import type { TlsServerConn } from "../../core/server/tls_conn.ts";
import { listen } from "../../core/server/listener.ts";
import { randomBytes, sha256, testCertificate } from "../harness.ts";

/** The server's TLS listener (core/server/listener.ts) handing every connection to `serve`, and a
 *  client for it trusting the test certificate. */
async function pair(serve: (c: TlsServerConn) => void) {
  const pem = await testCertificate();
  const listening = await listen({
    hostname: "127.0.0.1",
    port: 0,
    tls: pem,
    handshakeTimeoutMs: 10_000,
    onConn: ({ conn }) => serve(conn as TlsServerConn),
    onError: (e) => {
      throw e;
    },
  });
  const port = listening.addr.port;
  const client = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [pem.cert] });
  return {
    client,
    port,
    close() {
      client.close();
      listening.close();
    },
  };
}

/** p, or a failure after ms: a stall fails the test instead of hanging the suite. */
function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing for ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

async function writeAll(w: { write(p: Uint8Array): Promise<number> }, bytes: Uint8Array) {
  for (let off = 0; off < bytes.length;) off += await w.write(bytes.subarray(off));
}

/** How many bytes `write` gets through in `ms` while nothing reads the other end. */
async function writtenWithin(write: (p: Uint8Array) => Promise<number>, ms: number) {
  const chunk = new Uint8Array(64 * 1024);
  let written = 0;
  const until = Date.now() + ms;
  const writing = (async () => {
    while (Date.now() < until) written += await write(chunk);
  })().catch(() => {});
  await new Promise((r) => setTimeout(r, ms));
  return { written, writing };
}

Deno.test("tls server conn - 8 MiB each way in random cuts arrive whole (SHA-256), echoed", async () => {
  const data = randomBytes(8 * 1024 * 1024);
  const p = await pair(async (c) => {
    const buf = new Uint8Array(8192);
    for (let n; (n = await c.read(buf)) !== null;) await writeAll(c, buf.slice(0, n));
  });
  try {
    const echoed = new Uint8Array(data.length);
    const reading = (async () => {
      for (let got = 0; got < data.length;) {
        const n = await p.client.read(echoed.subarray(got));
        if (n === null) throw new Error(`ended after ${got} bytes`);
        got += n;
      }
    })();
    const writing = (async () => {
      for (let off = 0; off < data.length;) {
        const n = 1 + Math.floor(Math.random() * 40_000);
        await writeAll(p.client, data.subarray(off, off + n));
        off += n;
      }
    })();
    await within(20_000, Promise.all([writing, reading]), "the echo");
    assert.equal(await sha256(echoed), await sha256(data));
  } finally {
    p.close();
  }
});

Deno.test("tls server conn - a peer cannot make the server hold what it has not read, nor pile up what it writes", async () => {
  let server!: TlsServerConn;
  const p = await pair((c) => {
    server = c;
    c.write(new TextEncoder().encode("hi\n")).catch(() => {}); // as the welcome, starts TLS
  });
  try {
    await within(5000, p.client.handshake(), "the handshake");
    // The server reads nothing: the client gets no further than the sockets' buffers.
    const inbound = await writtenWithin((b) => p.client.write(b), 1500);
    assert.ok(inbound.written < 16 * 1024 * 1024, `the client wrote ${inbound.written} bytes`);
    // The client reads nothing: the server's writes stop resolving likewise.
    const outbound = await writtenWithin((b) => server.write(b), 1500);
    assert.ok(outbound.written < 16 * 1024 * 1024, `the server wrote ${outbound.written} bytes`);
    // Reading again, everything written arrives.
    const buf = new Uint8Array(64 * 1024);
    for (let got = 0; got < inbound.written;) {
      const n = await within(5000, server.read(buf), "reading after the pause");
      assert.notEqual(n, null);
      got += n!;
    }
  } finally {
    p.close();
  }
});

Deno.test("tls server conn - close() mid-handshake frees the socket: the peer sees it end at once", async () => {
  let conn!: TlsServerConn;
  const p = await pair((c) => (conn = c));
  const peer = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
  await peer.write(new Uint8Array([0x16, 0x03, 0x01, 0x00, 0xff])); // half a ClientHello
  await new Promise((r) => setTimeout(r, 100));
  const started = Date.now();
  conn.close();
  const n = await peer.read(new Uint8Array(64)).catch(() => null);
  assert.equal(n, null);
  assert.ok(Date.now() - started < 1000, `the peer saw the end after ${Date.now() - started} ms`);
  await assert.rejects(conn.handshake);
  peer.close();
  p.close();
});
