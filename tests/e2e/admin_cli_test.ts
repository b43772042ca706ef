/**
 * `classchat admin add-admin` / `remove-admin` / `reset-password` and `serve --admin`, run as
 * real processes against a server's data directory: admin rights belong to an account made on
 * the server's machine, never to whoever registers a name first.
 */
import assert from "node:assert/strict";
import { TestClient, withServer } from "../harness.ts";
import { runCli, type ServerProcess, spawnServer } from "../process.ts";
import { GroupMembers } from "../../plugins/groups/protocol.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = `${ROOT}main.ts`;

/** Runs `classchat <args>`, killed after `ms` (a server that should refuse to start might
 *  not). */
async function runFor(args: string[], ms = 30_000) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(ms),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function passwordFile(password: string): Promise<string> {
  const file = await Deno.makeTempFile({ prefix: "classchat-pw-" });
  await Deno.writeTextFile(file, password + "\n");
  return file;
}

/** Logs `name` in to a server process, creates a room and returns `name`'s admin flag as
 *  groups.members shows it; then quits. */
async function adminFlag(server: ServerProcess, name: string, password: string) {
  const c = await TestClient.connect(server.port, { caCert: server.cert });
  await c.expect("welcome");
  await c.ok("session.login", { name, password });
  const room = `r${crypto.randomUUID().slice(0, 8)}`;
  await c.ok("groups.create", { room });
  const members = GroupMembers.decodeAck(await c.ok("groups.members", { room })).members;
  await c.ok("session.quit");
  c.close();
  return members.find((m) => m.name === name)?.admin;
}

Deno.test("admin cli - serve --admin refuses a name with no account; add-admin creates and marks it", async () => {
  const data = await Deno.makeTempDir({ prefix: "classchat-admin-" });
  const profPw = await passwordFile("prof-passphrase");
  const shortPw = await passwordFile("short");
  let server: ServerProcess | undefined;
  try {
    // Before the instructor's account exists, nobody may claim it by registering first.
    const refused = await runFor(["serve", "--port", "0", "--data", data, "--admin", "Prof"]);
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /classchat admin add-admin Prof/);
    assert.doesNotMatch(refused.stdout, /listening/);

    const weak = await runCli([
      "admin",
      "add-admin",
      "Prof",
      "--data",
      data,
      "--password-file",
      shortPw,
    ]);
    assert.equal(weak.code, 1, weak.stderr);
    assert.match(weak.stderr, /at least 8 characters/);
    const badName = await runCli(["admin", "add-admin", "no way", "--data", data]);
    assert.equal(badName.code, 2, badName.stderr);

    const added = await runCli([
      "admin",
      "add-admin",
      "Prof",
      "--data",
      data,
      "--password-file",
      profPw,
    ]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^created the account Prof and made it a server admin$/m);

    // --admin now names an existing account: the server starts, and Prof is an admin.
    server = await spawnServer(["--admin", "Prof"], data);
    assert.equal(await adminFlag(server, "Prof", "prof-passphrase"), true);
    // An account a student made: add-admin marks it (no password asked); the running server
    // sees it at that account's next login, and likewise remove-admin.
    assert.equal(await adminFlag(server, "Ann", "ann-passphrase"), false);
    const ann = await runCli(["admin", "add-admin", "ann", "--data", data]);
    assert.equal(ann.code, 0, ann.stderr);
    assert.match(ann.stdout, /^made the existing account Ann \(created [^)]+\) a server admin$/m);
    assert.equal(await adminFlag(server, "Ann", "ann-passphrase"), true);
    const removed = await runCli(["admin", "remove-admin", "Ann", "--data", data]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(await adminFlag(server, "Ann", "ann-passphrase"), false);
    const none = await runCli(["admin", "remove-admin", "Nobody", "--data", data]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no account named "Nobody"/);
    // --admin for an existing account still works, without add-admin.
    assert.equal(await server.stop("SIGTERM", true), 0);
    server = await spawnServer(["--admin", "ann"], data);
    assert.equal(await adminFlag(server, "Ann", "ann-passphrase"), true);
    // And the store remembers Prof without any --admin.
    assert.equal(await adminFlag(server, "Prof", "prof-passphrase"), true);
  } finally {
    await server?.stop();
    await Deno.remove(data, { recursive: true }).catch(() => {});
    await Deno.remove(profPw);
    await Deno.remove(shortPw);
  }
});

Deno.test("admin cli - reset-password lifts a lock in the running server", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "classchat-admin-" });
  try {
    await withServer(async (h) => {
      const owner = await h.connect({ localAddress: "127.0.0.2" });
      await owner.expect("welcome");
      await owner.ok("session.login", { name: "Prof", password: "first-passphrase" });
      await owner.ok("session.quit");
      const again = await h.connect({ localAddress: "127.0.0.2" });
      await again.expect("welcome");
      for (let i = 0; i < 5; i++) {
        const code = await again.fails("session.login", { name: "Prof", password: `typo-${i}xxx` });
        assert.equal(code, "BAD_PASSWORD");
      }
      assert.equal(
        await again.fails("session.login", { name: "Prof", password: "first-passphrase" }),
        "RATE_LIMITED",
      );
      const reset = await runCli(["admin", "reset-password", "prof", "--data", dataDir]);
      assert.equal(reset.code, 0, reset.stderr);
      const password = reset.stdout.match(/^new password for prof: (\S+)$/m)?.[1];
      assert.ok(password, reset.stdout);
      assert.equal((await again.ok("session.login", { name: "Prof", password })).name, "Prof");
    }, { dataDir });
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

const hasScript = await new Deno.Command("script", { args: ["--version"] }).output().then(
  (o) => o.success,
  () => false,
);

Deno.test({
  name: "admin cli - `deno task admin add-admin` asks for the password in a terminal, without echo",
  ignore: !hasScript,
  async fn() {
    // The task's own permissions reach only ./classchat-data, so the store goes there.
    const rel = `classchat-data/test-admin-${Deno.pid}`;
    const madeDataDir = !(await Deno.stat(`${ROOT}classchat-data`).catch(() => undefined));
    const secret = "typed-in-a-terminal";
    const env = Deno.env.toObject();
    delete env.CLASSCHAT_PASSWORD;
    // `script` gives the task a pseudo-terminal; what the task writes comes back on stdout.
    const child = new Deno.Command("script", {
      args: ["-qec", `deno task admin add-admin Prof --data ./${rel}`, "/dev/null"],
      cwd: ROOT,
      env: { ...env, NO_COLOR: "1", TERM: "dumb" },
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    let screen = "";
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const waitFor = async (re: RegExp) => {
      const deadline = Date.now() + 30_000;
      while (!re.test(screen)) {
        if (Date.now() > deadline) throw new Error(`no ${re} in:\n${screen}`);
        const { value, done } = await reader.read();
        if (done) throw new Error(`ended before ${re}:\n${screen}`);
        screen += value;
      }
    };
    try {
      await waitFor(/new password: $/);
      await writer.write(new TextEncoder().encode(secret + "\r"));
      await waitFor(/same password again: $/);
      await writer.write(new TextEncoder().encode(secret + "\r"));
      await waitFor(/made it a server admin/);
      const status = await child.status;
      assert.equal(status.code, 0, screen);
      assert.ok(!screen.includes(secret), `the password was echoed:\n${screen}`);
      assert.doesNotMatch(screen, /requests|Requires|Allow\?|NotCapable/, "no permission asked");

      await withServer(async (h) => {
        const c = await h.connect();
        await c.expect("welcome");
        await c.ok("session.login", { name: "Prof", password: secret });
        assert.equal(h.server.accounts.isAdmin("prof"), true);
      }, { dataDir: `${ROOT}${rel}` });
    } finally {
      await writer.close().catch(() => {});
      await child.status;
      await Deno.remove(`${ROOT}${rel}`, { recursive: true }).catch(() => {});
      if (madeDataDir) await Deno.remove(`${ROOT}classchat-data`).catch(() => {});
    }
  },
});

Deno.test("serve cli - the login budget options reach the server", async () => {
  const help = await runCli(["serve", "--help"]);
  for (const flag of ["--login-slowdown-after", "--login-slowdown ", "--login-slowdown-max-wait"]) {
    assert.ok(help.stdout.includes(flag), `${flag} in serve --help`);
  }
  assert.equal((await runCli(["serve", "--login-slowdown", "soon"])).code, 2);
  const server = await spawnServer([
    "--login-failures-per-account=1",
    "--login-slowdown-after=1",
    "--login-slowdown=800",
    "--login-slowdown-max-wait=1",
  ]);
  try {
    const from = async (localAddress: string) => {
      const c = await TestClient.connect(server.port, { caCert: server.cert, localAddress });
      await c.expect("welcome");
      return c;
    };
    const wrong = { name: "Prof", password: "not-the-password" };
    const owner = await from("127.0.0.1");
    await owner.ok("session.login", { name: "Prof", password: "prof-passphrase" });
    await owner.ok("session.quit");
    const stranger = await from("127.0.0.2");
    assert.equal(await stranger.fails("session.login", wrong), "BAD_PASSWORD");
    assert.equal(await stranger.fails("session.login", wrong), "RATE_LIMITED"); // 1 per pair
    // One failure on the account: other new addresses take turns 800 ms apart, up to 1 s.
    const first = await from("127.0.0.3");
    assert.equal(await first.fails("session.login", wrong), "BAD_PASSWORD");
    const [second, third] = [await from("127.0.0.4"), await from("127.0.0.5")];
    const t0 = Date.now();
    const got = await Promise.all([second, third].map((c) => c.fails("session.login", wrong)));
    assert.deepEqual(got.sort(), ["BAD_PASSWORD", "RATE_LIMITED"]);
    assert.ok(Date.now() - t0 >= 600, `the second guess waited ${Date.now() - t0} ms`);
  } finally {
    await server.stop();
  }
});
