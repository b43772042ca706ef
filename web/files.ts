/** The web client's files (bundled into web/assets.ts by `deno task web`), by URL path, as
 *  the server serves them (core/server/web.ts). */
import { WEB_FILES } from "./assets.ts";
import type { WebAsset } from "../core/server/web.ts";

export function webAssets(): Map<string, WebAsset> {
  const enc = new TextEncoder();
  return new Map(WEB_FILES.map((f) => [f.path, { type: f.type, body: enc.encode(f.text) }]));
}
