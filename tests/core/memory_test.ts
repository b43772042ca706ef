import assert from "node:assert/strict";
import { rssKiB, TestClient } from "../harness.ts";
import { withServerProcess } from "../process.ts";

Deno.test("memory - a 10 MiB line without newline is refused and the server's memory stays flat", async () => {
  await withServerProcess(async (server) => {
    // Warm up: a connection, a login and a little traffic, so the baseline is a working server.
    const warm = await TestClient.connect(server.port, { caCert: server.cert });
    await warm.login("Warm");
    for (let i = 0; i < 50; i++) await warm.ok("session.ping");
    const before = await rssKiB(server.pid);

    const c = await TestClient.connect(server.port, { caCert: server.cert });
    await c.expect("welcome");
    const chunk = new Uint8Array(64 * 1024).fill(0x61); // "aaaa...", never a newline
    for (let i = 0; i < 160; i++) await c.sendRaw(chunk); // 10 MiB
    const err = await c.expect("error");
    assert.equal(err.code, "FRAME_TOO_LARGE");
    await c.expectNone("error", 200); // refused once, not once per read
    const after = await rssKiB(server.pid);
    // Buffering the line would cost at least 10 MiB; allow a few MiB of allocator noise.
    assert.ok(after - before < 4 * 1024, `RSS grew ${after - before} KiB (from ${before} KiB)`);

    // The same connection recovers at the next newline.
    await c.sendRaw("\n");
    await c.ok("session.ping");
    c.close();
    warm.close();
  });
});
