/**
 * The option declarations (protocol/limits.ts, plugins' `options`) as the CLI shows and reads
 * them: every one is in --help with its default, a value out of range is a usage error naming
 * its flag, a unit converts, and an option of a disabled plugin is refused.
 */
import assert from "node:assert/strict";
import { runCli, spawnServer } from "../process.ts";
import { LIMITS } from "../../protocol/limits.ts";
import { count, duration, readSetting, seconds, size } from "../../protocol/settings.ts";
import { PLUGINS } from "../../plugins/mod.ts";

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

Deno.test("limits cli - serve --help lists every core limit and plugin option with its default", async () => {
  const serve = await runCli(["serve", "--help"]);
  const connect = await runCli(["connect", "--help"]);
  assert.equal(serve.code, 0);
  assert.equal(connect.code, 0);
  const help = { serve: serve.stdout.replace(/\s+/g, " "), connect: connect.stdout };
  const all = [
    ...Object.values(LIMITS).map((s) => ({ s, owner: "" })),
    ...PLUGINS.flatMap((p) => (p.options ?? []).map((s) => ({ s, owner: p.name }))),
  ];
  for (const { s, owner } of all) {
    const text = help[s.command].replace(/\s+/g, " ");
    const plugin = owner ? ` \\[plugin ${owner}\\]` : "";
    const dflt = s.shown === undefined ? "" : ` \\(default: ${escape(s.shown)}\\)`;
    assert.match(text, new RegExp(`${escape(s.flag)} +${escape(s.help)}${plugin}${dflt}`), s.flag);
  }
  // The retention option moved to its plugin, with the same flag and default.
  assert.match(help.serve, /--retention <days> .*keep forever\) \[plugin offline\] \(default: 0\)/);
});

Deno.test("limits cli - a value out of range or unreadable is a usage error (exit 2) naming the flag", async () => {
  const cases = [
    ["--login-window", "0", "expected a whole number from 1 to 604800"],
    ["--max-bad-frames", "lots", "expected a whole number from 1 to 1000000"],
    ["--idle-timeout", "1", "expected a whole number from 2 to 86400"],
    ["--max-frame-bytes", "64KiB", "expected a whole number from 256 to 16777216"],
    ["--retention", "-1", "expected a whole number from 0 to 36500"],
    ["--max-file-size", "big", "expected a size"],
    ["--file-ttl", "14", "expected a duration"],
    ["--class-room", "no room!", ""],
  ];
  for (const [flag, value, expected] of cases) {
    const r = await runCli(["serve", flag, value]);
    assert.equal(r.code, 2, `${flag} ${value}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`option '${escape(flag)} <[^>]+>' argument`), flag);
    assert.match(r.stderr, new RegExp(escape(expected)), flag);
  }
});

Deno.test("limits cli - an option of a disabled plugin is a usage error, even at its default", async () => {
  for (const args of [["--retention", "0"], ["--max-file-size", "1MiB"]]) {
    const plugin = args[0] === "--retention" ? "offline" : "sendfile";
    const r = await runCli(["serve", "--disable", plugin, ...args, "--port", "1"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${args[0]} needs plugin ${plugin}`));
  }
});

Deno.test("limits cli - units convert: seconds, sizes and durations to milliseconds and bytes", () => {
  const c = { flag: "--x <v>", help: "x" };
  assert.equal(readSetting(seconds({ ...c, default: 900, min: 1, max: 3600 }), undefined), 900_000);
  assert.equal(readSetting(seconds({ ...c, default: 900, min: 1, max: 3600 }), ["60"]), 60_000);
  assert.equal(readSetting(size({ ...c, default: "1KiB" }), ["100MiB"]), 100 * 1024 ** 2);
  assert.equal(readSetting(size({ ...c, default: "1KiB" }), []), 1024);
  assert.equal(readSetting(duration({ ...c, default: "14d" }), ["12h"]), 12 * 3_600_000);
  assert.equal(
    readSetting(count({ ...c, default: 3, min: 0, max: 5 }), ["4", "5"]),
    5,
    "last wins",
  );
  assert.throws(() => readSetting(count({ ...c, default: 3, min: 0, max: 5 }), ["6"]), /--x <v>: /);
  // The defaults the core runs with are the declared ones, in the Limits unit.
  assert.equal(LIMITS.loginWindowMs.fallback, 15 * 60_000);
  assert.equal(LIMITS.idleTimeoutMs.shown, "120");
});

Deno.test("limits cli - a limit given in seconds reaches the server in milliseconds (--login-timeout 1)", async () => {
  const server = await spawnServer(["--no-tls", "--login-timeout", "1"]);
  try {
    const conn = await Deno.connect({ port: server.port });
    const started = Date.now();
    let text = "";
    const dec = new TextDecoder();
    for await (const chunk of conn.readable) {
      text += dec.decode(chunk, { stream: true });
      if (text.includes("LOGIN_TIMEOUT")) break;
    }
    const waited = Date.now() - started;
    assert.match(text, /"code":"LOGIN_TIMEOUT"/);
    assert.ok(waited >= 900 && waited < 5000, `closed after ${waited} ms`);
  } finally {
    await server.stop();
  }
});
