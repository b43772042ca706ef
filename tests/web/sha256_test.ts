/** The page's incremental SHA-256 (web/src/sha256.ts) against node:crypto, at every block
 *  boundary that matters (padding at 55, 56 and 64 bytes) and fed in uneven pieces. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Sha256 } from "../../web/src/sha256.ts";

Deno.test("web sha256 - equals node:crypto's, whatever the length and the pieces", () => {
  for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 1000, 65_536, 200_000]) {
    const bytes = new Uint8Array(n).map((_, i) => (i * 7919 + n) & 0xff);
    for (const piece of [1, 37, 64, 4096]) {
      const h = new Sha256();
      for (let i = 0; i < n; i += piece) h.update(bytes.subarray(i, i + piece));
      assert.equal(h.hex(), createHash("sha256").update(bytes).digest("hex"), `${n}/${piece}`);
    }
  }
});
