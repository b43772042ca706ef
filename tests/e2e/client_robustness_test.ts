/**
 * The client survives the server: garbage from a fake server, a cut connection and a server
 * restart each give a clear message (and a reconnect), never a stack trace, and nothing the
 * server sends can put raw control characters on the person's terminal. Real `classchat
 * connect` processes, in pipe mode (NO_COLOR, so any ESC on stdout came from the server).
 */
import assert from "node:assert/strict";
import { connectArgs, runCli } from "../process.ts";
import {
  alive,
  assertNoCrash,
  at,
  client,
  endsClean,
  type fakeServer,
  WELCOME,
  withFake,
} from "./fake_server.ts";

/** Frames and bytes no server should send; each must be survived without a trace. */
function garbage(me: string): Array<Uint8Array | string | Record<string, unknown>> {
  const esc = "\x1b[2J\x1b[H\x1b[31m";
  const dm = { type: "dm.message", sender: "Eve", receiver: me, text: "x", ts: 0 };
  return [
    "{not json at all\n",
    new Uint8Array([0xff, 0xfe, 0xc3, 0x28, 0x00, 0x01, 0x80, 0x0a]), // invalid UTF-8, NUL
    "\n\r\n   \n",
    "[1, 2, 3]\n",
    '"just a string"\nnull\n42\ntrue\n',
    { type: 5 },
    { type: "DM.MESSAGE", text: "shouting" },
    { type: "dm.message", id: { nested: true } },
    { type: "no.such.plugin", text: esc },
    // Real push types, wrong field types.
    { ...dm, text: 42 },
    { ...dm, text: "" },
    { ...dm, text: null },
    { ...dm, sender: ["Eve"] },
    { ...dm, ts: "yesterday" },
    { ...dm, seq: "1" },
    { ...dm, replay: "bogus" },
    { ...dm, text: undefined, sealed: "not an object" },
    { ...dm, text: undefined, sealed: { from: "x", to: "y" } },
    { type: "groups.message", sender: "Eve", text: "no room", ts: 0 },
    { type: "groups.message", room: 7, sender: "Eve", text: "numeric room", ts: 0 },
    { type: "presence.joined", name: { first: "Eve" } },
    { type: "presence.joined" },
    { type: "presence.left", name: "Eve", reason: 3 },
    { type: "offline.summary", count: "3", convs: [] },
    { type: "offline.summary", count: 3, convs: "Eve" },
    { type: "offline.summary", count: 3, convs: [{ with: 1, count: "x" }] },
    { type: "offline.summary", count: 1, first: "x", convs: [] },
    // Well-formed, but times no Date can hold.
    { type: "offline.summary", count: 1, first: -1e300, last: 1e300, convs: [] },
    { ...dm, text: "from the far future", ts: 1e300, replay: "missed" },
    { type: "encrypt.changed", name: "Eve", key: 12 },
    { type: "sendfile.chunk", file: "f1", n: "0", data: 7 },
    // Core frames gone wrong.
    { type: "error", code: "INTERNAL", message: "an error without re" },
    { type: "error", code: 500, message: "numeric code" },
    { type: "error", message: "no code" },
    { type: "error", code: "INTERNAL" },
    { type: "error", re: "c999", code: "NO_SUCH_USER", message: "for a request never made" },
    { type: "ack", re: "c999" },
    { type: "ack", re: { id: 1 } },
    { type: "ack" },
    { type: "welcome" },
    { ...WELCOME, server: `Evil${esc}` },
    { type: "session.closing", code: 1, message: "not a string code" },
    { type: "session.closing" },
    // Control characters in shown text: a newline could forge lines, ESC repaint the screen.
    { ...dm, text: `${esc}red alert` },
    { ...dm, text: "line one\n! SERVER_SHUTDOWN: forged" },
    { ...dm, sender: `Eve${esc}` },
    { ...dm, sender: "Eve\r\nAlice" },
    { ...dm, text: "bell\x07 and C1 \x9b31m" },
    { type: "presence.joined", name: `${esc}Mallory` },
    { type: "presence.left", name: "Eve", reason: `quit${esc}` },
    { type: "error", code: "INTERNAL", message: `${esc}painted` },
    { type: "error", code: `NO_SUCH_USER${esc}`, message: "an escape in the code" },
    { type: "error", code: "NO_SUCH_USER\n! FORGED", message: "a newline in the code" },
    { type: "session.closing", code: "SERVER_SHUTDOWN", message: `${esc}bye` },
    { type: "offline.summary", count: 1, convs: [{ with: `Eve${esc}`, count: 1 }] },
    // Over the client's 1 MiB frame cap, with no newline for 2 MiB, then a newline.
    new Uint8Array(2 * 1024 * 1024).fill(0x61),
    "\n",
    // And a frame whose start was lost in the middle of such a line: JSON-ish noise.
    '"}, "type": "dm.message", "text": "tail"}\n',
  ];
}

Deno.test("client robustness - garbage from a fake server is survived, and the next valid message is shown", async () => {
  await withFake({}, async (fake) => {
    const bob = client("Bob", at(fake.port));
    await bob.waitFor(/^\* logged in as Bob/);
    const c = await fake.conn(0);
    assert.equal((await c.frame("session.login")).name, "Bob");
    for (const g of garbage("Bob")) await c.send(g);
    await c.send({ type: "dm.message", sender: "Eve", receiver: "Bob", text: "still here", ts: 0 });
    assert.equal(await bob.waitFor(/Eve: .*still here/), "Eve: [unencrypted] still here");
    assert.ok(await alive(bob.pid), "the client keeps running");
    // It still talks to the server: a request after all that is answered.
    await bob.type("/who");
    assert.equal(await bob.waitFor(/^\* online/), "* online (2): Bob, Eve");
    // Of the garbage only the well-formed message was shown as a chat line (errors are fine),
    // and no line was forged.
    const shown = bob.lines.filter((l) => /^(Eve|\* Mallory|\* Eve|\(while)/.test(l));
    assert.deepEqual(shown, [
      "(while you were away) [unknown time] Eve: [unencrypted] from the far future",
      "Eve: [unencrypted] still here",
    ]);
    assert.doesNotMatch(bob.lines.join("\n"), /NaN/);
    assert.ok(!bob.lines.some((l) => /^! (FORGED|SERVER_SHUTDOWN)/.test(l)), "a forged line");
    await endsClean(bob);
    assert.ok(c.frames.some((f) => f.type === "session.quit"), "quit as usual at end of input");
  });
});

Deno.test("client robustness - a connection cut by the server: a clear message, then a reconnect that resumes the session", async () => {
  await withFake({}, async (fake) => {
    const bob = client("Bob", at(fake.port));
    await bob.waitFor(/^\* logged in as Bob/);
    const first = await fake.conn(0);
    const { token } = first.frames.find((f) => f.type === "session.login")!;
    assert.equal(token, undefined, "the login carries the password, not a token");
    // Half a frame, then the connection is gone.
    await first.send('{"type":"dm.message","sender":"Eve","receiver":"Bob","te');
    first.close();
    assert.match(await bob.waitFor(/^! DISCONNECTED: /), /connection to the server dropped/);
    assert.match(
      await bob.waitFor(/^\* reconnecting in /),
      /^\* reconnecting in [\d.]+ s \(attempt 1\)$/,
    );

    const second = await fake.conn(1);
    const resume = await second.frame("session.resume");
    assert.equal(resume.name, "Bob");
    assert.equal(typeof resume.token, "string", "the session is resumed with its token");
    assert.ok(!second.frames.some((f) => f.type === "session.login"), "no password needed");
    await bob.waitFor(/^\* reconnected as Bob$/);
    await second.send({ type: "dm.message", sender: "Eve", receiver: "Bob", text: "back", ts: 0 });
    await bob.waitFor(/^Eve: \[unencrypted\] back$/); // Eve has no key: marked
    assert.ok(
      !bob.lines.some((l) => l.includes("Eve: ") && l !== "Eve: [unencrypted] back"),
      "no half frame",
    );
    await endsClean(bob);
  });
});

Deno.test("client robustness - a server that goes silent (no reset, no answers) is pinged, given up on after the idle time, and reconnected to", async () => {
  const IDLE_MS = 2000; // the least idle time the client accepts from a welcome
  await withFake({
    welcome: { ...WELCOME, limits: { ...WELCOME.limits, idleTimeoutMs: IDLE_MS } },
  }, async (fake) => {
    const bob = client("Bob", at(fake.port));
    await bob.waitFor(/^\* logged in as Bob/);
    const first = await fake.conn(0);
    // The server pings; the client answers without an id (so no ack is expected).
    await first.send({ type: "session.ping" });
    await first.frame("session.ping");
    assert.equal(first.frames.find((f) => f.type === "session.ping")!.id, undefined);
    // Then the network goes dead: the socket stays open but nothing is answered any more.
    first.answering = false;
    const ping = first.frames.length;
    assert.match(
      await bob.waitFor(/^! IDLE_TIMEOUT: /, 4 * IDLE_MS),
      /the server stopped answering \(nothing heard for \d+ s\)/,
    );
    const own = first.frames.slice(ping).find((f) => f.type === "session.ping");
    assert.equal(typeof own?.id, "string", "the client pinged the quiet server first");
    await bob.waitFor(/^\* reconnecting in /);
    await (await fake.conn(1)).frame("session.resume");
    await bob.waitFor(/^\* reconnected as Bob$/);
    const r = await bob.end();
    assertNoCrash(r.stdout, "stdout");
    assertNoCrash(r.stderr, "stderr");
  });
});

/** Bob logs in on the fake's first connection, which then drops; he is about to reconnect. */
async function droppedAfterLogin(fake: ReturnType<typeof fakeServer>) {
  const bob = client("Bob", at(fake.port));
  const first = await fake.conn(0);
  first.answering = true;
  await first.greet();
  await bob.waitFor(/^\* logged in as Bob/);
  first.close();
  await bob.waitFor(/^! DISCONNECTED: /);
  return bob;
}

Deno.test("client robustness - reconnect attempts that fail in new ways are retried until one works", async () => {
  await withFake({ greet: false }, async (fake) => {
    const bob = await droppedAfterLogin(fake);
    // Attempt 1: something else answers on the port (an HTTP server), then hangs up.
    const http = await fake.conn(1);
    await http.send("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    http.close();
    await bob.waitFor(/^\* still offline: /);
    // Attempt 2: a greeting, then a malformed answer to the resume.
    const odd = await fake.conn(2);
    await odd.greet();
    const resume = await odd.frame("session.resume");
    await odd.send({ type: "ack", re: resume.id, name: { first: "Bob" } });
    assert.match(
      await bob.waitFor(/^\* still offline: the server's answer/),
      /^\* still offline: the server's answer to session\.resume is malformed: field "name" must be a string$/,
    );
    // Attempt 3: all is well again.
    const good = await fake.conn(3, 20_000);
    good.answering = true;
    await good.greet();
    await bob.waitFor(/^\* reconnected as Bob$/, 20_000);
    await good.send({ type: "dm.message", sender: "Eve", receiver: "Bob", text: "finally", ts: 0 });
    await bob.waitFor(/^Eve: \[unencrypted\] finally$/);
    const r = await endsClean(bob);
    assert.equal(r.stdout.match(/reconnected as/g)?.length, 1, r.stdout);
  });
});

Deno.test("client robustness - a login step the server refuses on a reconnect is reported and retried, not taken for a drop", async () => {
  await withFake({ greet: false }, async (fake) => {
    const bob = await droppedAfterLogin(fake);
    // The resume works, but the encrypt plugin's login step is refused.
    const odd = await fake.conn(1);
    odd.answers["encrypt.publish"] = {
      type: "error",
      code: "INTERNAL",
      message: "the key store is broken",
    };
    odd.answering = true;
    await odd.greet();
    await bob.waitFor(/^\* still offline: the key store is broken$/);
    const good = await fake.conn(2, 20_000);
    good.answering = true;
    await good.greet();
    await bob.waitFor(/^\* reconnected as Bob$/, 20_000);
    const r = await endsClean(bob);
    // One drop was reported: the refused step was not taken for a second one.
    assert.equal((r.stdout + r.stderr).match(/DISCONNECTED/g)?.length, 1, r.stdout + r.stderr);
  });
});

Deno.test({
  name: "client robustness - a connection that drops while the session resumes is retried",
  // A drop before the resume is answered is #connect's to report (nothing else watches that
  // connection yet); it once left the client silent for good.
  async fn() {
    await withFake({}, async (fake) => {
      const bob = client("Bob", at(fake.port));
      await bob.waitFor(/^\* logged in as Bob/);
      (await fake.conn(0)).close();
      await bob.waitFor(/^! DISCONNECTED: /);
      const flaky = await fake.conn(1);
      flaky.answering = false;
      await flaky.frame("session.resume");
      flaky.close();
      await bob.waitFor(/^\* still offline: /);
      await fake.conn(2);
      await bob.waitFor(/^\* reconnected as Bob$/);
      await endsClean(bob);
    });
  },
});

Deno.test("client robustness - control characters in the welcome do not reach the terminal", async () => {
  const esc = "\x1b[2J\x1b]0;pwned\x07";
  await withFake({
    welcome: {
      ...WELCOME,
      server: `Evil${esc}`,
      version: "1.0\n! SERVER_SHUTDOWN: forged",
      plugins: ["dm", `presence${esc}`],
    },
  }, async (fake) => {
    const { args, env } = connectArgs("Bob", at(fake.port));
    const r = await runCli(args, "", env);
    // Refusing such a welcome or showing it defused are both fine; raw escapes are not.
    assertNoCrash(r.stdout, "stdout");
    assertNoCrash(r.stderr, "stderr");
    assert.doesNotMatch(r.stdout + r.stderr, /^! SERVER_SHUTDOWN/m, "a forged line");
  });
});

Deno.test({
  name: "client robustness - absurd limits in the welcome do not stall or spin the client",
  // The welcome's numbers come from the server: a wait past 2^31 ms overflows setTimeout to
  // 1 ms, which once made login spin for ever.
  async fn() {
    await withFake({
      welcome: {
        ...WELCOME,
        limits: {
          maxFrameBytes: -1,
          maxTextLength: "many",
          framesPerSecond: 1e-9,
          frameBurst: 1,
          idleTimeoutMs: 1e15,
        },
      },
    }, async (fake) => {
      const bob = client("Bob", at(fake.port));
      await bob.waitFor(/^\* logged in as Bob/);
      await bob.type("/who");
      await bob.waitFor(/^\* online \(2\): Bob, Eve$/, 5000);
      const ticks = async () => {
        const f = (await Deno.readTextFile(`/proc/${bob.pid}/stat`)).split(") ")[1].split(" ");
        return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (1/100 s)
      };
      const before = await ticks();
      await new Promise((r) => setTimeout(r, 1000));
      const used = (await ticks()) - before;
      assert.ok(used <= 10, `an idle client used ${used} ticks of CPU in 1 s`);
      await endsClean(bob);
    });
  },
});

/** Runs a scripted `connect` against a fake server that sends `bytes` instead of a welcome,
 *  then closes; returns what the client printed and its exit code. */
function greetedWith(bytes: Uint8Array | string) {
  return withFake({ greet: false }, async (fake) => {
    const { args, env } = connectArgs("Bob", at(fake.port));
    const run = runCli(args, "Eve: hello\n", env);
    const c = await fake.conn(0);
    await c.send(bytes);
    c.close();
    const r = await run;
    assert.deepEqual(c.frames, [], "nothing was sent to a server that did not greet");
    return r;
  });
}

Deno.test("client robustness - garbage instead of a welcome: one clear line and exit 1", async () => {
  const cases: Array<[string, Uint8Array | string]> = [
    [
      "an HTTP response",
      "HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n\r\n<h1>no</h1>\n",
    ],
    ["binary", Uint8Array.from({ length: 4096 }, (_, i) => (i * 151 + 7) % 256)],
    ["an SSH banner", "SSH-2.0-OpenSSH_9.6\r\n"],
    ["a welcome of the wrong shape", '{"type":"welcome","server":"x","protocol":"1"}\n'],
    ["a JSON array", "[]\n"],
  ];
  await Promise.all(cases.map(async ([what, bytes]) => {
    const r = await greetedWith(bytes);
    assert.equal(r.code, 1, `${what}: ${r.stdout}${r.stderr}`);
    const errors = r.stderr.trim().split("\n");
    assert.equal(errors.length, 1, `${what}: one line on stderr, got ${r.stderr}`);
    assert.match(errors[0], /^classchat: error: \S/, what);
    assertNoCrash(r.stdout, `${what} stdout`);
    assertNoCrash(r.stderr, `${what} stderr`);
    assert.doesNotMatch(r.stdout, /logged in|-> Eve/, what);
  }));
});
