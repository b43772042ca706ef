import assert from "node:assert/strict";
import { helloServer, readAll } from "../tls_server.ts";
import { connect as nodeTlsConnect } from "node:tls";
import {
  derToPem,
  fingerprintOfPem,
  generateSelfSigned,
  loadOrCreateServerTls,
  loadTlsFiles,
  normalizeFingerprint,
  pemToDer,
  serverNames,
} from "../../core/tls/cert.ts";
import { probeCertificate } from "../../core/client/tls_probe.ts";
import { hostKey, knownHostsPath } from "../../core/client/known_hosts.ts";
import { loadX509 } from "../../core/tls/x509_lib.ts";

const FP = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

Deno.test("cert - generated cert serves TLS, pins via caCerts, same fingerprints", async () => {
  const tls = await generateSelfSigned({ names: serverNames("127.0.0.1") });
  assert.match(tls.key, /^-----BEGIN PRIVATE KEY-----\n/);
  const server = await helloServer({ tls });
  for (const hostname of ["127.0.0.1", "localhost"]) {
    const conn = await Deno.connectTls({ hostname, port: server.port, caCerts: [tls.cert] });
    assert.equal(await readAll(conn), "hello\n", hostname);
  }
  // Without pinning, the same certificate is refused: the pin above is what made it work.
  const unpinned = await Deno.connectTls({ hostname: "127.0.0.1", port: server.port });
  await assert.rejects(unpinned.handshake(), /UnknownIssuer/);
  unpinned.close();

  const fingerprint = await fingerprintOfPem(tls.cert);
  assert.match(fingerprint, FP);
  const probed = await probeCertificate("127.0.0.1", server.port);
  assert.equal(probed.fingerprint, fingerprint);
  assert.deepEqual(probed.der, pemToDer(tls.cert));
  // node's own fingerprint256 of the same server, independently of probe.ts.
  const nodeFp = await new Promise<string>((resolve, reject) => {
    const s = nodeTlsConnect({ host: "127.0.0.1", port: server.port, rejectUnauthorized: false });
    let fp = "";
    s.once("secureConnect", () => {
      fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
    });
    s.once("error", reject);
    s.once("close", () => resolve(fp));
  });
  assert.equal(nodeFp, fingerprint);
  await server.close();
});

Deno.test("cert - certificate fields: CA:FALSE, serverAuth, SAN types, validity", async () => {
  const x509 = await loadX509();
  const before = Date.now();
  const tls = await generateSelfSigned({
    names: ["localhost", "10.1.2.3", "::1", "fe80::1%eth0", "::ffff:10.0.0.1", "room.example"],
    commonName: 'Room "4", north',
    days: 2,
  });
  const c = new x509.X509Certificate(tls.cert);
  const bc = c.getExtension(x509.BasicConstraintsExtension)!;
  assert.equal(bc.ca, false);
  assert.equal(bc.critical, true);
  const ku = c.getExtension(x509.KeyUsagesExtension)!;
  assert.equal(ku.usages, x509.KeyUsageFlags.digitalSignature);
  assert.deepEqual([...c.getExtension(x509.ExtendedKeyUsageExtension)!.usages], [
    x509.ExtendedKeyUsage.serverAuth,
  ]);
  const sans = c.getExtension(x509.SubjectAlternativeNameExtension)!.names.items;
  assert.deepEqual(sans.map((n) => `${n.type}:${n.value}`), [
    "dns:localhost",
    "ip:10.1.2.3",
    "ip:::1",
    "ip:fe80::1",
    "ip:::ffff:a00:1",
    "dns:room.example",
  ]);
  assert.deepEqual(c.subjectName.getField("CN"), ['Room "4", north']);
  // Validity starts an hour back (clock skew) and lasts `days`; the DER keeps whole seconds.
  assert.ok(Math.abs(c.notBefore.getTime() - (before - 3_600_000)) < 60_000);
  assert.equal(c.notAfter.getTime() - c.notBefore.getTime(), 2 * 86_400_000);
  const long = new x509.X509Certificate((await generateSelfSigned({ names: ["a.test"] })).cert);
  assert.equal(long.notAfter.getTime() - long.notBefore.getTime(), 3650 * 86_400_000);
});

Deno.test("cert - normalizeFingerprint accepts what people paste, rejects the rest", () => {
  const canon = Array.from({ length: 32 }, (_, i) => (i * 7 + 10).toString(16).padStart(2, "0"))
    .join(":").toUpperCase();
  const bare = canon.replaceAll(":", "");
  const table: [string, string | undefined][] = [
    [canon, canon],
    [canon.toLowerCase(), canon],
    [bare, canon],
    [`  ${bare.toLowerCase()}\n`, canon],
    [`SHA256:${canon}`, canon],
    [`sha256=${bare}`, canon],
    [`SHA-256: ${canon}`, canon],
    [bare.slice(2), undefined], // 31 bytes
    [bare + "00", undefined], // 33 bytes
    [bare.slice(1) + "g", undefined],
    ["", undefined],
    ["SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", undefined], // ssh's base64 form
  ];
  for (const [input, want] of table) assert.equal(normalizeFingerprint(input), want, input);
});

Deno.test("cert - PEM helpers round-trip and take the first certificate of a chain", async () => {
  const a = await generateSelfSigned({ names: ["a.test"] });
  const b = await generateSelfSigned({ names: ["b.test"] });
  const der = pemToDer(a.cert);
  assert.equal(der[0], 0x30); // an ASN.1 SEQUENCE
  assert.deepEqual(pemToDer(derToPem(der)), der);
  assert.deepEqual(pemToDer(`junk\n${a.cert}${b.cert}`), der);
  assert.equal(await fingerprintOfPem(a.cert + b.cert), await fingerprintOfPem(a.cert));
  assert.notEqual(await fingerprintOfPem(b.cert), await fingerprintOfPem(a.cert));
  assert.throws(() => pemToDer(a.key), /no PEM CERTIFICATE/);
});

Deno.test("cert - serverNames: fixed names, the host, wildcard expansion, no duplicates", () => {
  assert.deepEqual(serverNames("192.168.1.20", ["LOCALHOST", "Room.Example", "room.example"]), [
    "localhost",
    "127.0.0.1",
    "::1",
    "192.168.1.20",
    "Room.Example",
  ]);
  assert.deepEqual(serverNames("[::1]"), ["localhost", "127.0.0.1", "::1"]);
  for (const wildcard of ["0.0.0.0", "::", ""]) {
    const names = serverNames(wildcard);
    assert.ok(!names.includes(wildcard) || wildcard === "", wildcard);
    assert.ok(names.includes(Deno.hostname()), wildcard);
    for (const i of Deno.networkInterfaces()) {
      const addr = i.address.replace(/%.*$/, "");
      assert.ok(names.some((n) => n.toLowerCase() === addr.toLowerCase()), addr);
    }
    assert.ok(names.every((n) => !n.includes("%")));
    assert.equal(new Set(names.map((n) => n.toLowerCase())).size, names.length);
  }
});

Deno.test("cert - loadOrCreateServerTls creates once (private key) and then reuses", async () => {
  const dir = await Deno.makeTempDir();
  const first = await loadOrCreateServerTls(dir, ["127.0.0.1"]);
  assert.equal(first.created, true);
  assert.equal(first.certPath, `${dir}/tls/cert.pem`);
  assert.equal(first.keyPath, `${dir}/tls/key.pem`);
  if (Deno.build.os !== "windows") {
    assert.equal((await Deno.stat(first.keyPath)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${dir}/tls`)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(first.certPath)).mode! & 0o777, 0o644);
  }
  const again = await loadOrCreateServerTls(dir, ["other.example"]);
  assert.equal(again.created, false);
  assert.equal(again.fingerprint, first.fingerprint);
  assert.equal(again.cert, first.cert);
  assert.equal(again.key, first.key);
  // The reloaded files really serve TLS.
  const server = await helloServer({ tls: again });
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: server.port,
    caCerts: [again.cert],
  });
  assert.equal(await readAll(conn), "hello\n");
  await server.close();

  await Deno.rename(first.keyPath, `${dir}/key.bak`);
  await assert.rejects(loadOrCreateServerTls(dir, []), (e: Error) => {
    assert.match(e.message, /key\.pem is missing/);
    assert.ok(e.message.includes(first.certPath));
    return true;
  });
  await Deno.rename(`${dir}/key.bak`, first.keyPath);
  await Deno.remove(first.certPath);
  await assert.rejects(loadOrCreateServerTls(dir, []), /cert\.pem is missing/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cert - loadTlsFiles reads an operator's chain, clear errors otherwise", async () => {
  const dir = await Deno.makeTempDir();
  const leaf = await generateSelfSigned({ names: ["leaf.test"] });
  const other = await generateSelfSigned({ names: ["other.test"] });
  await Deno.writeTextFile(`${dir}/chain.pem`, leaf.cert + other.cert);
  await Deno.writeTextFile(`${dir}/key.pem`, leaf.key);
  const got = await loadTlsFiles(`${dir}/chain.pem`, `${dir}/key.pem`);
  assert.equal(got.fingerprint, await fingerprintOfPem(leaf.cert));
  assert.equal(got.key, leaf.key);

  await assert.rejects(loadTlsFiles(`${dir}/nope.pem`, `${dir}/key.pem`), (e: Error) => {
    assert.ok(e.message.includes(`${dir}/nope.pem`), e.message);
    return true;
  });
  await Deno.writeTextFile(`${dir}/text.pem`, "not a certificate\n");
  await assert.rejects(
    loadTlsFiles(`${dir}/text.pem`, `${dir}/key.pem`),
    /text\.pem is not in PEM/,
  );
  await assert.rejects(
    loadTlsFiles(`${dir}/chain.pem`, `${dir}/chain.pem`),
    /chain\.pem is not in PEM/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("known_hosts - host keys and the default path", () => {
  assert.equal(hostKey("Room.Example", 5757), "room.example:5757");
  assert.equal(hostKey("::1", 5757), "[::1]:5757");
  assert.equal(hostKey("[FE80::1]", 1), "[fe80::1]:1");
  const old = Deno.env.get("CLASSCHAT_CONFIG_DIR");
  Deno.env.set("CLASSCHAT_CONFIG_DIR", "/tmp/cc-test-config");
  try {
    assert.equal(knownHostsPath(), "/tmp/cc-test-config/known_hosts");
  } finally {
    if (old === undefined) Deno.env.delete("CLASSCHAT_CONFIG_DIR");
    else Deno.env.set("CLASSCHAT_CONFIG_DIR", old);
  }
});
