/**
 * Liveness and budget for what is not a whole frame (issue 7): a plain-text (nc) session that
 * types nothing is told at half of --text-idle-timeout and closed after all of it; a line that
 * never ends keeps no connection alive; blank lines pay the frame budget; plain-text errors
 * count as bad frames like protocol ones.
 */
import assert from "node:assert/strict";
import { pw, withServer } from "../harness.ts";

const TEXT_IDLE_MS = 1600;
const IDLE_MS = 1200;

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

Deno.test("text idle - an nc session is told at half of --text-idle-timeout, stays by typing, and is closed after a silent timeout", () =>
  withServer(async (h) => {
    const [watcher] = await h.users("Watcher");
    const nc = await h.connect();
    await nc.expect("welcome");
    const t0 = performance.now();
    await nc.sendRaw(`/login Nell ${pw("Nell")}\n`);
    await nc.expectLine(/^created account Nell$/);
    // A conversation, so that Watcher is told when Nell leaves.
    await watcher.ok("dm.send", { receiver: "Nell", text: "hi" });
    await nc.expectLine(
      /^\* idle: type anything within \d+ s to stay connected$/,
      2 * TEXT_IDLE_MS,
    );
    assert.ok(performance.now() - t0 >= TEXT_IDLE_MS / 2, "told before half the timeout");
    await nc.sendRaw("/who\n"); // typing resets the clock
    const typed = performance.now();
    await nc.expectLine(/^online \(2\)/);
    const closing = await nc.expectLine(/^closing IDLE_TIMEOUT: /, 3 * TEXT_IDLE_MS);
    assert.ok(performance.now() - typed >= TEXT_IDLE_MS, "closed before the timeout");
    assert.match(closing, /nothing heard for 1.6 s/);
    const left = await watcher.expect("presence.left", (f) => f.name === "Nell");
    assert.equal(left.reason, "IDLE_TIMEOUT");
  }, { limits: { idleTimeoutMs: 60_000, textIdleTimeoutMs: TEXT_IDLE_MS } }));

Deno.test("text idle - a line that never ends keeps no connection alive", () =>
  withServer(async (h) => {
    const [slow] = await h.users("Slow");
    const t0 = performance.now();
    // A byte every 100 ms and never a newline: the read loop hears from it all the time.
    const dripping = (async () => {
      await slow.sendRaw('{"type":"session.ping","pad":"');
      while (!slow.isClosed) {
        await sleep(100);
        await slow.sendRaw("a").catch(() => {});
      }
    })();
    const closing = await slow.expect("session.closing", undefined, 4 * IDLE_MS);
    assert.equal(closing.code, "IDLE_TIMEOUT");
    assert.ok(performance.now() - t0 >= IDLE_MS, "not before the timeout");
    slow.close();
    await dripping;
  }, { limits: { idleTimeoutMs: IDLE_MS } }));

Deno.test("text idle - blank lines pay the frame budget; plain-text errors count as bad frames", () =>
  withServer(async (h) => {
    const [blank, other] = await h.users("Blank", "Other");
    await blank.sendRaw("\n".repeat(40));
    const limited = await blank.expect("error", (f) => f.code === "RATE_LIMITED");
    assert.equal(limited.limit, "frames");
    assert.equal((await blank.expect("session.closing")).code, "TOO_MANY_ERRORS");
    // An nc session that keeps sending messages before logging in is closed the same way.
    const nc = await h.connect();
    await nc.expect("welcome");
    for (let i = 0; i < 6 && !nc.isClosed; i++) {
      await nc.sendRaw("Other: let me in\n").catch(() => {});
      await sleep(20);
    }
    await nc.expectLine(/^error NOT_LOGGED_IN: /);
    await nc.expectLine(/^closing TOO_MANY_ERRORS: /);
    // A typo is not a violation: an nc user may mistype as often as the budget allows.
    const typo = await h.connect();
    await typo.expect("welcome");
    for (let i = 0; i < 5; i++) await typo.sendRaw("hlep\n");
    for (let i = 0; i < 5; i++) await typo.expectLine(/^error UNKNOWN_COMMAND: /);
    await typo.sendRaw("server:help\n");
    await typo.expectLine(/^commands:$/);
    await other.ok("session.ping");
  }, { limits: { framesPerSecond: 1, frameBurst: 8, maxBadFramesPerMinute: 2 } }));
