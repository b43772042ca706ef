/**
 * The core's own frames, registered through the same registry as any plugin under the
 * reserved namespace "session": accounts and login (the unique-name claim), quit and ping.
 *
 * One session per account, so "who is Alice" always has one answer: a second password login
 * while the account is online is refused with NAME_IN_USE. A resume with a valid token is
 * the same client coming back (after a network drop the server may not have noticed yet),
 * so it replaces the old session, which is closed with SESSION_REPLACED (docs/PROTOCOL.md).
 */
import {
  SessionAccount,
  SessionAck,
  SessionClosing,
  SessionLogin,
  SessionPasswd,
  SessionPing,
  SessionQuit,
  SessionResume,
} from "../../protocol/core.ts";
import { ChatError } from "../../protocol/errors.ts";
import { NAME_PATTERN, RESERVED_NAMES } from "../../protocol/limits.ts";
import type { MessageSpec } from "../../protocol/spec.ts";
import type { Answer, HandlerResult } from "../../plugins/types.ts";
import type { Hub } from "./hub.ts";
import type { ServerSession } from "./session.ts";

/** The core's own namespace: its frames are `session.*`. */
export const CORE = "session";

export function registerCore(hub: Hub) {
  const reg = hub.registry;
  // Transaction ids (core/server/txn.ts): an account's recorded answers are loaded at its login
  // (below) and forgotten in memory when it leaves. Its table is made at start-up, and its
  // last writes are committed after every plugin's shutdown hook (which may finish requests).
  reg.startup.push(async () => {
    await hub.txns.open();
    reg.shutdown.push(() => hub.txns.close());
  });
  reg.logout.push((s) => hub.txns.release(s.name!));
  /** Core frames are allowed before login unless `preAuth` says otherwise. A handler returns
   *  its spec's ack fields, as a plugin's must (ServerApi.on). */
  const on = <T, A extends HandlerResult>(
    spec: MessageSpec<T, A>,
    handler: (msg: T, s: ServerSession) => Answer<A>,
    preAuth = true,
    pipelined = false,
  ) =>
    reg.addHandler({
      plugin: CORE,
      spec: spec as MessageSpec<unknown>,
      handler: (msg, ctx) => handler(msg as T, ctx.session as ServerSession),
      preAuth,
      pipelined,
    });

  // session.account {name} -> ack {name, exists}
  on(SessionAccount, async ({ name }) => {
    checkName(name, hub.limits.maxNameLength);
    return { name, exists: await hub.accounts.exists(name) };
  });

  /** Checks what can be checked before the slow part of a login. */
  const before = (s: ServerSession, name: string, replace = false) => {
    if (s.name !== undefined) {
      throw new ChatError("ALREADY_LOGGED_IN", `already logged in as ${s.name}`);
    }
    checkName(name, hub.limits.maxNameLength);
    if (!replace) refuseIfOnline(name);
  };
  const refuseIfOnline = (name: string) => {
    const other = hub.sessions.get(name);
    if (other) {
      throw new ChatError(
        "NAME_IN_USE",
        `${other.name} is already logged in from another connection; quit there first`,
      );
    }
  };
  /** After the password or token was checked: claims the name, with no await in between. */
  /** What the core and the plugins keep of an account, read again before it logs in. */
  const loadAccount = async (name: string) => {
    await hub.txns.load(name);
    for (const fn of reg.loginLoad) await fn(name);
  };

  /** In a cluster, the account's one session is claimed cluster-wide first (NAME_IN_USE if a
   *  live node holds it; a resume takes it over), then here. */
  const claimEverywhere = async (s: ServerSession, name: string, replace = false) => {
    await hub.cluster?.claim(name, replace);
    try {
      claim(s, name, replace);
    } catch (e) {
      // Not ours after all (closed, or another session here got it first): give back the
      // claim unless that other session here holds it now.
      if (!hub.sessions.get(name)) hub.cluster?.release(name).catch(() => {});
      throw e;
    }
  };

  const claim = (s: ServerSession, name: string, replace = false) => {
    if (s.closed) throw new ChatError("INTERNAL", "the connection closed during login");
    const other = hub.sessions.get(name);
    // closeSession frees the name before its first await, so the claim below succeeds.
    if (replace && other) hub.closeLater(other as ServerSession, "SESSION_REPLACED");
    refuseIfOnline(name);
    hub.sessions.claim(s, name);
    hub.guard.loggedIn(s);
    hub.runHooks(reg.login, s);
  };

  // The login budgets count a client by s.guard.address, the guard's address key (an IPv4 address
  // or an IPv6 /64, see conn.ts addressKey), never the raw remote address: one IPv6 host
  // holds a whole /64 and would otherwise get a fresh budget per address it picks.

  // session.login {name, password} -> ack {name, created, token} | BAD_NAME | WEAK_PASSWORD |
  //   BAD_PASSWORD | RATE_LIMITED | NAME_IN_USE | ALREADY_LOGGED_IN; the answer may be delayed
  //   while the account is being guessed at (core/server/accounts/budget.ts).
  on(SessionLogin, async ({ name, password, binary }, s) => {
    before(s, name);
    const r = await hub.accounts.login(name, password, s.guard.address, () => s.closed);
    await loadAccount(r.name);
    s.binary = binary;
    await claimEverywhere(s, r.name);
    return { ...r };
  });

  // session.resume {name, token} -> ack {name} | BAD_TOKEN | RATE_LIMITED (only a wrong token
  // from an address out of budget: a valid one is never refused) | ...; replaces a session of
  // the same account (closed with SESSION_REPLACED).
  on(SessionResume, async ({ name, token, binary }, s) => {
    before(s, name, true);
    const r = await hub.accounts.resume(name, token, s.guard.address);
    await loadAccount(r.name);
    s.binary = binary;
    await claimEverywhere(s, r.name, true);
    return r;
  });

  // session.passwd {old, password} -> ack {token} | BAD_PASSWORD | WEAK_PASSWORD | RATE_LIMITED
  on(
    SessionPasswd,
    ({ old, password }, s) =>
      hub.accounts.changePassword(s.name!, old, password, s.guard.address, () => s.closed),
    false,
  );

  // session.quit {} -> ack; the router then closes the connection, which frees the name.
  on(SessionQuit, (_msg, s) => {
    s.quitting = true;
  });

  // session.ping {} -> ack
  on(SessionPing, () => {});

  // session.ack {upTo}: moves the delivery cursor, if a journal keeps one; never answered.
  // Pipelined: it depends on what this session was sent, not on its own requests still
  // waiting for the log's commit, so the read loop need not stop for them (a client acks
  // after every burst; waiting there held each connection's reads to one commit a burst).
  on(SessionAck, ({ upTo }, s) => hub.registry.journal?.log.ack(s, upTo), false, true);

  reg.addRenderer(CORE, SessionClosing.type, (f) => {
    const m = SessionClosing.decode(f as never);
    return `closing ${m.code}: ${m.message}`;
  });
  const text = (
    usage: string,
    summary: string,
    match: RegExp,
    toFrame: (m: RegExpMatchArray) => Record<string, unknown> & { type: string },
    ack?: (r: Record<string, unknown>) => string,
  ) => reg.addTextCommand({ plugin: CORE, usage, summary, match, toFrame, ack });
  text(
    "server:register <name> <password>",
    "log in (a new name is created with this password)",
    /^(?:server:|\/)(?:register|login|nick)(?:\s+(\S+))?(?:\s+(\S.*))?$/i,
    (m) => {
      if (!m[1] || !m[2]) {
        throw new ChatError("BAD_FRAME", "usage: server:register <name> <password>");
      }
      return { type: SessionLogin.type, name: m[1], password: m[2] };
    },
    (r) => `${r.created ? "created account" : "logged in as"} ${r.name}`,
  );
  text(
    "server:exit",
    "leave the chat",
    /^(?:server:|\/)(?:exit|quit)$/i,
    () => ({ type: SessionQuit.type }),
    () => "bye",
  );
}

/** Names: 1..max characters of NAME_PATTERN, not reserved. Throws BAD_NAME. */
export function checkName(name: string, max: number) {
  if (name.length === 0 || name.length > max) {
    throw new ChatError("BAD_NAME", `a name has 1 to ${max} characters`);
  }
  if (!NAME_PATTERN.test(name)) {
    throw new ChatError(
      "BAD_NAME",
      "a name starts with a letter or digit and uses only letters, digits, _ - .",
    );
  }
  if (RESERVED_NAMES.has(name.toLowerCase())) {
    throw new ChatError("BAD_NAME", `"${name}" is reserved`);
  }
}
