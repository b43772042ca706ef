import assert from "node:assert/strict";
import { dumpTestStore, openTestStore, pw, startServer, withServer } from "../harness.ts";
import { ACCOUNT_MIGRATIONS, ACCOUNTS_OWNER } from "../../core/server/accounts/accounts.ts";
import { hashPassword } from "../../core/server/accounts/password.ts";
import { migrate } from "../../core/server/storage/migrate.ts";

Deno.test("accounts - the first login sets the password; later logins need it", () =>
  withServer(async (h) => {
    const a = await h.connect();
    assert.equal((await a.ok("session.account", { name: "Alice" })).exists, false);
    assert.equal(
      await a.fails("session.login", { name: "Alice", password: "short" }),
      "WEAK_PASSWORD",
    );
    const first = await a.login("Alice");
    assert.equal(first.created, true);
    assert.match(String(first.token), /^[\w-]{43}$/);
    await a.ok("session.quit");
    const b = await h.connect();
    assert.equal((await b.ok("session.account", { name: "alice" })).exists, true);
    assert.equal(
      await b.fails("session.login", { name: "alice", password: "not-the-password" }),
      "BAD_PASSWORD",
    );
    const again = await b.ok("session.login", { name: "alice", password: pw("Alice") });
    assert.deepEqual([again.name, again.created], ["Alice", false]);
  }));

Deno.test("accounts - failed logins are limited per account and address, then the right password waits too", () =>
  withServer(async (h) => {
    const [bob] = await h.users("Bob");
    await bob.ok("session.quit");
    const c = await h.connect();
    for (let i = 0; i < 3; i++) {
      assert.equal(
        await c.fails("session.login", { name: "Bob", password: `guess-${i}xx` }),
        "BAD_PASSWORD",
      );
    }
    const r = await c.request("session.login", { name: "Bob", password: pw("Bob") });
    assert.equal(r.code, "RATE_LIMITED");
    assert.ok(Number(r.retryAfterMs) > 0 && Number(r.retryAfterMs) <= 60_000, `${r.retryAfterMs}`);
    // Another account from the same address is not locked by Bob's failures.
    await c.login("Carol");
    // Once the window has passed, Bob's own password works again.
    const wait = Number(r.retryAfterMs) + 50;
    await new Promise((resolve) => setTimeout(resolve, wait));
    const d = await h.connect();
    await d.login("Bob");
  }, { limits: { loginFailuresPerAccount: 3, loginWindowMs: 1500 } }));

Deno.test("accounts - failed logins are limited per address across accounts", () =>
  withServer(async (h) => {
    const names = ["A1", "A2", "A3", "A4"];
    for (const c of await h.users(...names)) await c.ok("session.quit");
    const guesser = await h.connect();
    for (const name of names) {
      assert.equal(
        await guesser.fails("session.login", { name, password: "wrong-pass" }),
        "BAD_PASSWORD",
      );
    }
    // Four failures from this address: even a new account may not be created from it now.
    assert.equal(
      await guesser.fails("session.login", { name: "A5", password: pw("A5") }),
      "RATE_LIMITED",
    );
    // Wrong resume tokens have a budget of their own (loginBadTokensPerAddress), so they
    // neither use up nor are refused by this one (login_shared_address_test.ts).
    assert.equal(await guesser.fails("session.resume", { name: "A1", token: "x" }), "BAD_TOKEN");
  }, { limits: { loginFailuresPerAddress: 4, loginFailuresPerAccount: 100 } }));

Deno.test("accounts - a second login to an online account is refused; the first keeps working", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    const again = await h.connect();
    assert.equal(
      await again.fails("session.login", { name: "alice", password: pw("Alice") }),
      "NAME_IN_USE",
    );
    await bob.ok("dm.send", { receiver: "Alice", text: "still you?" });
    assert.equal((await alice.expect("dm.message")).text, "still you?");
    await again.expectNone("dm.message");
  }));

Deno.test("accounts - passwords and resume tokens are stored only as hashes; tokens survive a restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "classchat-accounts-" });
  try {
    let h = await startServer({ dataDir });
    const [alice] = await h.users("Alice");
    const ack = await alice.ok("session.passwd", {
      old: pw("Alice"),
      password: "a much longer passphrase",
    });
    const token = String(ack.token);
    await h.close();

    const store = await dumpTestStore(dataDir);
    assert.ok(store.includes("scrypt$10$8$1$"), "an scrypt hash with its parameters is stored");
    for (const secret of [pw("Alice"), "a much longer passphrase", token]) {
      assert.ok(!store.includes(secret), `"${secret}" must not be in the store`);
    }

    h = await startServer({ dataDir });
    try {
      const c = await h.connect();
      assert.equal(
        await c.fails("session.resume", { name: "Alice", token: token + "x" }),
        "BAD_TOKEN",
      );
      assert.equal((await c.ok("session.resume", { name: "alice", token })).name, "Alice");
      const d = await h.connect();
      assert.equal(
        await d.fails("session.login", { name: "Alice", password: pw("Alice") }),
        "NAME_IN_USE",
      );
    } finally {
      await h.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("accounts - /passwd checks the old password and revokes earlier resume tokens", () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice");
    assert.equal(
      await alice.fails("session.passwd", { old: "wrong-old-pw", password: "new-password-1" }),
      "BAD_PASSWORD",
    );
    assert.equal(
      await alice.fails("session.passwd", { old: pw("Alice"), password: "short" }),
      "WEAK_PASSWORD",
    );
    const before = await h.connect();
    await alice.ok("session.quit");
    const first = await before.login("Alice");
    const newToken = String(
      (await before.ok("session.passwd", { old: pw("Alice"), password: "new-password-1" })).token,
    );
    await before.ok("session.quit");
    const c = await h.connect();
    assert.equal(
      await c.fails("session.resume", { name: "Alice", token: String(first.token) }),
      "BAD_TOKEN",
    );
    assert.equal(
      await c.fails("session.login", { name: "Alice", password: pw("Alice") }),
      "BAD_PASSWORD",
    );
    await c.ok("session.resume", { name: "Alice", token: newToken });
  }));

Deno.test("accounts - a store made before admin marks is upgraded in place; its accounts keep working", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "classchat-accounts-" });
  try {
    // The accounts schema as the first release made it (migration 1 only), with one account.
    const db = await openTestStore(dataDir);
    await migrate(db, ACCOUNTS_OWNER, ACCOUNT_MIGRATIONS.slice(0, 1));
    const hash = await hashPassword(pw("Alice"), { logN: 10, r: 8, p: 1 });
    await db.run(
      "INSERT INTO session_accounts (name_key, name, password, created_at, updated_at)" +
        " VALUES ('alice', 'Alice', ?, 1, 1)",
      [hash],
    );
    await db.close();
    await withServer(async (h) => {
      const [alice] = await h.users("Alice");
      assert.equal(h.server.accounts.isAdmin("Alice"), false);
      await alice.ok("session.quit");
    }, { dataDir });
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
