import assert from "node:assert/strict";
import { TestClient } from "../harness.ts";
import { clientConfigDir, connectArgs, runCli, spawnClient, spawnServer } from "../process.ts";

Deno.test("security cli - first contact is refused when scripted unless --trust names the key", async () => {
  const server = await spawnServer();
  try {
    const { args, env } = connectArgs("Alice", server);
    const untrusted = args.filter((a, i) => a !== "--trust" && args[i - 1] !== "--trust");
    const r = await runCli(untrusted, "", env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not known yet/);
    assert.ok(r.stderr.includes(`--trust ${server.fingerprint}`), r.stderr);

    const wrong = [...untrusted, "--trust", "AB".repeat(32)];
    const w = await runCli(wrong, "", env);
    assert.equal(w.code, 1);
    assert.match(w.stderr, /different certificate than --trust says/);

    const ok = await runCli(args, "/who\n", env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^\* Trusted 127\.0\.0\.1:\d+ .* saved it in .*known_hosts$/m);
    const pinned = await Deno.readTextFile(`${env.CLASSCHAT_CONFIG_DIR}/known_hosts`);
    assert.ok(pinned.includes(server.fingerprint!));
    // Pinned now: no --trust needed, and nothing asked.
    const again = await runCli(untrusted, "/who\n", env);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /Trusted/);
  } finally {
    await server.stop();
  }
});

Deno.test("security cli - a server whose key changed is refused with a loud warning", async () => {
  const first = await spawnServer();
  const config = clientConfigDir();
  const { args, env } = connectArgs("Alice", first, config);
  assert.equal((await runCli(args, "/who\n", env)).code, 0);
  const port = first.port;
  await first.stop();
  // Another server (another key) on the same address: an impostor, as far as the client knows.
  const second = await spawnServer(["--port", String(port)]);
  try {
    assert.notEqual(second.fingerprint, first.fingerprint);
    const untrusted = args.filter((a, i) => a !== "--trust" && args[i - 1] !== "--trust");
    const r = await runCli(untrusted, "/who\n", env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
    assert.ok(r.stderr.includes(second.fingerprint!), "shows the new fingerprint");
    assert.ok(r.stderr.includes(`${config}/known_hosts`), "says which file to edit");
    assert.doesNotMatch(r.stdout, /logged in/);
  } finally {
    await second.stop();
  }
});

Deno.test("security cli - --no-tls warns on both sides; TLS and plain clients do not mix", async () => {
  const plain = await spawnServer(["--no-tls"], undefined, { captureLog: true });
  try {
    assert.match(plain.log(), /WARNING: --no-tls/);
    const { args, env } = connectArgs("Alice", plain);
    const r = await runCli(args, "/who\n", env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^! NO_TLS: WARNING: --no-tls/m);
    const tlsArgs = args.filter((a) => a !== "--no-tls");
    const refused = await runCli(tlsArgs, "", env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /did not answer TLS: is it running with --no-tls\?/);
  } finally {
    await plain.stop();
  }
});

Deno.test("security cli - wrong password fails a scripted client; admin reset-password gives a new one", async () => {
  const server = await spawnServer();
  try {
    const alice = spawnClient("Alice", server);
    await alice.waitFor(/^\* created the account Alice/);
    assert.equal((await alice.end()).code, 0);
    const { args, env } = connectArgs("Alice", server);
    const wrong = await runCli(args, "", { ...env, CLASSCHAT_PASSWORD: "not-alices-password" });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /^! BAD_PASSWORD: /m);

    const none = await runCli(["admin", "reset-password", "Nobody", "--data", server.data]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no account named "Nobody"/);
    const reset = await runCli(["admin", "reset-password", "alice", "--data", server.data]);
    assert.equal(reset.code, 0, reset.stderr);
    const password = reset.stdout.match(/^new password for alice: (\S+)$/m)?.[1];
    assert.ok(password && password.length >= 16, reset.stdout);
    const old = await runCli(args, "", env);
    assert.match(old.stdout, /^! BAD_PASSWORD: /m);
    const file = `${env.CLASSCHAT_CONFIG_DIR}/pw.txt`;
    await Deno.writeTextFile(file, password + "\n");
    const withFile = await runCli([...args, "--password-file", file], "/who\n", {
      CLASSCHAT_CONFIG_DIR: env.CLASSCHAT_CONFIG_DIR,
    });
    assert.equal(withFile.code, 0, withFile.stdout + withFile.stderr);
    assert.match(withFile.stdout, /^\* logged in as Alice/m);

    const missing = await runCli(["admin", "reset-password", "Alice", "--data", "/nonexistent"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no ClassChat store/);
  } finally {
    await server.stop();
  }
});

Deno.test("security cli - a TLS session carries plain-text (nc) mode too", async () => {
  const server = await spawnServer();
  try {
    const nc = await TestClient.connect(server.port, { caCert: server.cert });
    await nc.expect("welcome");
    await nc.sendRaw("server:register Dave dave-secret\n");
    await nc.expectLine(/^created account Dave$/);
    await nc.sendRaw("server:who\n");
    await nc.expectLine(/^online \(1\): Dave$/);
    nc.close();
  } finally {
    await server.stop();
  }
});
