/**
 * The tasks and the Makefile as a new user meets them: `deno task serve --help` from the
 * checkout with the task's own permissions, a fresh HOME, with and without a terminal, and the
 * compiled binary's permission list (read from deno.json) on the same commands.
 */
import assert from "node:assert/strict";
import {
  compileRunFlags,
  hasTmux,
  ROOT,
  runAsUser,
  runInTerminal,
  taskCommand,
  userEnv,
} from "./tasks.ts";

const COMMANDS = ["serve", "connect", "admin"];
const freshHome = () => Deno.makeTempDir({ prefix: "classchat-home-" });

/** What `<command> --help` must show, beyond succeeding. */
function assertHelp(command: string, out: string) {
  assert.match(out, new RegExp(`Usage: classchat ${command} `), out);
  assert.doesNotMatch(out, /Requires|NotCapable|Deno requests/, out);
}

Deno.test("tasks - serve, connect and admin --help work with the tasks' own permissions, stdin not a terminal", async () => {
  const home = await freshHome();
  try {
    for (const command of COMMANDS) {
      const r = await runAsUser(["task", command, "--help"], userEnv(home));
      assert.equal(r.code, 0, `deno task ${command} --help:\n${r.stderr}`);
      assertHelp(command, r.stdout + r.stderr);
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test({
  name: "tasks - serve, connect and admin --help in a terminal ask for no permission",
  ignore: !hasTmux,
  async fn() {
    const home = await freshHome();
    try {
      const runs = await Promise.all(
        COMMANDS.map((c) => runInTerminal(`task-${c}`, ["task", c, "--help"], userEnv(home))),
      );
      runs.forEach(({ code, screen }, i) => {
        assert.equal(code, 0, screen);
        assertHelp(COMMANDS[i], screen);
      });
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});

Deno.test("tasks - the compiled binary's permissions (from deno.json) run --help, stdin not a terminal", async () => {
  const home = await freshHome();
  try {
    for (const command of COMMANDS) {
      const args = ["run", ...compileRunFlags(), "main.ts", command, "--help"];
      const r = await runAsUser(args, userEnv(home));
      assert.equal(r.code, 0, `deno ${args.join(" ")}:\n${r.stderr}`);
      assertHelp(command, r.stdout + r.stderr);
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test({
  name: "tasks - the compiled binary's permissions (from deno.json) in a terminal ask for nothing",
  ignore: !hasTmux,
  async fn() {
    const home = await freshHome();
    try {
      const runs = await Promise.all(COMMANDS.map((c) =>
        runInTerminal(
          `bin-${c}`,
          ["run", ...compileRunFlags(), "main.ts", c, "--help"],
          userEnv(home),
        )
      ));
      runs.forEach(({ code, screen }, i) => {
        assert.equal(code, 0, screen);
        assertHelp(COMMANDS[i], screen);
      });
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});

const hasMake = await new Deno.Command("make", { args: ["--version"], stdout: "null" }).output()
  .then((o) => o.success, () => false);

async function make(...args: string[]) {
  const out = await new Deno.Command("make", { args, cwd: ROOT, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test({
  name: "tasks - make lists its targets, and each runs the deno task of the same name",
  ignore: !hasMake,
  async fn() {
    const help = await make();
    assert.equal(help.code, 0, help.stderr);
    assert.equal((await make("help")).stdout, help.stdout);
    const listed = [...help.stdout.matchAll(/^ {2}make (\w+)/gm)].map((m) => m[1]);
    for (const t of ["serve", "connect", "test", "binary", "bench", "check", "ok"]) {
      assert.ok(listed.includes(t), `make help lists ${t}:\n${help.stdout}`);
    }
    // Dry runs (-n): what each target would run, a task that deno.json has.
    for (const target of listed.filter((t) => t !== "help")) {
      const task = target === "binary" ? "compile" : target;
      taskCommand(task);
      const r = await make("-n", target, "NAME=Alice", "ARGS=--x 1");
      const who = target === "connect" ? " Alice" : "";
      assert.equal(r.stdout.trim(), `deno task ${task}${who} --x 1`, `make -n ${target}`);
    }
    assert.equal(
      (await make("-n", "connect", "NAME=Alice")).stdout.trim(),
      "deno task connect Alice",
    );
    // No NAME: a usage error, not a client started without one.
    const noName = await make("-n", "connect");
    assert.equal(noName.code, 2);
    assert.match(noName.stderr, /usage: make connect NAME=/);
  },
});

Deno.test("tasks - the admin task's own permissions: a password file anywhere, and a plugin's operator commands", async () => {
  // The task's command from deno.json, run where its ./classchat-data is a fresh directory.
  const cwd = await Deno.makeTempDir({ prefix: "classchat-admin-task-" });
  const home = await freshHome();
  const words = taskCommand("admin").trim().split(/\s+/);
  const flags = words.slice(words.indexOf("run") + 1, words.lastIndexOf("main.ts"));
  const admin = (...args: string[]) =>
    runAsUser(
      ["run", "--config", `${ROOT}/deno.json`, ...flags, `${ROOT}/main.ts`, "admin", ...args],
      userEnv(home),
      cwd,
    );
  try {
    const file = `${home}/prof-password`;
    await Deno.writeTextFile(file, "a-long-password\n");
    const made = await admin("add-admin", "Prof", "--password-file", file);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /created the account Prof and made it a server admin/);
    const staff = await admin("add-staff", "prof");
    assert.equal(staff.code, 0, staff.stderr);
    assert.match(staff.stdout, /^Prof is now staff/);
    assert.match((await admin("list-staff")).stdout, /^Prof \(named /);
  } finally {
    await Deno.remove(cwd, { recursive: true });
    await Deno.remove(home, { recursive: true });
  }
});
