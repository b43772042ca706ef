/**
 * staff, through a real server over TCP: an admin names staff and removes them; everyone online
 * is told, each login brings the roster, plain text and the terminal client mark staff where
 * they show names; named staff get the class tools' powers (the queue here); it survives a
 * restart. Then the operator's `classchat admin add-staff` beside a running server, as a real
 * process with the task's permissions, applied at the account's next login.
 */
import assert from "node:assert/strict";
import { startServer, testStoreArgs } from "../../tests/harness.ts";
import { appClient } from "../../tests/app.ts";
import { runCli } from "../../tests/process.ts";

const CLASS = { admins: ["Prof"], pluginOptions: { "class-room": ["cs350"] } };

Deno.test("staff - two admins naming the same person at once: one ack, one ALREADY_STAFF, one notice", async () => {
  const h = await startServer({ ...CLASS, admins: ["Prof", "Dean"] });
  try {
    const [prof, dean, ann] = await h.users("Prof", "Dean", "Ann");
    await h.users("Tom");
    const both = await Promise.all([
      prof.request("staff.add", { name: "Tom" }),
      dean.request("staff.add", { name: "Tom" }),
    ]);
    assert.deepEqual(both.map((r) => r.type === "ack" ? "ack" : r.code).sort(), [
      "ALREADY_STAFF",
      "ack",
    ]);
    await ann.expect("staff.changed");
    await ann.expectNone("staff.changed", 300);
  } finally {
    await h.close();
  }
});

Deno.test("staff - admins name and remove staff; everyone is told; staff are marked and get the tools' powers; a restart keeps them", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "classchat-staff-" });
  try {
    let h = await startServer({ dataDir, ...CLASS });
    const [prof, tom, ann] = await h.users("Prof", "Tom", "Ann");
    assert.deepEqual((await ann.expect("staff.roster")).staff, ["Prof"]);

    assert.equal(await tom.fails("queue.open"), "STAFF_ONLY");
    assert.equal(await ann.fails("staff.add", { name: "Tom" }), "ADMIN_ONLY");
    assert.equal(await prof.fails("staff.add", { name: "Nobody" }), "NO_SUCH_USER");
    assert.equal((await prof.ok("staff.add", { name: "tom" })).name, "Tom");
    const told = await ann.expect("staff.changed");
    assert.deepEqual([told.name, told.staff, told.by], ["Tom", true, "Prof"]);
    assert.equal(await prof.fails("staff.add", { name: "Tom" }), "ALREADY_STAFF");
    assert.equal(await prof.fails("staff.add", { name: "Prof" }), "ALREADY_STAFF");
    assert.equal(await prof.fails("staff.remove", { name: "Prof" }), "ALWAYS_STAFF");
    assert.equal(await prof.fails("staff.remove", { name: "Ann" }), "NOT_STAFF");
    assert.deepEqual((await ann.ok("staff.list")).staff, [
      { name: "Prof", admin: true },
      { name: "Tom", admin: false },
    ]);
    await tom.ok("queue.open"); // named staff have the class tools' powers

    // Plain text: the list, and a staff member's name marked in a message.
    const nc = await h.connect();
    await nc.expect("welcome");
    await nc.sendRaw("server:register Nia nia-secret\r\n");
    await nc.expectLine(/^created account Nia$/);
    await nc.sendRaw("server:staff\r\n");
    await nc.expectLine(/^staff: Prof \(admin\), Tom$/);
    await tom.ok("dm.send", { receiver: "Nia", text: "office hours are open" });
    await nc.expectLine(/^Tom \(staff\): office hours are open$/);
    await ann.ok("dm.send", { receiver: "Nia", text: "see you there" });
    await nc.expectLine(/^Ann: see you there$/);

    // The terminal client marks staff wherever it shows a name.
    const bea = await appClient(h, "Bea");
    await tom.ok("dm.send", { receiver: "Bea", text: "hello" });
    await bea.waitFor(/^Tom \(staff\): \[unencrypted\] hello$/);
    bea.type("/staff");
    await bea.waitFor(/^\* staff: Prof \(admin\), Tom$/);
    bea.type("/who");
    await bea.waitFor(/^\* online \(\d\): .*Prof \(staff\).*Tom \(staff\)/);
    await bea.app.quit();

    // A restart keeps the named staff.
    await h.close();
    h = await startServer({ dataDir, ...CLASS });
    const [ann2, prof2, tom2] = await h.users("Ann", "Prof", "Tom");
    assert.deepEqual((await ann2.expect("staff.roster")).staff, ["Prof", "Tom"]);
    await prof2.ok("staff.remove", { name: "Tom" });
    const gone = await ann2.expect("staff.changed");
    assert.deepEqual([gone.name, gone.staff], ["Tom", false]);
    assert.equal(await tom2.fails("queue.close"), "STAFF_ONLY");
    await h.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("staff - classchat admin add-staff, list-staff and remove-staff beside a running server, applied at the next login", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "classchat-staff-cli-" });
  const admin = (...args: string[]) =>
    runCli(["admin", ...args, "--data", dataDir, ...testStoreArgs(dataDir)]);
  try {
    const h = await startServer({ dataDir, ...CLASS });
    const [tom, ann] = await h.users("Tom", "Ann");
    tom.close();

    const missing = await admin("add-staff", "Nobody");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no account named "Nobody": they must log in once first/);
    const added = await admin("add-staff", "tom");
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^Tom is now staff\na running server applies it/);
    assert.match((await admin("add-staff", "Tom")).stdout, /^Tom is staff already/);
    assert.match((await admin("list-staff")).stdout, /^Tom \(named .* UTC by the operator\)$/m);

    // Tom's next login: the server reads it, and everyone online is told.
    const [tom2] = await h.users("Tom");
    const told = await ann.expect("staff.changed");
    assert.deepEqual([told.name, told.staff, told.by], ["Tom", true, undefined]);
    await tom2.ok("queue.open");

    // The operator makes Ann an admin: at her next login, everyone online is told she is staff.
    assert.equal((await admin("add-admin", "Ann")).code, 0);
    ann.close();
    await tom2.gone("Ann");
    await h.users("Ann");
    const annStaff = await tom2.expect("staff.changed");
    assert.deepEqual([annStaff.name, annStaff.staff], ["Ann", true]);

    const removed = await admin("remove-staff", "Tom");
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /^Tom is no longer staff/);
    assert.equal((await admin("remove-staff", "Tom")).code, 1);
    await h.close();
    const noStore = await runCli(["admin", "list-staff", "--data", `${dataDir}/nothing`]);
    assert.equal(noStore.code, 1);
    assert.match(noStore.stderr, /no ClassChat store at/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
