/**
 * Installs plugins: checks names and requirements, runs each plugin's migrations, and hands
 * each a ServerApi scoped to its own namespace and log prefix (nothing global is shared).
 */
import type { MessageSpec } from "../../protocol/spec.ts";
import type { Plugin, ServerApi, Session } from "../../plugins/types.ts";
import { encodeFrame, encodeLine } from "../../protocol/framing.ts";
import { optionName, readSetting } from "../../protocol/settings.ts";
import type { Hub } from "./hub.ts";
import type { ServerSession } from "./session.ts";
import { migrate } from "./storage/migrate.ts";
import { registerCore } from "./core_frames.ts";
import { frameOf } from "./dispatch.ts";
import { ACCOUNT_MIGRATIONS, ACCOUNTS_OWNER } from "./accounts/accounts.ts";

export async function installPlugins(hub: Hub, plugins: Plugin[]) {
  checkPluginList(plugins);
  for (const p of plugins) if (p.errors) hub.errors.add(p.name, p.errors);
  await migrate(hub.db, ACCOUNTS_OWNER, ACCOUNT_MIGRATIONS);
  await hub.accounts.load();
  registerCore(hub);
  for (const p of plugins) {
    if (p.migrations?.length) await migrate(hub.db, p.name, p.migrations);
    await p.server?.(serverApi(hub, p.name));
  }
  hub.pluginNames = plugins.map((p) => p.name);
  for (const fn of hub.registry.startup) await fn();
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

function serverApi(hub: Hub, plugin: string): ServerApi {
  const reg = hub.registry;
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
    onLoginLoad: (fn) => void reg.loginLoad.push(fn),
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
    send: (to, spec, body) => hub.send(to as ServerSession, frameOf(spec, body)),
    relay(to, frame, json) {
      const bytes = json === undefined ? encodeFrame(frame) : encodeLine(json);
      for (const s of to) hub.send(s as ServerSession, frame, bytes);
    },
    writable: (s) => (s as ServerSession).outbox.whenBelow(hub.limits.sendQueueBytes / 2),
    broadcast(spec, body, except) {
      const frame = frameOf(spec, body);
      hub.broadcast(frame, except as ServerSession | undefined);
      hub.bus.publish("core.broadcast", { frame });
    },
    sendTo(name, spec, body) {
      const here = hub.sessions.get(name);
      if (here) return hub.send(here, frameOf(spec, body)), true;
      const node = hub.sessions.remoteNode(name);
      if (node !== undefined) {
        hub.bus.publish("core.tell", { to: name, frame: frameOf(spec, body) }, node);
      }
      return node !== undefined;
    },
    text: {
      command: (def) => reg.addTextCommand({ ...def, plugin }),
      render: (spec, fn) =>
        reg.addRenderer(plugin, spec.type, (frame) => fn(spec.decode(frame as never))),
      replayed: (fn) => reg.setReplayed(plugin, fn),
      badge: (fn) => void reg.badges.push(fn),
      name: (name) => reg.badgedName(name),
    },
    sessions: hub.sessions,
    bus: {
      get node() {
        return hub.bus.node;
      },
      get clustered() {
        return hub.bus.clustered;
      },
      publish: (topic, msg, node) => hub.bus.publish(`${plugin}.${topic}`, msg, node),
      subscribe: (topic, fn) => hub.bus.subscribe(`${plugin}.${topic}`, fn),
      onResync: (fn) => hub.bus.onResync(fn),
    },
    accounts: {
      canonical: (name) => hub.accounts.canonical(name),
      names: () => hub.accounts.names(),
      // Marked in the store (classchat admin add-admin), or named by serve --admin, which
      // checks at start that the account exists (see commands/serve.ts).
      isAdmin: (name) => hub.admins.has(name.toLowerCase()) || hub.accounts.isAdmin(name),
    },
    // Read through the declaration: typed, its default when not given (the CLI checked it).
    setting: (def) => readSetting(def, hub.pluginOptions[optionName(def)]),
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
    dataDir: hub.dataDir,
    db: hub.db,
    limits: hub.limits,
    log: hub.log.child(plugin),
  };
}
