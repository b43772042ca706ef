import assert from "node:assert/strict";
import { rssKiB, TestClient } from "../harness.ts";
import { withServerProcess } from "../process.ts";

const CHUNK = new Uint8Array(64 * 1024).fill(0x61); // "aaaa...", never a newline
const CHUNKS = 160; // 10 MiB

/** Sends a 10 MiB line with no newline; the server must refuse it once, then recover at "\n". */
async function endlessLine(c: TestClient) {
  for (let i = 0; i < CHUNKS; i++) await c.sendRaw(CHUNK);
  const err = await c.expect("error");
  assert.equal(err.code, "FRAME_TOO_LARGE");
  await c.expectNone("error", 200); // refused once, not once per read
  await c.sendRaw("\n");
  await c.ok("session.ping");
}

Deno.test("memory - a 10 MiB line without newline is refused and the server's memory stays flat", async () => {
  await withServerProcess(async (server) => {
    // Warm up with the same 10 MiB on another connection, so the baseline is a server whose
    // read path and heap have already seen that much input: what is measured next is retention
    // (a buffered line), not the allocator's first growth.
    const warm = await TestClient.connect(server.port, { caCert: server.cert });
    await warm.login("Warm");
    await endlessLine(warm);
    const before = await rssKiB(server.pid);

    const c = await TestClient.connect(server.port, { caCert: server.cert });
    await c.expect("welcome");
    await endlessLine(c);
    const after = await rssKiB(server.pid);
    // Buffering the line would cost at least 10 MiB; allow a few MiB of allocator noise.
    assert.ok(after - before < 4 * 1024, `RSS grew ${after - before} KiB (from ${before} KiB)`);
    c.close();
    warm.close();
  });
});
