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

/** Imports that break the rule today, each to be removed by moving what it needs into
 *  plugins/types.ts or a service (issue 18). */
const KNOWN: Record<string, string> = {
  "plugins/sendfile/sealing.ts -> plugins/encrypt/encoding.ts": "base64url helpers",
  "plugins/sendfile/sealing.ts -> plugins/encrypt/file_chunks.ts": "chunk encryption",
  "plugins/groups/server_pins.ts -> plugins/offline/posts.ts": "the PostsService type",
};

/** Every relative import of every plugin file, as repo-relative `from -> to`. */
async function pluginImports(): Promise<string[]> {
  const out: string[] = [];
  for await (const dir of Deno.readDir(PLUGINS)) {
    if (!dir.isDirectory) continue;
    for await (const f of Deno.readDir(join(PLUGINS, dir.name))) {
      if (!f.name.endsWith(".ts")) continue;
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

function breaksRule(edge: string): boolean {
  const [from, to] = edge.split(" -> ");
  if (to.startsWith("core/")) return true;
  const own = from.split("/")[1];
  const [top, plugin, file] = to.split("/");
  if (top !== "plugins" || file === undefined) return false; // protocol/ or plugins/types.ts
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

Deno.test("import rules - the rule itself", () => {
  assert.equal(breaksRule("plugins/dm/client.ts -> core/client/show.ts"), true);
  assert.equal(breaksRule("plugins/dm/client.ts -> plugins/encrypt/client.ts"), true);
  assert.equal(breaksRule("plugins/dm/client.ts -> plugins/encrypt/protocol.ts"), false);
  assert.equal(breaksRule("plugins/dm/client.ts -> plugins/dm/server.ts"), false);
  assert.equal(breaksRule("plugins/dm/client.ts -> plugins/types.ts"), false);
  assert.equal(breaksRule("plugins/dm/client.ts -> protocol/spec.ts"), false);
});
