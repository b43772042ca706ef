/**
 * Login budgets and shared addresses (docs/PROTOCOL.md, "Failed logins"), through real TCP
 * clients: budgets count a client by its address key (an IPv4 address, an IPv6 /64) on every
 * login path, and a stranger on a classroom's NAT address cannot keep the accounts that log in
 * from it out, neither with wrong resume tokens nor with wrong passwords.
 */
import assert from "node:assert/strict";
import { type Harness, pw, TestClient, withServer } from "../harness.ts";
import { spawnServer } from "../process.ts";
import type { ServerSession } from "../../core/server/session.ts";

/** A fresh connection from `address` that has read its welcome. */
async function from(h: Harness, address: string): Promise<TestClient> {
  const c = await h.connect({ localAddress: address });
  await c.expect("welcome");
  return c;
}

/** Creates the account from `address` and logs out; returns its resume token. */
async function register(h: Harness, name: string, address = "127.0.0.1"): Promise<string> {
  const c = await from(h, address);
  const token = String((await c.login(name)).token);
  await c.ok("session.quit");
  return token;
}

/** The server's session of the connection from `host`, the newest if several. */
function sessionFrom(h: Harness, host: string): ServerSession {
  const all = [...h.server.sessions.all].filter((s) => s.remote.startsWith(`${host}:`));
  assert.ok(all.length, `no session from ${host}`);
  return all.at(-1)! as ServerSession;
}

const wrong = (name: string, i = 0) => ({ name, password: `not-the-password-${i}` });

Deno.test("login budget - sessions are counted by their address key on login, resume and passwd", async () => {
  // Two hosts of one IPv6 /64 would share a key; loopback offers one IPv6 address (::1), so
  // two loopback hosts are given one such key, as the guard would for 2001:db8:0:1::a and ::b.
  const key = "2001:db8:0:1::/64";
  await withServer(async (h) => {
    const token = await register(h, "Prof");
    const a = await from(h, "127.0.0.2");
    const b = await from(h, "127.0.0.3");
    // The guard keys an IPv4 client by its address, port and all.
    const [sa, sb] = [sessionFrom(h, "127.0.0.2"), sessionFrom(h, "127.0.0.3")];
    assert.deepEqual([sa.guard.address, sb.guard.address], ["127.0.0.2", "127.0.0.3"]);
    sa.guard.address = sb.guard.address = key;
    try {
      // session.login: a's two wrong passwords lock the pair (Prof, key), b included.
      for (let i = 0; i < 2; i++) {
        assert.equal(await a.fails("session.login", wrong("Prof", i)), "BAD_PASSWORD");
      }
      assert.equal(
        await b.fails("session.login", { name: "Prof", password: pw("Prof") }),
        "RATE_LIMITED",
      );
      // session.resume: wrong tokens from a and b draw on one budget (2).
      assert.equal(await a.fails("session.resume", { name: "Prof", token: "x" }), "BAD_TOKEN");
      assert.equal(await b.fails("session.resume", { name: "Prof", token: "y" }), "BAD_TOKEN");
      assert.equal(await a.fails("session.resume", { name: "Prof", token: "z" }), "RATE_LIMITED");
      // session.passwd: b, back by its token, is still the locked pair (Prof, key).
      await b.ok("session.resume", { name: "Prof", token });
      assert.equal(
        await b.fails("session.passwd", { old: pw("Prof"), password: "a new passphrase" }),
        "RATE_LIMITED",
      );
    } finally {
      // The guard counts connections per key: give them back under the keys it counted.
      sa.guard.address = "127.0.0.2";
      sb.guard.address = "127.0.0.3";
    }
  }, { limits: { loginFailuresPerAccount: 2, loginBadTokensPerAddress: 2 } });
});

Deno.test("login budget - wrong resume tokens from a shared address do not use up its password logins", () =>
  withServer(async (h) => {
    const token = await register(h, "Prof");
    const stranger = await from(h, "127.0.0.7");
    for (let i = 0; i < 6; i++) {
      assert.equal(
        await stranger.fails("session.resume", { name: "Prof", token: "x".repeat(42) + i }),
        "BAD_TOKEN",
      );
    }
    // One past --login-bad-tokens-per-address: refused, with the time to wait.
    const r = await stranger.request("session.resume", { name: "Prof", token: "x".repeat(43) });
    assert.equal(r.code, "RATE_LIMITED");
    assert.ok(Number(r.retryAfterMs) > 0, JSON.stringify(r));
    // The classroom behind the same address logs in and signs up as usual ...
    const prof = await from(h, "127.0.0.7");
    assert.equal((await prof.login("Prof")).name, "Prof");
    await prof.ok("session.quit");
    const student = await from(h, "127.0.0.7");
    assert.equal((await student.login("NewStudent")).created, true);
    // ... and a valid token is still accepted from it.
    const back = await from(h, "127.0.0.7");
    assert.equal((await back.ok("session.resume", { name: "Prof", token })).name, "Prof");
  }, { limits: { loginFailuresPerAddress: 4, loginBadTokensPerAddress: 6 } }));

Deno.test("login budget - a stranger who uses up a shared address's failures cannot keep out the accounts that log in from it", () =>
  withServer(async (h) => {
    await register(h, "Prof", "127.0.0.7"); // Prof logs in from the classroom's address
    await register(h, "Other");
    await register(h, "Third");
    const stranger = await from(h, "127.0.0.7");
    for (const name of ["Other", "Other", "Third"]) {
      assert.equal(await stranger.fails("session.login", wrong(name)), "BAD_PASSWORD");
    }
    // The address has used up its failures: sign-ups from it, and logins to accounts that
    // never logged in from it, wait for the window ...
    assert.equal(
      await stranger.fails("session.login", { name: "Newcomer", password: pw("Newcomer") }),
      "RATE_LIMITED",
    );
    assert.equal(
      await stranger.fails("session.login", { name: "Third", password: pw("Third") }),
      "RATE_LIMITED",
    );
    // ... but Prof, who logged in from it before, logs in with the right password.
    const prof = await from(h, "127.0.0.7");
    assert.equal((await prof.login("Prof")).name, "Prof");
    await prof.ok("session.quit");
    // The (account, address) pair limit is as before: guesses at Prof from here lock the pair.
    for (let i = 0; i < 2; i++) {
      assert.equal(await stranger.fails("session.login", wrong("Prof", i)), "BAD_PASSWORD");
    }
    assert.equal(
      await stranger.fails("session.login", { name: "Prof", password: pw("Prof") }),
      "RATE_LIMITED",
    );
  }, { limits: { loginFailuresPerAddress: 3, loginFailuresPerAccount: 2 } }));

Deno.test("serve cli - --login-bad-tokens-per-address reaches the server", async () => {
  const server = await spawnServer(["--login-bad-tokens-per-address=2"]);
  try {
    const c = await TestClient.connect(server.port, { caCert: server.cert });
    await c.expect("welcome");
    for (const token of ["x", "y"]) {
      assert.equal(await c.fails("session.resume", { name: "Prof", token }), "BAD_TOKEN");
    }
    assert.equal(await c.fails("session.resume", { name: "Prof", token: "z" }), "RATE_LIMITED");
    c.close();
  } finally {
    await server.stop();
  }
});
