/**
 * Login budgets (docs/PROTOCOL.md, "Failed logins") through real TCP clients from several
 * loopback addresses (127.0.0.2, ...): a stranger's wrong passwords lock only their own
 * (account, address) pair, a valid resume token is never refused, guessing from many addresses
 * is slowed (never locked) for addresses the account has not logged in from, and a password
 * change or an operator's reset lifts every lock on the account.
 */
import assert from "node:assert/strict";
import { type Harness, openTestStore, pw, type TestClient, withServer } from "../harness.ts";
import { Accounts } from "../../core/server/accounts/accounts.ts";
import {
  KNOWN_ADDRESSES_PER_ACCOUNT,
  LoginBudget,
  MAX_TRACKED_ACCOUNTS,
} from "../../core/server/accounts/budget.ts";
import { DEFAULT_LIMITS } from "../../protocol/limits.ts";

/** A fresh connection from `address` that has read its welcome. */
async function from(h: Harness, address: string): Promise<TestClient> {
  const c = await h.connect({ localAddress: address });
  await c.expect("welcome");
  return c;
}

/** Creates the account from 127.0.0.1 and logs out; returns its resume token. */
async function register(h: Harness, name: string): Promise<string> {
  const c = await from(h, "127.0.0.1");
  const token = String((await c.login(name)).token);
  await c.ok("session.quit");
  return token;
}

const wrong = (name: string, i = 0) => ({ name, password: `not-the-password-${i}` });

Deno.test("login budget - a stranger's failures from one address do not keep the owner out from another", () =>
  withServer(async (h) => {
    await register(h, "Prof");
    const stranger = await from(h, "127.0.0.2");
    for (let i = 0; i < DEFAULT_LIMITS.loginFailuresPerAccount; i++) {
      assert.equal(await stranger.fails("session.login", wrong("Prof", i)), "BAD_PASSWORD");
    }
    // The stranger's pair is locked, even to the right password ...
    const locked = await stranger.request("session.login", { name: "Prof", password: pw("Prof") });
    assert.equal(locked.code, "RATE_LIMITED");
    const retry = Number(locked.retryAfterMs);
    assert.ok(retry > 0 && retry <= DEFAULT_LIMITS.loginWindowMs, `retryAfterMs ${retry}`);
    // ... but the owner, from an address the account has never used, logs in at once.
    const owner = await from(h, "127.0.0.3");
    assert.equal((await owner.login("Prof")).name, "Prof");
    await owner.ok("session.quit");
    assert.equal(await stranger.fails("session.login", wrong("Prof", 9)), "RATE_LIMITED");
  }));

Deno.test("login budget - a valid resume token is accepted while its address is locked; a wrong one counts", () =>
  withServer(async (h) => {
    const token = await register(h, "Prof");
    await register(h, "Other");
    const c = await from(h, "127.0.0.2");
    // Three typos lock the pair (Prof, 127.0.0.2); two more on Other exhaust the address.
    for (let i = 0; i < 3; i++) {
      assert.equal(await c.fails("session.login", wrong("Prof", i)), "BAD_PASSWORD");
    }
    for (let i = 0; i < 2; i++) {
      assert.equal(await c.fails("session.login", wrong("Other", i)), "BAD_PASSWORD");
    }
    assert.equal(
      await c.fails("session.login", { name: "Prof", password: pw("Prof") }),
      "RATE_LIMITED",
    );
    // The client's automatic reconnect presents its token: accepted, from the same address.
    assert.equal((await c.ok("session.resume", { name: "prof", token })).name, "Prof");
    await c.ok("session.quit");
    const again = await from(h, "127.0.0.2");
    await again.ok("session.resume", { name: "Prof", token });
    await again.ok("session.quit");
    // Wrong tokens have a budget of their own (--login-bad-tokens-per-address): the address's
    // used-up password failures do not refuse one ...
    const guesser = await from(h, "127.0.0.2");
    assert.equal(
      await guesser.fails("session.resume", { name: "Prof", token: token + "x" }),
      "BAD_TOKEN",
    );
    // ... and from a fresh address each wrong token counts against that address's.
    const other = await from(h, "127.0.0.3");
    for (let i = 0; i < 5; i++) {
      assert.equal(
        await other.fails("session.resume", { name: "Prof", token: `${i}${token}` }),
        "BAD_TOKEN",
      );
    }
    assert.equal(await other.fails("session.resume", { name: "Prof", token: "x" }), "RATE_LIMITED");
    assert.equal((await other.ok("session.resume", { name: "Prof", token })).name, "Prof");
  }, {
    limits: { loginFailuresPerAccount: 3, loginFailuresPerAddress: 5, loginBadTokensPerAddress: 5 },
  }));

/** Sends a wrong-password login and resolves with the answer and when it came. */
async function timedFailure(c: TestClient, name: string, t0: number) {
  const r = await c.request("session.login", wrong(name));
  return { code: String(r.code), at: Date.now() - t0, retryAfterMs: r.retryAfterMs };
}

const after = 4, gap = 1000;
Deno.test("login budget - past --login-slowdown-after, unknown addresses wait their turn; known ones skip it", () =>
  withServer(async (h) => {
    await register(h, "Prof"); // 127.0.0.1 is now an address Prof logged in from
    // `after` failures from as many addresses: none is delayed yet.
    const start = Date.now();
    for (let i = 0; i < after; i++) {
      const c = await from(h, `127.0.0.${2 + i}`);
      assert.equal(await c.fails("session.login", wrong("Prof", i)), "BAD_PASSWORD");
    }
    assert.ok(Date.now() - start < gap, `${after} failures took ${Date.now() - start} ms`);

    // Four more unknown addresses at once: served one per `gap`; the fourth would wait past
    // --login-slowdown-max-wait and is refused at once with the time to wait.
    const guessers = [];
    for (let i = 0; i < 4; i++) guessers.push(await from(h, `127.0.0.${10 + i}`));
    const t0 = Date.now();
    const answers = Promise.all(guessers.map((c) => timedFailure(c, "Prof", t0)));
    // Meanwhile the owner, from the address the account knows, is not queued behind them.
    const owner = await from(h, "127.0.0.1");
    const ownerAck = await owner.request("session.login", { name: "Prof", password: pw("Prof") });
    const ownerAt = Date.now() - t0;
    const got = await answers;
    assert.equal(ownerAck.type, "ack", JSON.stringify(ownerAck));
    const refused = got.filter((a) => a.code === "RATE_LIMITED");
    const served = got.filter((a) => a.code === "BAD_PASSWORD").map((a) => a.at).sort((a, b) =>
      a - b
    );
    assert.equal(refused.length, 1, JSON.stringify(got));
    assert.equal(served.length, 3, JSON.stringify(got));
    assert.ok(Number(refused[0].retryAfterMs) > 0, JSON.stringify(refused));
    assert.ok(refused[0].at < served[1], "the refusal does not wait in the queue");
    assert.ok(served[1] >= gap - 50, `second served after ${served[1]} ms, gap ${gap}`);
    assert.ok(served[2] >= 2 * gap - 50, `third served after ${served[2]} ms, gap ${gap}`);
    assert.ok(ownerAt < served[1], `the owner waited ${ownerAt} ms (${JSON.stringify(got)})`);
    await owner.ok("session.quit");

    // A delay, never a lock: from yet another unknown address the right password gets in,
    // after its turn in the queue.
    const t1 = Date.now();
    const newDevice = await from(h, "127.0.0.30");
    assert.equal((await newDevice.login("Prof")).name, "Prof");
    assert.ok(Date.now() - t1 >= gap / 2, `a new address got in after ${Date.now() - t1} ms`);
  }, {
    limits: {
      loginSlowdownAfter: after,
      loginSlowdownMs: gap,
      loginSlowdownMaxWaitMs: 2.5 * gap,
    },
  }));

Deno.test("login budget - one address holds one place in an account's queue: the owner from a new address still gets in", () =>
  withServer(async (h) => {
    await register(h, "Prof");
    for (const address of ["127.0.0.2", "127.0.0.3"]) { // the account is now slowed
      assert.equal(
        await (await from(h, address)).fails("session.login", wrong("Prof")),
        "BAD_PASSWORD",
      );
    }
    // Eight parallel guesses from one address: the first is served at once, the second takes
    // the address's one place in the queue, the other six are refused at once, uncounted.
    const attackers = [];
    for (let i = 0; i < 8; i++) attackers.push(await from(h, "127.0.0.9"));
    const t0 = Date.now();
    const answers = attackers.map((c, i) =>
      c.request("session.login", wrong("Prof", i)).then((r) => ({
        code: String(r.code),
        at: Date.now() - t0,
        retryAfterMs: Number(r.retryAfterMs),
      }))
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The owner, from an address the account never used, queues behind the one place.
    const owner = await from(h, "127.0.0.20");
    const ownerAnswer = await Promise.race([
      owner.request("session.login", { name: "Prof", password: pw("Prof") }),
      owner.expect("session.closing"),
    ]);
    const ownerAt = Date.now() - t0;
    const got = await Promise.all(answers);
    assert.equal(ownerAnswer.type, "ack", JSON.stringify({ ownerAnswer, got }));
    assert.equal(ownerAnswer.name, "Prof");
    const served = got.filter((a) => a.code === "BAD_PASSWORD").map((a) => a.at).sort((a, b) =>
      a - b
    );
    const refused = got.filter((a) => a.code === "RATE_LIMITED");
    assert.equal(served.length, 2, JSON.stringify(got));
    assert.equal(refused.length, 6, JSON.stringify(got));
    assert.ok(refused.every((a) => a.retryAfterMs > 0), JSON.stringify(refused));
    assert.ok(
      refused.every((a) => a.at < served[1]),
      `refusals do not wait: ${JSON.stringify(got)}`,
    );
    assert.ok(served[1] >= gap - 50, `the address's second guess waited ${served[1]} ms`);
    // Behind the address's one place, never behind its eight: two turns at most.
    assert.ok(ownerAt >= served[1], `the owner skipped the queue (${ownerAt} ms)`);
    assert.ok(ownerAt < 2 * gap + 500, `the owner waited ${ownerAt} ms`);
  }, {
    limits: { loginSlowdownAfter: 2, loginSlowdownMs: gap, loginSlowdownMaxWaitMs: 2.5 * gap },
  }));

const slowGap = 3000;
Deno.test("login budget - a turn whose connection closed while it waited goes to the next in line", () =>
  withServer(async (h) => {
    await register(h, "Prof");
    assert.equal(
      await (await from(h, "127.0.0.2")).fails("session.login", wrong("Prof")),
      "BAD_PASSWORD",
    );
    // The account is slowed: a guess from .3 is served at once, one from .4 queues for a turn
    // and is closed by --login-timeout before it comes.
    assert.equal(
      await (await from(h, "127.0.0.3")).fails("session.login", wrong("Prof")),
      "BAD_PASSWORD",
    );
    const t0 = Date.now();
    const leaver = await from(h, "127.0.0.4");
    void leaver.request("session.login", wrong("Prof", 1)).catch(() => {});
    assert.equal((await leaver.expect("session.closing")).code, "LOGIN_TIMEOUT");
    // The owner, from a new address, is behind the closed one's place; it is given back at
    // its turn, so the owner is served then, inside the owner's own --login-timeout.
    const owner = await from(h, "127.0.0.5");
    const ownerAnswer = await Promise.race([
      owner.request("session.login", { name: "Prof", password: pw("Prof") }),
      owner.expect("session.closing"),
    ]);
    assert.equal(ownerAnswer.type, "ack", JSON.stringify(ownerAnswer));
    const ownerAt = Date.now() - t0;
    assert.ok(ownerAt >= slowGap - 200 && ownerAt < 2 * slowGap, `owner served at ${ownerAt} ms`);
  }, {
    limits: {
      loginSlowdownAfter: 1,
      loginSlowdownMs: slowGap,
      loginSlowdownMaxWaitMs: 10 * slowGap,
      loginTimeoutMs: 2000,
    },
  }));

Deno.test("login budget - an operator's reset, or the owner's password change, lifts every lock on the account", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "classchat-budget-" });
  try {
    await withServer(async (h) => {
      await register(h, "Prof");
      // The owner forgot the password and locked their own pair with three tries.
      const owner = await from(h, "127.0.0.3");
      for (let i = 0; i < 3; i++) {
        assert.equal(await owner.fails("session.login", wrong("Prof", i)), "BAD_PASSWORD");
      }
      assert.equal(await owner.fails("session.login", wrong("Prof")), "RATE_LIMITED");
      // `classchat admin reset-password` is another process with its own connection to the
      // store: the server learns of the reset only from the account's row.
      const db = await openTestStore(dataDir);
      const password = await new Accounts(db, { logN: 10, r: 8, p: 1 }, DEFAULT_LIMITS)
        .resetPassword("prof");
      await db.close();
      assert.ok(password);
      assert.equal((await owner.ok("session.login", { name: "Prof", password })).name, "Prof");
      await owner.ok("session.quit");

      // A stranger locks their own pair; the owner's /passwd lifts that lock too.
      const stranger = await from(h, "127.0.0.2");
      for (let i = 0; i < 3; i++) {
        assert.equal(await stranger.fails("session.login", wrong("Prof", i)), "BAD_PASSWORD");
      }
      assert.equal(await stranger.fails("session.login", wrong("Prof")), "RATE_LIMITED");
      const back = await from(h, "127.0.0.3");
      await back.ok("session.login", { name: "Prof", password });
      await back.ok("session.passwd", { old: password, password: "a new passphrase" });
      await back.ok("session.quit");
      assert.equal(await stranger.fails("session.login", wrong("Prof", 8)), "BAD_PASSWORD");
    }, { dataDir, limits: { loginFailuresPerAccount: 3 } });
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("login budget - memory stays bounded however many accounts and addresses log in", async () => {
  const b = new LoginBudget({ ...DEFAULT_LIMITS, loginSlowdownAfter: 1 });
  // Per account, the least recently used address is forgotten first ...
  for (let i = 0; i <= KNOWN_ADDRESSES_PER_ACCOUNT; i++) b.loggedIn("prof", `10.1.0.${i}`);
  b.begin("prof", "10.9.9.9", 0); // one failure: prof is slowed
  assert.equal(b.begin("prof", "10.1.0.1", 0).turn, undefined, "a known address skips the queue");
  assert.equal(
    b.begin("prof", "10.9.9.9", 0).turn,
    undefined,
    "the first unknown one goes at once",
  );
  // ... and then waits its turn like any unknown address.
  const late = b.begin("prof", "10.1.0.0", 0);
  assert.ok(late.turn);
  for (let i = 0; i <= MAX_TRACKED_ACCOUNTS; i++) {
    b.loggedIn(`a${i}`, "10.0.0.1");
    b.begin(`a${i}`, `10.2.${i >> 8}.${i & 255}`, 0); // one failure: the account is slowed
    b.begin(`a${i}`, `10.3.${i >> 8}.${i & 255}`, 0); // so this one takes a turn
  }
  assert.deepEqual(b.tracked, { known: MAX_TRACKED_ACCOUNTS, turns: MAX_TRACKED_ACCOUNTS });
  // prof's queue, the least recently used, was forgotten: who waited in it goes now.
  await late.turn;
});
