import assert from "node:assert/strict";
import { helloServer, readAll } from "../tls_server.ts";
import { derToPem, fingerprintOfPem, generateSelfSigned } from "../../core/tls/cert.ts";
import { probeCertificate } from "../../core/client/tls_probe.ts";
import { hostKey, KnownHosts } from "../../core/client/known_hosts.ts";
import { connectTrusted, TrustError, type TrustOptions } from "../../core/client/tls.ts";

/** A fresh config dir per test; known_hosts inside it does not exist yet. */
async function setup(port: number) {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/known_hosts`;
  const opts: TrustOptions = { hostname: "127.0.0.1", port, knownHostsPath: path };
  return { dir, path, opts, key: hostKey("127.0.0.1", port) };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

function trustError(code: string, ...texts: string[]) {
  return (e: unknown) => {
    assert.ok(e instanceof TrustError, String(e));
    assert.equal(e.code, code, e.message);
    for (const t of texts) assert.ok(e.message.includes(t), `missing ${t} in:\n${e.message}`);
    return true;
  };
}

Deno.test("known_hosts - round trip, private file, junk kept but ignored", async () => {
  const { dir, path } = await setup(1);
  const [a, b] = await Promise.all([
    generateSelfSigned({ names: ["a"] }),
    generateSelfSigned({ names: ["b"] }),
  ]);
  const [fa, fb] = await Promise.all([fingerprintOfPem(a.cert), fingerprintOfPem(b.cert)]);
  const empty = await KnownHosts.load(path);
  assert.equal(empty.get("a:1"), undefined);
  await assert.rejects(empty.set("a:1", fb, a.cert), /does not match/);
  await empty.set("a:1", fa.toLowerCase().replaceAll(":", ""), a.cert);
  if (Deno.build.os !== "windows") assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  assert.match(await Deno.readTextFile(path), /^# ClassChat known hosts/);

  const junk = ["# my note", "", "garbage", `b:1 ${fa} ${btoa("not der")}`, "c:1 zz AAAA"];
  await Deno.writeTextFile(path, junk.join("\n") + "\n", { append: true });
  const loaded = await KnownHosts.load(path);
  assert.deepEqual(loaded.get("a:1"), { fingerprint: fa, certPem: a.cert });
  for (const k of ["b:1", "c:1", "garbage"]) assert.equal(loaded.get(k), undefined, k);

  await loaded.set("b:1", fb, b.cert); // replaces the bad b:1 line in place
  await loaded.set("a:1", fb, b.cert); // a server that changed its key, after the user agreed
  const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
  assert.ok(
    lines.includes("# my note") && lines.includes("garbage") && lines.includes("c:1 zz AAAA"),
  );
  assert.equal(lines.filter((l) => l.startsWith("a:1 ")).length, 1);
  assert.equal(lines.filter((l) => l.startsWith("b:1 ")).length, 1);
  const again = await KnownHosts.load(path);
  assert.equal(again.get("a:1")?.fingerprint, fb);
  assert.equal(again.get("b:1")?.certPem, b.cert);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("trust - first contact: refused without --trust, pinned with it", async () => {
  const server = await helloServer();
  const { dir, path, opts, key } = await setup(server.port);
  await assert.rejects(
    connectTrusted(opts),
    trustError("UNTRUSTED", server.fingerprint, `--trust ${server.fingerprint}`),
  );
  assert.equal(await exists(path), false);

  await assert.rejects(
    connectTrusted({ ...opts, trust: "AB".repeat(32) }),
    trustError("TRUST_MISMATCH", server.fingerprint, "AB:AB:AB"),
  );
  await assert.rejects(connectTrusted({ ...opts, trust: "ABCD" }), trustError("TRUST_MISMATCH"));
  assert.equal(await exists(path), false);

  const notices: string[] = [];
  const trust = `sha256=${server.fingerprint.replaceAll(":", "").toLowerCase()}`;
  const first = await connectTrusted({ ...opts, trust, notice: (t) => notices.push(t) });
  assert.equal(first.firstContact, true);
  assert.equal(first.fingerprint, server.fingerprint);
  assert.equal(await readAll(first.conn), "hello\n");
  assert.equal((await KnownHosts.load(path)).get(key)?.fingerprint, server.fingerprint);
  assert.ok(
    notices.some((n) => n.includes(path) && n.includes(server.fingerprint)),
    notices.join(),
  );

  // Pinned now: no flag and no question needed.
  const ask = () => Promise.reject(new Error("must not ask"));
  const next = await connectTrusted({ ...opts, ask });
  assert.equal(next.firstContact, false);
  assert.equal(next.fingerprint, server.fingerprint);
  assert.equal(await readAll(next.conn), "hello\n");
  await server.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("trust - asking: yes pins, no refuses and saves nothing", async () => {
  const server = await helloServer();
  const { dir, path, opts, key } = await setup(server.port);
  const asked: unknown[] = [];
  await assert.rejects(
    connectTrusted({ ...opts, ask: (info) => (asked.push(info), Promise.resolve(false)) }),
    trustError("UNTRUSTED", "nothing saved"),
  );
  assert.equal(await exists(path), false);
  const yes = await connectTrusted({
    ...opts,
    ask: (info) => (asked.push(info), Promise.resolve(true)),
  });
  assert.deepEqual(asked, [1, 2].map(() => ({ hostKey: key, fingerprint: server.fingerprint })));
  assert.equal(yes.firstContact, true);
  assert.equal(await readAll(yes.conn), "hello\n");
  assert.equal((await KnownHosts.load(path)).get(key)?.fingerprint, server.fingerprint);
  await server.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("trust - a new key on the same host and port is CERT_CHANGED, pin kept", async () => {
  const before = await helloServer();
  const { dir, path, opts, key } = await setup(before.port);
  (await connectTrusted({ ...opts, trust: before.fingerprint })).conn.close();
  await before.close();

  const after = await helloServer({ port: before.port }); // the "same" server, regenerated key
  assert.notEqual(after.fingerprint, before.fingerprint);
  const ask = () => Promise.reject(new Error("must not ask"));
  await assert.rejects(
    connectTrusted({ ...opts, ask, trust: after.fingerprint }),
    trustError("CERT_CHANGED", "HAS CHANGED", path, key, before.fingerprint, after.fingerprint),
  );
  assert.equal((await KnownHosts.load(path)).get(key)?.fingerprint, before.fingerprint);
  await after.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("trust - a pinned certificate without the name used is NAME_MISMATCH", async () => {
  const server = await helloServer({ names: ["room.example"] });
  const { dir, path, opts, key } = await setup(server.port);
  // First contact: trusted, but the pinned connection fails on the name, so nothing is saved.
  await assert.rejects(
    connectTrusted({ ...opts, trust: server.fingerprint }),
    trustError("NAME_MISMATCH", "room.example"),
  );
  assert.equal(await exists(path), false);
  // Already pinned (e.g. saved when connecting by another name).
  const { der } = await probeCertificate("127.0.0.1", server.port);
  await (await KnownHosts.load(path)).set(key, server.fingerprint, derToPem(der));
  await assert.rejects(connectTrusted(opts), trustError("NAME_MISMATCH", "room.example", key));
  await server.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("trust - a plain TCP peer or no server at all gives a clear error", async () => {
  const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { dir, opts } = await setup(tcp.addr.port);
  const held: Deno.Conn[] = [];
  const talk = async (c: Deno.Conn) => {
    await c.write(new TextEncoder().encode("CLASSCHAT plain\n")).catch(() => {});
    c.close();
  };
  let mode: "talk" | "silent" = "talk";
  const loop = (async () => {
    for await (const c of tcp) mode === "talk" ? await talk(c) : held.push(c);
  })();
  const plain = (e: unknown) => {
    assert.ok(!(e instanceof TrustError));
    assert.match((e as Error).message, /did not answer TLS: is it running with --no-tls\?/);
    return true;
  };
  await assert.rejects(connectTrusted(opts), plain);
  mode = "silent"; // a server that waits for a line that never comes
  await assert.rejects(connectTrusted({ ...opts, timeoutMs: 300 }), plain);
  tcp.close();
  await loop.catch(() => {});
  held.forEach((c) => c.close());
  // Nothing listens any more: the OS error comes through unchanged.
  await assert.rejects(connectTrusted(opts), Deno.errors.ConnectionRefused);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("trust - a server the system roots trust is accepted, nothing pinned", async () => {
  const server = await helloServer();
  const { dir, path, opts } = await setup(server.port);
  // This process does not trust it: an ordinary unknown server.
  await assert.rejects(connectTrusted(opts), trustError("UNTRUSTED"));
  // A client whose root store includes it (DENO_CERT, as for a CA-signed certificate) connects
  // directly, without asking or saving anything.
  await Deno.writeTextFile(`${dir}/root.pem`, server.cert);
  await Deno.writeTextFile(
    `${dir}/client.ts`,
    `import { connectTrusted } from "${new URL("../../core/client/tls.ts", import.meta.url)}";
const r = await connectTrusted(${JSON.stringify(opts)});
const text = await new Response(r.conn.readable).text();
console.log(JSON.stringify({ ...r, conn: undefined, text }));`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      `${dir}/client.ts`,
    ],
    env: { DENO_CERT: `${dir}/root.pem`, NO_COLOR: "1" },
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
    firstContact: false,
    fingerprint: server.fingerprint,
    text: "hello\n",
  });
  assert.equal(await exists(path), false);
  await server.close();
  await Deno.remove(dir, { recursive: true });
});
