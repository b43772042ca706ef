/**
 * What a plugin may import (docs/ARCHITECTURE.md, "A plugin"): its own folder, `protocol/`,
 * `plugins/types.ts` and other plugins' `protocol.ts`; never `core/`, nor another plugin's
 * runtime code. The exceptions still standing are listed by name, so the list can only shrink.
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const PLUGINS = join(ROOT, "plugins");

/** Imports that break the rule, each with why it is allowed: none. A new one fails the test;
 *  move what it needs into plugins/types.ts, protocol/, or a service instead. */
const KNOWN: Record<string, string> = {};

/** Every relative import of every plugin file, as repo-relative `from -> to`. */
async function pluginImports(): Promise<string[]> {
  const out: string[] = [];
  for await (const dir of Deno.readDir(PLUGINS)) {
    if (!dir.isDirectory) continue;
    for await (const f of Deno.readDir(join(PLUGINS, dir.name))) {
      // A plugin's tests are not its runtime: they may use the test harness.
      if (!f.name.endsWith(".ts") || f.name.endsWith("_test.ts")) continue;
      const file = join(PLUGINS, dir.name, f.name);
      const text = await Deno.readTextFile(file);
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
        const target = join(dirname(file), m[1]);
        out.push(`${relative(ROOT, file)} -> ${relative(ROOT, target)}`);
      }
    }
  }
  return out;
}

/** Allowed: the plugin's own folder, protocol/, plugins/types.ts (the API),
 *  plugins/services.ts (the types of the services plugins offer each other) and another
 *  plugin's protocol.ts. Anything else (core/, commands/, plugins/mod.ts, another plugin's runtime,
 *  tests/, bench/, main.ts) breaks the rule. */
function breaksRule(edge: string): boolean {
  const [from, to] = edge.split(" -> ");
  if (to.startsWith("protocol/") || to === "plugins/types.ts" || to === "plugins/services.ts") {
    return false;
  }
  const own = from.split("/")[1];
  const [top, plugin, file] = to.split("/");
  if (top !== "plugins" || file === undefined) return true;
  return plugin !== own && file !== "protocol.ts";
}

Deno.test("import rules - plugins import only their folder, protocol/, plugins/types.ts and other plugins' protocol.ts", async () => {
  const edges = await pluginImports();
  assert.ok(edges.length > 50, `only ${edges.length} imports found: is the pattern right?`);
  const broken = edges.filter(breaksRule);
  const unknown = broken.filter((e) => !(e in KNOWN));
  assert.deepEqual(unknown, [], "imports that break the rule (see docs/ARCHITECTURE.md)");
  const gone = Object.keys(KNOWN).filter((e) => !broken.includes(e));
  assert.deepEqual(gone, [], "no longer needed: remove these from KNOWN");
});

/** Every relative import of every .ts file under `top`, as repo-relative `from -> to`. */
async function importsUnder(top: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for await (const f of Deno.readDir(dir)) {
      const path = join(dir, f.name);
      if (f.isDirectory) await walk(path);
      else if (f.name.endsWith(".ts") && !f.name.endsWith("_test.ts")) {
        const text = await Deno.readTextFile(path);
        for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
          out.push(`${relative(ROOT, path)} -> ${relative(ROOT, join(dirname(path), m[1]))}`);
        }
      }
    }
  };
  await walk(join(ROOT, top));
  return out;
}

/** The layers (docs/ARCHITECTURE.md, "The layers"): protocol/ imports only protocol/; the core
 *  imports no plugin but the API it implements (plugins/types.ts); the server and client
 *  runtimes never import each other, and the shared core neither of them. */
function breaksLayers(edge: string): boolean {
  const [from, to] = edge.split(" -> ");
  if (from.startsWith("protocol/")) return !to.startsWith("protocol/");
  if (to.startsWith("plugins/") && to !== "plugins/types.ts") return true;
  if (from.startsWith("core/server/")) return to.startsWith("core/client/");
  if (from.startsWith("core/client/")) return to.startsWith("core/server/");
  return to.startsWith("core/server/") || to.startsWith("core/client/");
}

Deno.test("import rules - protocol/ and core/ keep their layers", async () => {
  const edges = [...await importsUnder("protocol"), ...await importsUnder("core")];
  assert.ok(edges.length > 100, `only ${edges.length} imports found: is the pattern right?`);
  assert.deepEqual(edges.filter(breaksLayers), [], "imports across layers");
});

Deno.test("import rules - the layer rule itself", () => {
  assert.equal(breaksLayers("protocol/spec.ts -> core/log.ts"), true);
  assert.equal(breaksLayers("protocol/spec.ts -> protocol/errors.ts"), false);
  assert.equal(breaksLayers("core/server/hub.ts -> core/client/show.ts"), true);
  assert.equal(breaksLayers("core/client/app.ts -> core/server/hub.ts"), true);
  assert.equal(breaksLayers("core/log.ts -> core/server/hub.ts"), true);
  assert.equal(breaksLayers("core/server/hub.ts -> plugins/dm/mod.ts"), true);
  assert.equal(breaksLayers("core/server/hub.ts -> plugins/types.ts"), false);
  assert.equal(breaksLayers("core/server/hub.ts -> core/log.ts"), false);
});

Deno.test("import rules - the rule itself", () => {
  assert.equal(breaksRule("plugins/dm/client.ts -> core/client/show.ts"), true);
  assert.equal(breaksRule("plugins/dm/client.ts -> plugins/encrypt/client.ts"), true);
  assert.equal(breaksRule("plugins/dm/client.ts -> plugins/encrypt/protocol.ts"), false);
  assert.equal(breaksRule("plugins/dm/client.ts -> plugins/dm/server.ts"), false);
  assert.equal(breaksRule("plugins/dm/client.ts -> plugins/types.ts"), false);
  assert.equal(breaksRule("plugins/sendfile/server.ts -> plugins/services.ts"), false);
  assert.equal(breaksRule("plugins/dm/client.ts -> protocol/spec.ts"), false);
  assert.equal(breaksRule("plugins/dm/client.ts -> plugins/mod.ts"), true);
  assert.equal(breaksRule("plugins/dm/client.ts -> commands/serve.ts"), true);
  assert.equal(breaksRule("plugins/dm/client.ts -> tests/harness.ts"), true);
  assert.equal(breaksRule("plugins/dm/client.ts -> main.ts"), true);
});
