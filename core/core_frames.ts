/**
 * The core's own frames, registered through the same registry as any plugin under the
 * reserved namespace "session": login (the unique-name claim), quit and ping.
 */
import { SessionClosing, SessionLogin, SessionPing, SessionQuit } from "../protocol/core.ts";
import { ChatError } from "../protocol/errors.ts";
import { NAME_PATTERN, RESERVED_NAMES } from "../protocol/limits.ts";
import type { MessageSpec } from "../protocol/spec.ts";
import type { ChatServer } from "./server.ts";
import type { ServerSession } from "./session.ts";

const CORE = "session";

export function registerCore(server: ChatServer) {
  const reg = server.registry;
  const on = <T>(spec: MessageSpec<T>, handler: (msg: T, s: ServerSession) => unknown) =>
    reg.addHandler({
      plugin: CORE,
      spec: spec as MessageSpec<unknown>,
      handler: (msg, ctx) => handler(msg as T, ctx.session as ServerSession) as never,
      preAuth: true,
    });

  // session.login {name} -> ack {name} | BAD_NAME | NAME_IN_USE | ALREADY_LOGGED_IN
  on(SessionLogin, ({ name }, s) => {
    if (s.name !== undefined) {
      throw new ChatError("ALREADY_LOGGED_IN", `already logged in as ${s.name}`);
    }
    checkName(name, server.limits.maxNameLength);
    if (!server.sessions.claim(s, name)) {
      throw new ChatError("NAME_IN_USE", `the name "${name}" is taken; choose another`);
    }
    server.runHooks(reg.login, s);
    return { name };
  });

  // session.quit {} -> ack; the router then closes the connection, which frees the name.
  on(SessionQuit, (_msg, s) => {
    s.quitting = true;
  });

  // session.ping {} -> ack
  on(SessionPing, () => {});

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
    "server:register <name>",
    "claim a user name",
    /^(?:server:|\/)(?:register|login|nick)\s+(\S+)$/i,
    (m) => ({ type: SessionLogin.type, name: m[1] }),
    (r) => `registered as ${r.name}`,
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
