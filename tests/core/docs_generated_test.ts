/** The generated parts of the docs (docs/generate.ts) match the code: after changing a limit or
 *  an option, `deno task docs` rewrites them. */
import assert from "node:assert/strict";
import { current, readSection, SECTIONS } from "../../docs/generate.ts";

for (const s of SECTIONS) {
  Deno.test(`docs - ${s.file}'s generated ${s.marker} section is up to date`, async () => {
    const expected = s.render();
    const found = current(await readSection(s), s.marker);
    assert.ok(found !== undefined, `${s.file} lacks <!-- generated:${s.marker} --> markers`);
    if (found !== expected) {
      assert.fail(
        `${s.file}'s ${s.marker} section differs from the code; run \`deno task docs\`. ` +
          `It should read:\n\n${expected}\n`,
      );
    }
  });
}
