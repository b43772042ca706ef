/**
 * Installs plugins: checks names and requirements, runs each plugin's migrations, and hands
 * each a ServerApi scoped to its own namespace and log prefix (nothing global is shared).
 */
import { ChatError, type ErrorCode } from "../protocol/errors.ts";
import type { MessageSpec, RawFrame } from "../protocol/spec.ts";
import type { HandlerCtx, Plugin, PostResult, ServerApi, Session } from "../plugins/types.ts";
import { encodeFrame } from "../protocol/framing.ts";
import type { ChatServer } from "./server.ts";
import type { ServerSession } from "./session.ts";
import { migrate } from "./storage/migrate.ts";
import { registerCore } from "./core_frames.ts";
import { ACCOUNT_MIGRATIONS, ACCOUNTS_OWNER } from "./accounts/accounts.ts";

export async function installPlugins(server: ChatServer, plugins: Plugin[]) {
  checkPluginList(plugins);
  await migrate(server.db, ACCOUNTS_OWNER, ACCOUNT_MIGRATIONS);
  await server.accounts.load();
  registerCore(server);
  for (const p of plugins) {
    if (p.migrations?.length) await migrate(server.db, p.name, p.migrations);
    await p.server?.(serverApi(server, p.name));
  }
  server.pluginNames = plugins.map((p) => p.name);
  for (const fn of server.registry.startup) await fn();
}

/** Start-up fails on duplicate or malformed names and on missing requirements. */
export function checkPluginList(plugins: Plugin[]) {
  const names = new Set<string>();
  for (const p of plugins) {
    if (!/^[a-z][a-z0-9_]*$/.test(p.name) || p.name === "session") {
      throw new Error(`invalid plugin name "${p.name}"`);
    }
    if (names.has(p.name)) throw new Error(`plugin "${p.name}" is listed twice`);
    names.add(p.name);
  }
  for (const p of plugins) {
    for (const r of p.requires ?? []) {
      if (!names.has(r)) throw new Error(`plugin "${p.name}" requires plugin "${r}"`);
    }
  }
}

export function frameOf<T>(spec: MessageSpec<T>, body: T): Record<string, unknown> {
  return { type: spec.type, ...body as Record<string, unknown> };
}

/** The context handed to one invocation of a handler. */
export function handlerCtx(server: ChatServer, s: ServerSession): HandlerCtx {
  return {
    session: s,
    post({ conv, to, spec, body }) {
      const frame = frameOf(spec, body) as RawFrame;
      const journal = server.registry.journal?.log;
      if (journal) return journal.append({ conv, sender: s.name!, to, frame });
      // No log: push to whoever is online, encoded once; the rest did not get it.
      const result: PostResult = { sent: [], stored: [], offline: [] };
      let json: Uint8Array | undefined;
      for (const name of to) {
        const target = server.sessions.get(name);
        // A receiver just cut off as too slow did not get it either.
        if (target && server.send(target, frame, json ??= encodeFrame(frame))) {
          result.sent.push(target.name!);
        } else result.offline.push(name);
      }
      return result;
    },
    reply: (spec, body) => server.send(s, frameOf(spec, body)),
    fail(code: ErrorCode, message?: string): never {
      throw new ChatError(code, message);
    },
    meter() {
      const over = server.guard.spend(s);
      if (over) throw over;
    },
  };
}

function serverApi(server: ChatServer, plugin: string): ServerApi {
  const reg = server.registry;
  return {
    on(spec, handler, opts) {
      reg.addHandler({
        plugin,
        spec: spec as MessageSpec<unknown>,
        handler: handler as never,
        preAuth: opts?.preAuth ?? false,
        pipelined: opts?.pipelined ?? false,
      });
    },
    onStartup: (fn) => void reg.startup.push(fn),
    onShutdown: (fn) => void reg.shutdown.push(fn),
    onLogin: (fn) => void reg.login.push(fn),
    onLogout: (fn) => void reg.logout.push(fn),
    journal: (j) => reg.setJournal(plugin, j),
    sessionState<S>(init: () => S) {
      const key = {};
      return (s: Session) => {
        const state = (s as ServerSession).state;
        if (!state.has(key)) state.set(key, init());
        return state.get(key) as S;
      };
    },
    send: (to, spec, body) => server.send(to as ServerSession, frameOf(spec, body)),
    relay(to, frame) {
      const json = encodeFrame(frame);
      for (const s of to) server.send(s as ServerSession, frame, json);
    },
    writable: (s) => (s as ServerSession).outbox.whenBelow(server.limits.sendQueueBytes / 2),
    broadcast: (spec, body, except) =>
      server.broadcast(frameOf(spec, body), except as ServerSession | undefined),
    text: {
      command: (def) => reg.addTextCommand({ ...def, plugin }),
      render: (spec, fn) =>
        reg.addRenderer(plugin, spec.type, (frame) => fn(spec.decode(frame as never))),
    },
    sessions: server.sessions,
    accounts: {
      canonical: (name) => server.accounts.canonical(name),
      names: () => server.accounts.names(),
      // Marked in the store (classchat admin add-admin), or named by serve --admin, which
      // checks at start that the account exists (see commands/serve.ts).
      isAdmin: (name) => server.admins.has(name.toLowerCase()) || server.accounts.isAdmin(name),
    },
    option: (name) => server.pluginOptions[name] ?? [],
    provide(name, service) {
      if (!name.startsWith(plugin + ".")) {
        throw new Error(`plugin "${plugin}" may not provide service "${name}"`);
      }
      if (reg.services.has(name)) throw new Error(`service "${name}" is provided twice`);
      reg.services.set(name, service);
    },
    service: <T>(name: string) => reg.services.get(name) as T | undefined,
    relations: (fn) => void reg.relations.push(fn),
    related(account) {
      const out = new Set<string>();
      const me = account.toLowerCase();
      for (const fn of reg.relations) {
        for (const name of fn(account)) if (name.toLowerCase() !== me) out.add(name.toLowerCase());
      }
      return out;
    },
    dataDir: server.dataDir,
    db: server.db,
    limits: server.limits,
    log: server.log.child(plugin),
  };
}
