/**
 * `deno task connect` (and the compiled binary's permission list) as a user runs it, with the
 * config directory and downloads wherever the code honours: CLASSCHAT_CONFIG_DIR,
 * XDG_CONFIG_HOME, --downloads outside the home, a relative --downloads. Each logs in to a real
 * server, saves its config (known server, keys), receives a file and quits cleanly.
 */
import assert from "node:assert/strict";
import { pw, randomBytes } from "../harness.ts";
import { clientConfigDir, type ServerProcess, spawnClient, spawnServer } from "../process.ts";
import { compileRunFlags, ROOT, userEnv } from "./tasks.ts";

interface Variant {
  name: string;
  /** Arguments to deno before `connect <name> ...`. */
  deno: string[];
  env: Record<string, string>;
  downloads: string;
  cwd: string;
  /** Where the config (known_hosts, e2e keys) must land. */
  config: string;
}

/** Runs the client as the variant says; Bob sends it a file; checks what landed where. */
async function receiveAs(server: ServerProcess, v: Variant, home: string, bobConfig: string) {
  const args = [...v.deno, v.name, "--port", String(server.port), "--trust", server.fingerprint!];
  args.push("--downloads", v.downloads);
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: v.cwd,
    env: userEnv(home, { CLASSCHAT_PASSWORD: pw(v.name), NO_COLOR: "1", ...v.env }),
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdin = child.stdin.getWriter();
  let out = "";
  const pump = (async () => {
    for await (const t of child.stdout.pipeThrough(new TextDecoderStream())) out += t;
  })();
  const stderr = new Response(child.stderr).text();
  let ended = false;
  child.status.then(() => ended = true);
  const waitFor = async (re: RegExp) => {
    const deadline = Date.now() + 20_000;
    while (!re.test(out)) {
      if (ended || Date.now() > deadline) {
        if (!ended) child.kill();
        await pump;
        throw new Error(`${v.name}: no ${re}; got:\n${out}\n${await stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await waitFor(/logged in as /);
  const bytes = randomBytes(100_000);
  const src = `${home}/../notes-for-${v.name}.bin`;
  await Deno.writeFile(src, bytes);
  const bob = spawnClient("Bob", server, bobConfig);
  try {
    await bob.waitFor(/^\* logged in as Bob/);
    await bob.type(`/sendfile ${v.name} ${src}`);
    await bob.waitFor(new RegExp(`^\\* sent notes-for-${v.name}\\.bin .*: verified by`));
    await bob.type("/quit");
  } finally {
    await bob.end();
  }
  await waitFor(/received notes-for-.*saved to/);
  await stdin.write(new TextEncoder().encode("/quit\n"));
  await stdin.close();
  const { code } = await child.status;
  await pump;
  const err = await stderr;
  assert.equal(code, 0, `${v.name}:\n${out}\n${err}`);
  assert.doesNotMatch(out + err, /Requires|NotCapable|permission/i);
  return { bytes, err };
}

Deno.test("tasks client - deno task connect keeps its config and downloads wherever it is told", async () => {
  const server = await spawnServer();
  const tmp = await Deno.makeTempDir({ prefix: "classchat-task-client-" });
  const home = `${tmp}/home`;
  await Deno.mkdir(home);
  await Deno.mkdir(`${tmp}/here`);
  const task = ["task", "connect"];
  const variants: Variant[] = [
    // A config directory and downloads outside the home.
    {
      name: "Alice",
      deno: task,
      env: { CLASSCHAT_CONFIG_DIR: `${tmp}/cfg` },
      downloads: `${tmp}/dl`,
      cwd: ROOT,
      config: `${tmp}/cfg`,
    },
    // XDG_CONFIG_HOME, and a relative --downloads: from where the user ran `deno task`, which
    // it passes on as INIT_CWD (kept when set, as here).
    {
      name: "Carol",
      deno: task,
      env: { XDG_CONFIG_HOME: `${tmp}/xdg`, INIT_CWD: `${tmp}/here` },
      downloads: "got",
      cwd: ROOT,
      config: `${tmp}/xdg/classchat`,
    },
    // The compiled binary's permissions, run from the user's own directory.
    {
      name: "Dave",
      deno: ["run", ...compileRunFlags(), `${ROOT}/main.ts`, "connect"],
      env: { CLASSCHAT_CONFIG_DIR: `${tmp}/bin-cfg` },
      downloads: "bin-got",
      cwd: `${tmp}/here`,
      config: `${tmp}/bin-cfg`,
    },
  ];
  const bobConfig = clientConfigDir();
  const landed = [`${tmp}/dl`, `${tmp}/here/got`, `${tmp}/here/bin-got`];
  try {
    for (const [i, v] of variants.entries()) {
      const { bytes } = await receiveAs(server, v, home, bobConfig);
      const got = await Deno.readFile(`${landed[i]}/notes-for-${v.name}.bin`);
      assert.deepEqual(got, bytes, v.name);
      const saved = (await Array.fromAsync(Deno.readDir(v.config))).map((e) => e.name).sort();
      assert.deepEqual(saved, ["e2e", "known_hosts"], v.name);
    }
    // Nothing went to the default places.
    const inHome = (await Array.fromAsync(Deno.readDir(home))).map((e) => e.name);
    assert.deepEqual(inHome.filter((n) => n === ".config" || n === "Downloads"), []);
  } finally {
    await server.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});
