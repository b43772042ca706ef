/**
 * A 200 MiB random file between two `classchat connect` processes through a `classchat serve`
 * process: it arrives whole (same SHA-256), and the server's memory stays flat while it moves
 * because nothing holds more than the chunks in flight.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { rssKiB } from "../harness.ts";
import { spawnClient, spawnServer } from "../process.ts";

const SIZE = 200 * 1024 * 1024;
/** The bound on the server's RSS growth while the file moves (the figure). */
const MAX_GROWTH_KIB = 64 * 1024;

/** Writes SIZE random bytes to `path` in 1 MiB pieces, returning their SHA-256. */
async function writeRandom(path: string): Promise<string> {
  const hash = createHash("sha256");
  const piece = new Uint8Array(1024 * 1024);
  using file = await Deno.open(path, { write: true, createNew: true });
  for (let done = 0; done < SIZE; done += piece.length) {
    for (let i = 0; i < piece.length; i += 65536) {
      crypto.getRandomValues(piece.subarray(i, i + 65536));
    }
    hash.update(piece);
    for (let off = 0; off < piece.length;) off += await file.write(piece.subarray(off));
  }
  return hash.digest("hex");
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

Deno.test("sendfile big - a 200 MiB file arrives whole and the server's RSS grows by less than 64 MiB while it moves", async () => {
  const server = await spawnServer();
  const dir = await Deno.makeTempDir({ prefix: "classchat-big-" });
  try {
    const sha = await writeRandom(`${dir}/big.bin`);
    const bob = spawnClient("Bob", server, undefined, ["--downloads", `${dir}/in`]);
    await bob.waitFor(/^\* logged in as Bob/);
    const alice = spawnClient("Alice", server);
    await alice.waitFor(/^\* logged in as Alice/);
    const base = await rssKiB(server.pid);
    let peak = base;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await rssKiB(server.pid));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await alice.type(`/sendfile Bob ${dir}/big.bin`);
    await bob.waitFor(/^\* received big\.bin \(210 MB\) from Alice .*\(SHA-256 verified/, 240_000);
    await alice.waitFor(/^\* sent big\.bin \(210 MB\) to Bob in .*: verified by Bob$/);
    sampling = false;
    await sampler;
    assert.equal(await hashFile(`${dir}/in/big.bin`), sha);
    const growth = peak - base;
    assert.ok(
      growth < MAX_GROWTH_KIB,
      `server RSS grew by ${Math.round(growth / 1024)} MiB (from ${Math.round(base / 1024)} MiB)`,
    );
    for (const c of [alice, bob]) {
      await c.type("/quit");
      assert.equal((await c.end()).code, 0);
    }
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
