import assert from "node:assert/strict";
import { connectArgs, runCli, spawnClient, spawnServer, withServerProcess } from "../process.ts";

Deno.test("cli - --help on every command and --version exit 0", async () => {
  const top = await runCli(["--help"]);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /serve/);
  assert.match(top.stdout, /connect/);
  const serve = await runCli(["serve", "--help"]);
  assert.equal(serve.code, 0);
  assert.match(serve.stdout, /--port/);
  assert.match(serve.stdout, /--data/);
  const connect = await runCli(["connect", "--help"]);
  assert.equal(connect.code, 0);
  assert.match(connect.stdout, /<name>/);
  const version = await runCli(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\s*$/);
});

Deno.test("cli - usage errors exit 2, runtime failures exit 1", async () => {
  assert.equal((await runCli(["bogus"])).code, 2);
  assert.equal((await runCli(["connect"])).code, 2); // missing <name>
  assert.equal((await runCli(["serve", "--port", "70000"])).code, 2);
  assert.equal((await runCli(["serve", "--port", "abc"])).code, 2);
  assert.equal((await runCli(["connect", "Al", "--nope"])).code, 2);
  assert.equal((await runCli(["serve", "--log-level", "loud"])).code, 2);
  // Nothing listens on port 1: a runtime failure with one clear line, no stack trace.
  const refused = await runCli(["connect", "Alice", "--port", "1"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^classchat: error: connection refused/m);
  assert.doesNotMatch(refused.stderr, /\n\s+at /);
});

Deno.test("cli - two connect processes chat through a serve process", async () => {
  await withServerProcess(async (server) => {
    const alice = spawnClient("Alice", server);
    await alice.waitFor(/^\* logged in as Alice/);
    const bob = spawnClient("Bob", server);
    await bob.waitFor(/^\* logged in as Bob/);

    await alice.type("Bob: hello Bob");
    await alice.waitFor(/^-> Bob: hello Bob$/);
    await bob.waitFor(/^Alice: hello Bob$/);
    await bob.type("/msg Alice hi Alice, how are you?");
    await alice.waitFor(/^Bob: hi Alice, how are you\?$/);
    await bob.type("/who");
    await bob.waitFor(/^\* online \(2\): Alice, Bob$/);
    await bob.type("server:who");
    await bob.type("/private Nobody hi");
    await bob.waitFor(/^! NO_SUCH_USER: /);
    await bob.type("/frobnicate");
    await bob.waitFor(/^! UNKNOWN_COMMAND: /);

    const b = await bob.end(); // stdin closes: Bob waits for his acks, then quits
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout.split("\n").filter((l) => l.startsWith("* online (2)")).length, 2);
    await alice.waitFor(/^\* Bob left \(quit\)$/);
    await alice.type("/quit");
    const a = await alice.end();
    assert.equal(a.code, 0, a.stderr);
  });
});

Deno.test("cli - an idle client uses no CPU (no polling, no busy loop)", async () => {
  await withServerProcess(async (server) => {
    const alice = spawnClient("Alice", server);
    await alice.waitFor(/^\* logged in as Alice/);
    const pid = alice.pid;
    const ticks = async () => {
      const f = (await Deno.readTextFile(`/proc/${pid}/stat`)).split(") ")[1].split(" ");
      return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (1/100 s)
    };
    const before = await ticks();
    await new Promise((r) => setTimeout(r, 2000));
    const used = (await ticks()) - before;
    assert.ok(used <= 5, `an idle client used ${used} ticks of CPU in 2 s`);
    await alice.end();
  });
});

Deno.test("cli - a scripted client sends everything before it quits at end of input", async () => {
  await withServerProcess(async (server) => {
    const bob = spawnClient("Bob", server);
    await bob.waitFor(/^\* logged in as Bob/);
    const lines = Array.from({ length: 100 }, (_, i) => `Bob: line ${i}`).join("\n");
    const { args, env } = connectArgs("Alice", server);
    const alice = await runCli(args, lines + "\n", env);
    assert.equal(alice.code, 0, alice.stderr);
    assert.equal(alice.stdout.split("\n").filter((l) => l.startsWith("-> Bob: line ")).length, 100);
    await bob.waitFor(/^Alice: line 99$/);
    const got = bob.lines.filter((l) => l.startsWith("Alice: line "));
    assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => `Alice: line ${i}`));
    await bob.end();
  });
});

Deno.test("cli - a client pasting faster than --frames-per-second is paced by itself, never refused", async () => {
  // 60 lines at once against a burst of 10: without pacing the server would refuse 50 of them
  // with RATE_LIMITED, and close the connection after the tenth refusal (TOO_MANY_ERRORS).
  const server = await spawnServer(["--frames-per-second", "20", "--frame-burst", "10"]);
  try {
    const bob = spawnClient("Bob", server);
    await bob.waitFor(/^\* logged in as Bob/);
    const lines = Array.from({ length: 60 }, (_, i) => `Bob: paced ${i}`).join("\n");
    const { args, env } = connectArgs("Alice", server);
    const alice = await runCli(args, lines + "\n", env);
    assert.equal(alice.code, 0, alice.stderr);
    assert.doesNotMatch(alice.stdout, /RATE_LIMITED|TOO_MANY_ERRORS/);
    await bob.waitFor(/^Alice: paced 59$/);
    const got = bob.lines.filter((l) => l.startsWith("Alice: paced "));
    assert.deepEqual(got, Array.from({ length: 60 }, (_, i) => `Alice: paced ${i}`));
    await bob.end();
  } finally {
    await server.stop();
  }
});

Deno.test("cli - a taken name fails a scripted client with exit 1 and the code", async () => {
  await withServerProcess(async (server) => {
    const alice = spawnClient("Alice", server);
    await alice.waitFor(/^\* logged in as Alice/);
    const { args, env } = connectArgs("alice", server);
    const dup = await runCli(args, "", env);
    assert.equal(dup.code, 1);
    assert.match(dup.stdout, /^! NAME_IN_USE: /m);
    await alice.end();
  });
});

Deno.test("cli - the server exits cleanly on SIGTERM; clients are told and try to reconnect", async () => {
  const server = await spawnServer();
  const alice = spawnClient("Alice", server);
  const bob = spawnClient("Bob", server, undefined, ["--no-reconnect"]);
  await alice.waitFor(/^\* logged in as Alice/);
  await bob.waitFor(/^\* logged in as Bob/);
  assert.equal(await server.stop("SIGTERM"), 0);
  await alice.waitFor(/^! SERVER_SHUTDOWN: /);
  await alice.waitFor(/^\* reconnecting in [\d.]+ s \(attempt 1\)/);
  await bob.waitFor(/^! SERVER_SHUTDOWN: /);
  const b = await bob.end();
  assert.equal(b.code, 1); // the connection was lost, not ended by the user
  assert.doesNotMatch(b.stdout, /reconnecting/);
  const a = await alice.end(); // input ended while reconnecting: a normal end
  assert.equal(a.code, 0);
});
