/**
 * Paths as a student types them: `/sendfile Bob ~/notes.pdf` is in their home, and a relative
 * path (and a relative --downloads) is from the directory they ran the client in, which
 * `deno task` passes as INIT_CWD because it runs the program in the checkout.
 */
import assert from "node:assert/strict";
import { randomBytes } from "../harness.ts";
import { spawnClient, spawnServer } from "../process.ts";

Deno.test("sendfile paths - ~/ is the home, relative paths and --downloads start at INIT_CWD", async () => {
  const server = await spawnServer();
  const tmp = await Deno.makeTempDir({ prefix: "classchat-paths-" });
  const [home, there, bobsDir] = [`${tmp}/home`, `${tmp}/there`, `${tmp}/bob`];
  for (const d of [`${home}/notes`, `${there}/rel`, bobsDir]) {
    await Deno.mkdir(d, { recursive: true });
  }
  try {
    // Bob ran the client from bobsDir, with a relative --downloads.
    const bob = spawnClient("Bob", server, undefined, ["--downloads", "got"], {
      INIT_CWD: bobsDir,
    });
    await bob.waitFor(/^\* logged in as Bob/);
    const alice = spawnClient("Alice", server, undefined, [], { HOME: home });
    await alice.waitFor(/^\* logged in as Alice/);
    const carol = spawnClient("Carol", server, undefined, [], { INIT_CWD: there });
    await carol.waitFor(/^\* logged in as Carol/);

    const fromHome = randomBytes(5000);
    await Deno.writeFile(`${home}/notes/home.bin`, fromHome);
    await alice.type("/sendfile Bob ~/notes/home.bin");
    await alice.waitFor(/^\* sent home\.bin .*: verified by Bob$/);
    await bob.waitFor(/^\* received home\.bin .*: saved to /);
    assert.deepEqual(await Deno.readFile(`${bobsDir}/got/home.bin`), fromHome);

    const relative = randomBytes(7000);
    await Deno.writeFile(`${there}/rel/relative.bin`, relative);
    await carol.type("/sendfile Bob rel/relative.bin");
    await carol.waitFor(/^\* sent relative\.bin .*: verified by Bob$/);
    await bob.waitFor(/^\* received relative\.bin .*: saved to /);
    assert.deepEqual(await Deno.readFile(`${bobsDir}/got/relative.bin`), relative);

    // A missing file names the place looked at, so a student sees where relative paths go.
    await carol.type("/sendfile Bob nowhere.bin");
    assert.match(await carol.waitFor(/^! NO_SUCH_FILE: /), new RegExp(`${there}/nowhere\\.bin`));
    for (const c of [alice, carol, bob]) {
      await c.type("/quit");
      assert.equal((await c.end()).code, 0);
    }
  } finally {
    await server.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});
