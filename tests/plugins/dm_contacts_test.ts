/** The dm plugin's record of who has written to whom (bounded, durable): it relates DM
 *  partners, so presence tells them about each other, also after a restart. */
import assert from "node:assert/strict";
import { startServer, withServer } from "../harness.ts";
import { PLUGINS } from "../../plugins/mod.ts";
import { openSqlite } from "../../core/server/storage/sqlite.ts";
import { migrate } from "../../core/server/storage/migrate.ts";
import { createLogger } from "../../core/log.ts";
import { Contacts, DM_MIGRATIONS, MAX_CONTACTS } from "../../plugins/dm/contacts.ts";

Deno.test("dm contacts - partners stay related across a restart; a stranger is not told", async () => {
  const dir = await Deno.makeTempDir({ prefix: "classchat-contacts-" });
  try {
    let h = await startServer({ dataDir: dir });
    const [alice] = await h.users("Alice", "Bob", "Erin");
    await alice.ok("dm.send", { receiver: "Bob", text: "lunch?" });
    await h.close();

    h = await startServer({ dataDir: dir });
    const [alice2, erin] = await h.users("Alice", "Erin");
    await h.users("Bob");
    assert.equal((await alice2.expect("presence.joined")).name, "Bob");
    await erin.expectNone("presence.joined");
    await h.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dm contacts - a message that was refused (USER_OFFLINE) relates no one", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    bob.close();
    await alice.gone("Bob");
    // No message log: a message to someone offline is refused, so it was never written.
    assert.equal(await alice.fails("dm.send", { receiver: "Bob", text: "hi" }), "USER_OFFLINE");
    await h.users("Bob");
    await alice.expectNone("presence.joined");
  }, { plugins: PLUGINS.filter((p) => p.name !== "offline") }));

Deno.test(`dm contacts - an account keeps its ${MAX_CONTACTS} most recent partners, in memory and in the store`, async () => {
  const dir = await Deno.makeTempDir({ prefix: "classchat-contacts-" });
  const path = `${dir}/classchat.db`;
  try {
    let db = openSqlite(path);
    await migrate(db, "dm", DM_MIGRATIONS);
    const log = createLogger("silent");
    const contacts = new Contacts(db, log);
    const t0 = Date.now();
    // p0 first, then p1 .. p100; then p1 again, so p2 is the oldest when p101 comes.
    for (let i = 0; i <= MAX_CONTACTS; i++) contacts.touch("Alice", `p${i}`, t0 + i);
    contacts.touch("Alice", "p1", t0 + 4 * 3600 * 1000);
    const now = [...contacts.of("alice")];
    assert.equal(now.length, MAX_CONTACTS);
    assert.ok(!now.includes("p0"), "the oldest partner is forgotten");
    assert.equal(now.at(-1), "p1", "most recent last");
    assert.deepEqual([...contacts.of("p0")], ["Alice"], "p0 still remembers Alice");
    await db.close();

    db = openSqlite(path);
    const again = new Contacts(db, log);
    await again.load();
    assert.deepEqual(new Set(again.of("Alice")), new Set(now));
    assert.equal([...again.of("alice")].at(-1), "p1");
    await db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
