import assert from "node:assert/strict";
import { Mutex } from "../../core/mutex.ts";

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

Deno.test("mutex - runs one at a time, in call order", async () => {
  const m = new Mutex();
  const log: string[] = [];
  let inside = 0;
  const step = (name: string, ms: number) =>
    m.run(async () => {
      assert.equal(inside++, 0, "two runs overlapped");
      log.push(`${name}<`);
      await tick(ms);
      log.push(`>${name}`);
      inside--;
      return name;
    });
  const out = await Promise.all([step("a", 20), step("b", 0), step("c", 5), m.run(() => "d")]);
  assert.deepEqual(out, ["a", "b", "c", "d"]);
  assert.deepEqual(log, ["a<", ">a", "b<", ">b", "c<", ">c"]);
});

Deno.test("mutex - fn is not called before its turn, even a synchronous one", async () => {
  const m = new Mutex();
  let called = false;
  const first = m.run(() => tick(10));
  const second = m.run(() => (called = true));
  assert.equal(called, false);
  await first;
  assert.equal(await second, true);
});

Deno.test("mutex - a failing fn fails only its caller; the chain goes on", async () => {
  const m = new Mutex();
  const a = m.run(() => Promise.reject(new Error("a failed")));
  const b = m.run(() => {
    throw new Error("b threw");
  });
  const c = m.run(() => Promise.resolve(3));
  await assert.rejects(a, /a failed/);
  await assert.rejects(b, /b threw/);
  assert.equal(await c, 3);
  await m.idle(); // does not reject for the earlier failures
});

Deno.test("mutex - idle resolves once everything run so far has settled", async () => {
  const m = new Mutex();
  const done: number[] = [];
  m.run(() => tick(10).then(() => done.push(1)));
  m.run(() => Promise.reject(new Error("x"))).catch(() => {});
  m.run(() => done.push(2));
  await m.idle();
  assert.deepEqual(done, [1, 2]);
  await m.idle(); // idle again with nothing queued
});

Deno.test("mutex - a long chain keeps nothing of the runs already done", async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --v8-flags=--expose-gc");
  const m = new Mutex();
  const heap = async () => {
    await tick();
    gc();
    return Deno.memoryUsage().heapUsed;
  };
  // Warm up, so that what is measured is retention, not the first growth.
  for (let i = 0; i < 1000; i++) m.run(() => new Uint8Array(1024));
  await m.idle();
  const before = await heap();
  // 200,000 runs of which each resolves to 1 KiB: ~200 MB if the chain kept its links.
  let first: WeakRef<Uint8Array> | undefined;
  for (let i = 0; i < 200_000; i++) {
    const p = m.run(() => new Uint8Array(1024));
    if (i === 0) first = new WeakRef(await p);
    else if (i % 1000 === 0) await p;
  }
  await m.idle();
  const grew = (await heap()) - before;
  assert.ok(grew < 8 * 1024 * 1024, `heap grew by ${grew} bytes`);
  assert.equal(first!.deref(), undefined, "the first run's value is still held");
});
