/**
 * The storage port, on the store this run uses: SQLite, or PostgreSQL when the run gives
 * CLASSCHAT_TEST_STORE (`deno task test` runs this file on both). What only one of them has
 * (SQLite's WAL, how each counts commits) is tested on that one.
 */
import assert from "node:assert/strict";
import { openSqlite } from "../../core/server/storage/sqlite.ts";
import { ON_POSTGRES, openScratchStore, openTestStore } from "../harness.ts";
import { migrate } from "../../core/server/storage/migrate.ts";
import type { Migration } from "../../core/server/storage/db.ts";

/** The first schema of a test plugin, frozen: later versions only append. */
const V1: Migration[] = [{ sql: "CREATE TABLE notes_items (id INTEGER PRIMARY KEY, body TEXT)" }];
const V2: Migration[] = [
  ...V1,
  {
    sql: "ALTER TABLE notes_items ADD COLUMN ts INTEGER; CREATE INDEX notes_ts ON notes_items(ts)",
  },
];

Deno.test("storage - migrations run once, in order, and upgrades keep data", async () => {
  const dir = await Deno.makeTempDir();
  let db = await openTestStore(dir);
  await migrate(db, "notes", V1);
  await migrate(db, "notes", V1); // idempotent
  await db.run("INSERT INTO notes_items (body) VALUES (?)", ["kept"]);
  await db.close();

  db = await openTestStore(dir); // a restart with a newer build
  await migrate(db, "notes", V2);
  await db.run("INSERT INTO notes_items (body, ts) VALUES (?, ?)", ["new", 5]);
  const rows = await db.all("SELECT body, ts FROM notes_items ORDER BY id");
  assert.deepEqual(rows.map((r) => ({ ...r })), [{ body: "kept", ts: null }, {
    body: "new",
    ts: 5,
  }]);
  const versions = await db.all("SELECT version FROM core_migrations WHERE owner = 'notes'");
  assert.deepEqual(versions.map((r) => r.version), [1, 2]);
  await db.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("storage - a store written by a newer build is refused, not corrupted", async () => {
  const db = await openScratchStore();
  await migrate(db, "notes", V2);
  await assert.rejects(migrate(db, "notes", V1), /newer ClassChat/);
  await db.close();
});

Deno.test("storage - a failing migration leaves nothing half-applied", async () => {
  const db = await openScratchStore();
  await assert.rejects(
    migrate(db, "bad", [{ sql: "CREATE TABLE bad_t (a TEXT); SELECT nonsense FROM nowhere" }]),
  );
  await assert.rejects(async () => await db.get("SELECT count(*) AS n FROM bad_t"), /bad_t/);
  await db.close();
});

Deno.test("storage - tx commits on success and rolls back on throw; get/all/run", async () => {
  const db = await openScratchStore();
  await db.run("CREATE TABLE t (v INTEGER)");
  await db.tx(async (tx) => {
    await tx.run("INSERT INTO t VALUES (?)", [1]);
  });
  await assert.rejects(
    db.tx(async (tx) => {
      await tx.run("INSERT INTO t VALUES (?)", [2]);
      throw new Error("boom");
    }),
    /boom/,
  );
  const r = await db.run("INSERT INTO t VALUES (?)", [3]);
  assert.equal(r.changes, 1);
  assert.deepEqual((await db.all("SELECT v FROM t ORDER BY v")).map((x) => x.v), [1, 3]);
  assert.equal((await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM t"))!.n, 2);
  await db.close();
});

Deno.test("storage - concurrent transactions do not interleave", async () => {
  const db = await openScratchStore();
  await db.run("CREATE TABLE t (v INTEGER)");
  const order: string[] = [];
  await Promise.all([1, 2].map((n) =>
    db.tx(async (tx) => {
      order.push(`begin${n}`);
      await new Promise((r) => setTimeout(r, 10));
      await tx.run("INSERT INTO t VALUES (?)", [n]);
      order.push(`end${n}`);
    })
  ));
  assert.deepEqual(order, ["begin1", "end1", "begin2", "end2"]);
  await db.close();
});

Deno.test(
  { name: "storage - the file store uses WAL with synchronous FULL", ignore: ON_POSTGRES },
  async () => {
    const dir = await Deno.makeTempDir();
    const db = openSqlite(`${dir}/s.db`);
    assert.equal((await db.get("PRAGMA journal_mode"))!.journal_mode, "wal");
    assert.equal((await db.get("PRAGMA synchronous"))!.synchronous, 2); // 2 = FULL
    await db.close();
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test("storage - work started while a transaction awaits waits for it, and survives its rollback", async () => {
  const db = await openScratchStore();
  await db.run("CREATE TABLE t (v INTEGER)");
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const a = db.tx(async (tx) => {
    await tx.run("INSERT INTO t VALUES (1)");
    await gate; // another connection's handler runs here
    throw new Error("A fails");
  });
  await new Promise((r) => setTimeout(r, 5)); // A is open and waiting
  const b = db.tx(async (tx) => void await tx.run("INSERT INTO t VALUES (2)"));
  const plain = db.run("INSERT INTO t VALUES (3)");
  release();
  await assert.rejects(a, /A fails/);
  await b;
  await plain;
  assert.deepEqual((await db.all("SELECT v FROM t ORDER BY v")).map((x) => x.v), [2, 3]);
  await db.close();
});

Deno.test("storage - writes asked for in one turn share one commit; each still commits or rolls back alone", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/classchat.db`;
  const db = await openTestStore(dir);
  try {
    await migrate(db, "notes", V1);
    // Counts COMMITs. SQLite: the WAL's commit frames, read after the fact, would need a
    // parser, so a second connection reads data_version, which moves once per commit made by
    // another connection. PostgreSQL: each transaction names its own transaction id.
    const { DatabaseSync } = await import("node:sqlite");
    const watcher = ON_POSTGRES ? undefined : new DatabaseSync(path);
    const version = () =>
      (watcher!.prepare("PRAGMA data_version").get() as { data_version: number })
        .data_version;
    const before = ON_POSTGRES ? 0 : version();
    const xids = new Set<unknown>();
    const xid = async (t: typeof db) => {
      if (ON_POSTGRES) xids.add((await t.get("SELECT txid_current() AS x"))!.x);
    };
    const results = await Promise.allSettled([
      db.run("INSERT INTO notes_items (body) VALUES (?)", ["a"]),
      db.tx(async (t) => {
        await xid(t);
        await t.run("INSERT INTO notes_items (body) VALUES (?)", ["b"]);
        throw new Error("b changes its mind");
      }),
      db.tx(async (t) => {
        await xid(t);
        await t.run("INSERT INTO notes_items (body) VALUES (?)", ["c"]);
        return "c done";
      }),
      db.run("INSERT INTO no_such_table (x) VALUES (1)"),
      db.run("INSERT INTO notes_items (body) VALUES (?)", ["d"]),
    ]);
    assert.deepEqual(results.map((r) => r.status), [
      "fulfilled",
      "rejected",
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    assert.equal((results[2] as PromiseFulfilledResult<string>).value, "c done");
    const rows = await db.all<{ body: string }>("SELECT body FROM notes_items ORDER BY id");
    assert.deepEqual(rows.map((r) => r.body), ["a", "c", "d"]);
    if (ON_POSTGRES) assert.equal(xids.size, 1, "one transaction for the five");
    else assert.equal(version() - before, 1, "one commit for the five");
    watcher?.close();
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("storage - close commits what was asked for before it", async () => {
  const dir = await Deno.makeTempDir();
  let db = await openTestStore(dir);
  await migrate(db, "notes", V1);
  const write = db.run("INSERT INTO notes_items (body) VALUES (?)", ["last"]);
  await db.close();
  await write;
  db = await openTestStore(dir);
  assert.deepEqual((await db.all("SELECT body FROM notes_items")).map((r) => r.body), ["last"]);
  await db.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name:
    "storage - a transaction PostgreSQL ends to break a deadlock between nodes is UNAVAILABLE (try again), the other goes on",
  ignore: !ON_POSTGRES, // SQLite has one writer: no lock waits, no deadlock
  async fn() {
    // Two stores on one database: two nodes (advisory locks are database-wide).
    const [a, b] = [await openScratchStore(), await openScratchStore()];
    try {
      const pause = () => new Promise((r) => setTimeout(r, 300));
      const results = await Promise.allSettled([
        a.tx(async (t) => {
          await t.lock("test.deadlock.x");
          await pause();
          await t.lock("test.deadlock.y");
        }),
        b.tx(async (t) => {
          await t.lock("test.deadlock.y");
          await pause();
          await t.lock("test.deadlock.x");
        }),
      ]);
      const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
      assert.equal(failed.length, 1, "the database ends one of the two, and only one");
      assert.equal((failed[0].reason as { code?: string }).code, "UNAVAILABLE");
    } finally {
      await a.close();
      await b.close();
    }
  },
});
