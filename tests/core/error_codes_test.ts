/**
 * Error codes are declared once (issue 18): the core's in protocol/errors.ts, each plugin's in
 * its own folder (Plugin.errors). At run time a plugin's code reaches the client with its
 * declared meaning, an undeclared one is INTERNAL, and a clash stops start-up. In the source,
 * every code the server sends or the client shows is declared by the core or a plugin.
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, withServer } from "../harness.ts";
import { PLUGINS } from "../../plugins/mod.ts";
import { ChatError, CORE_ERRORS } from "../../protocol/errors.ts";
import { message } from "../../protocol/spec.ts";
import type { Plugin } from "../../plugins/types.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A throwaway plugin with a code of its own, one it forgot to declare, and a core code. */
const dice: Plugin = {
  name: "dice",
  summary: "a test plugin",
  errors: { TOO_MANY_DICE: "at most 100 dice at once" },
  server(api) {
    api.on(message("dice.many", () => ({})), (_m, ctx) => ctx.fail("TOO_MANY_DICE"));
    api.on(message("dice.said", () => ({})), (_m, ctx) => ctx.fail("TOO_MANY_DICE", "200 > 100"));
    api.on(message("dice.typo", () => ({})), () => {
      throw new ChatError("TOO_MANY_DIE");
    });
    api.on(message("dice.core", () => ({})), (_m, ctx) => ctx.fail("BAD_REQUEST"));
  },
};

Deno.test("error codes - a plugin's own code reaches the client with its meaning; an undeclared one is INTERNAL", () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice");
    const many = await alice.request("dice.many");
    assert.deepEqual([many.code, many.message], ["TOO_MANY_DICE", "at most 100 dice at once"]);
    const said = await alice.request("dice.said");
    assert.deepEqual([said.code, said.message], ["TOO_MANY_DICE", "200 > 100"]);
    assert.equal((await alice.request("dice.typo")).code, "INTERNAL");
    const core = await alice.request("dice.core");
    assert.deepEqual([core.code, core.message], ["BAD_REQUEST", CORE_ERRORS.BAD_REQUEST]);
  }, { plugins: [...PLUGINS, dice] }));

Deno.test("error codes - a code given two meanings, a core code redeclared, or one not upper snake case stops start-up", async () => {
  const clash: Plugin = { name: "clash", summary: "x", errors: { NO_SUCH_ROOM: "mine too" } };
  await assert.rejects(
    startServer({ plugins: [...PLUGINS, clash] }),
    /error code NO_SUCH_ROOM is declared by both groups and clash/,
  );
  // The same code with the same meaning is shared (encrypt and sendfile share E2E_FAILED).
  const groups = PLUGINS.find((p) => p.name === "groups")!;
  const shared: Plugin = {
    name: "shared",
    summary: "x",
    errors: { NO_SUCH_ROOM: groups.errors!.NO_SUCH_ROOM },
  };
  await (await startServer({ plugins: [...PLUGINS, shared] })).close();
  const core: Plugin = { name: "core2", summary: "x", errors: { INTERNAL: "mine" } };
  await assert.rejects(startServer({ plugins: [core] }), /INTERNAL is declared by both core/);
  const lower: Plugin = { name: "lower", summary: "x", errors: { tooMany: "x" } };
  await assert.rejects(startServer({ plugins: [lower] }), /"tooMany" is not upper snake case/);
});

/** Code literals in the source where a code is sent, thrown or shown. */
const USES = [
  /(?:ChatError|TrustError|fail|error|closeLater|closeSession|violation)\(\s*(?:s,\s*|[a-z.]+,\s*)?"([A-Z][A-Z0-9_]+)"/g,
  /\bcode(?:\s*===\s*|:\s*)"([A-Z][A-Z0-9_]+)"/g,
];

/** node:net's own error codes, compared with in core/server/tls_conn.ts: not ours. */
const SYSTEM_CODES = new Set(["ECONNRESET", "EPIPE"]);

async function sourceFiles(dir: string, out: string[] = []): Promise<string[]> {
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) await sourceFiles(path, out);
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) out.push(path);
  }
  return out;
}

/** The codes a file may send, throw or show: the core's and, in a plugin's folder, that
 *  plugin's and those of the plugins it requires (which are always there with it); elsewhere
 *  (the core, commands) only the core's. A code of a plugin that may be off would reach the
 *  client as INTERNAL. */
function allowedIn(path: string): Set<string> {
  const allowed = new Set(Object.keys(CORE_ERRORS));
  const [top, folder] = path.split("/");
  const plugin = top === "plugins" ? PLUGINS.find((p) => p.name === folder) : undefined;
  for (const p of plugin ? [plugin.name, ...plugin.requires ?? []] : []) {
    for (const code of Object.keys(PLUGINS.find((q) => q.name === p)?.errors ?? {})) {
      allowed.add(code);
    }
  }
  return allowed;
}

Deno.test("error codes - every code the source sends, throws or shows is declared by the core, its plugin or one it requires", async () => {
  const undeclared: string[] = [];
  let seen = 0;
  for (const top of ["core", "commands", "plugins", "protocol"]) {
    for (const file of await sourceFiles(join(ROOT, top))) {
      const path = relative(ROOT, file);
      const allowed = allowedIn(path);
      const text = await Deno.readTextFile(file);
      for (const re of USES) {
        for (const m of text.matchAll(re)) {
          seen++;
          if (!allowed.has(m[1]) && !SYSTEM_CODES.has(m[1])) undeclared.push(`${path}: ${m[1]}`);
        }
      }
    }
  }
  assert.ok(seen > 100, `only ${seen} code uses found: are the patterns right?`);
  assert.deepEqual(undeclared, [], "declare these in protocol/errors.ts or the plugin's errors");
});

Deno.test("error codes - a file offer to a room on a server without rooms is BAD_REQUEST, not INTERNAL", () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice");
    const r = await alice.request("sendfile.offer", { room: "lab", name: "x.txt", size: 2 });
    assert.deepEqual([r.code, r.message], [
      "BAD_REQUEST",
      "this server has no rooms (its groups plugin is off)",
    ]);
  }, { plugins: PLUGINS.filter((p) => p.name !== "groups" && !p.requires?.includes("groups")) }));

Deno.test("error codes - a plugin's codes live in its folder: the core declares none of them", () => {
  for (const p of PLUGINS) {
    for (const code of Object.keys(p.errors ?? {})) {
      assert.ok(!(code in CORE_ERRORS), `${code} of ${p.name} is also the core's`);
    }
  }
});
