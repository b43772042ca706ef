/**
 * Synced (core/server/synced.ts), the copy in memory of state the nodes of a cluster share:
 * a snapshot read while this node's own write is under way is never applied (it could undo
 * that write in memory), and is read again once the write is done; a change told by another
 * node is read; fresh() reads only in a cluster. The store here is a variable whose reads
 * are held open by the test, to make each race happen every time.
 */
import assert from "node:assert/strict";
import { Synced } from "../../core/server/synced.ts";

/** The bus of one node of a cluster: what it publishes is recorded; `tell` delivers. */
function testBus(clustered = true) {
  const subs = new Map<string, (msg: unknown) => void>();
  const published: string[] = [];
  const resyncs: Array<() => void> = [];
  return {
    clustered,
    onResync: (fn: () => void) => void resyncs.push(fn),
    resync: () => resyncs.forEach((fn) => fn()),
    published,
    publish: (topic: string) => void published.push(topic),
    subscribe: (topic: string, fn: (msg: unknown) => void) => void subs.set(topic, fn),
    tell: (topic: string) => subs.get(topic)!({}),
  };
}

/** A store whose reads wait until the test lets them answer. */
function slowStore(initial: string[]) {
  let rows = initial;
  const waiting: Array<() => void> = [];
  return {
    set: (r: string[]) => void (rows = r),
    read: () => new Promise<string[]>((r) => waiting.push(() => r([...rows]))),
    answer: async () => {
      const deadline = Date.now() + 2000;
      while (waiting.length === 0) {
        if (Date.now() > deadline) throw new Error("the store was not read");
        await new Promise((r) => setTimeout(r, 1));
      }
      waiting.shift()!();
      await new Promise((r) => setTimeout(r, 1));
    },
    pending: () => waiting.length,
  };
}

Deno.test("synced - a snapshot read during this node's write is not applied, and is read again after it", async () => {
  const bus = testBus();
  const store = slowStore(["a"]);
  let memory = ["a"];
  const synced = new Synced(bus, store.read, (r) => (memory = r), (e) => {
    throw e;
  }, "hands");
  // This node adds "b" in memory, then writes it; the write takes a while.
  memory = [...memory, "b"];
  let finishWrite!: () => void;
  const write = synced.write(() => new Promise<void>((r) => (finishWrite = r)));
  // Meanwhile another node changed something: the reload waits for the write.
  bus.tell("hands");
  assert.equal(store.pending(), 0, "no read while a write of this node is under way");
  store.set(["a", "b", "c"]); // the store as it will be once both writes are in
  finishWrite();
  await write;
  assert.deepEqual(bus.published, ["hands"], "the other nodes are told once it is written");
  await store.answer();
  assert.deepEqual(memory, ["a", "b", "c"]);
});

Deno.test("synced - a write that ends while a snapshot is read makes it read again", async () => {
  const bus = testBus();
  const store = slowStore(["a"]);
  let memory = ["a"];
  const applied: string[][] = [];
  const synced = new Synced(bus, store.read, (r) => {
    memory = r;
    applied.push(r);
  }, (e) => {
    throw e;
  });
  bus.tell("synced"); // a read starts, of the store before this node's write
  memory = [...memory, "b"];
  await synced.write(() => {
    store.set(["a", "b"]);
    return Promise.resolve();
  });
  await store.answer(); // the stale read (["a", "b"] was set before it answered: still raced)
  await store.answer(); // the read after the write
  assert.deepEqual(applied, [["a", "b"]], "only the read after the write is applied");
  assert.deepEqual(memory, ["a", "b"]);
  // A failed write tells nobody.
  await assert.rejects(synced.write(() => Promise.reject(new Error("disk full"))));
  assert.deepEqual(bus.published, ["synced"]);
});

Deno.test("synced - a read that failed, or a message lost, is made good at the next resync", async () => {
  const bus = testBus();
  let rows = ["a"];
  let fail = true;
  let memory: string[] = [];
  const errors: unknown[] = [];
  new Synced(
    bus,
    () => {
      if (fail) return Promise.reject(new Error("store out of reach"));
      return Promise.resolve([...rows]);
    },
    (r) => (memory = r),
    (e) => void errors.push(e),
  );
  bus.tell("synced");
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(errors.length, 1, "the failed read is logged");
  assert.deepEqual(memory, []);
  fail = false;
  rows = ["a", "b"]; // changed meanwhile, its message lost
  bus.resync();
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(memory, ["a", "b"]);
});

Deno.test("synced - fresh() reads the store in a cluster, and does nothing on one node", async () => {
  const store = slowStore(["x"]);
  let memory: string[] = [];
  const one = new Synced(testBus(false), store.read, (r) => (memory = r), () => {});
  await one.fresh();
  assert.equal(store.pending(), 0);
  const many = new Synced(testBus(true), store.read, (r) => (memory = r), () => {});
  const f = many.fresh();
  await store.answer();
  await f;
  assert.deepEqual(memory, ["x"]);
});
