/**
 * The page inside the program (web/assets.ts) is built from the sources as they are now:
 * `deno task web` rebuilds it, and this fails when someone changed the page, or a protocol
 * module the page bundles, without rebuilding.
 */
import assert from "node:assert/strict";
import { SOURCES, SOURCES_SHA256, WEB_FILES } from "../../web/assets.ts";
import { sourcesHash, webSources } from "../../web/build.ts";

Deno.test("web assets - built from the current sources (run `deno task web` if not)", async () => {
  const sources = await webSources();
  assert.deepEqual(SOURCES, sources, "the page's modules changed: run `deno task web`");
  assert.equal(SOURCES_SHA256, await sourcesHash(sources), "run `deno task web`");
  // The page's own files, and the protocol's decoders bundled in (shared, not re-declared).
  assert.deepEqual(WEB_FILES.map((f) => f.path).sort(), [
    "/app.css",
    "/app.js",
    "/favicon.svg",
    "/index.html",
  ]);
  assert.ok(sources.includes("protocol/core.ts") && sources.includes("plugins/dm/protocol.ts"));
});
