/**
 * The server-side registry: every frame handler, hook, plain-text command and renderer, keyed
 * by frame type. Plugins fill it through scoped ServerApi objects (see plugin_host.ts); the
 * router only reads it. Registration enforces namespaces and rejects duplicates at start-up.
 */
import type { MessageSpec } from "../../protocol/spec.ts";
import type {
  HandlerCtx,
  HandlerResult,
  Journal,
  LogoutReason,
  Replayed,
  Session,
  TextCommand,
} from "../../plugins/types.ts";

export interface HandlerEntry {
  plugin: string;
  spec: MessageSpec<unknown>;
  handler: (msg: unknown, ctx: HandlerCtx) => HandlerResult | Promise<HandlerResult>;
  preAuth: boolean;
  pipelined?: boolean;
}

export interface TextEntry extends TextCommand {
  plugin: string;
}

export class Registry {
  readonly handlers = new Map<string, HandlerEntry>();
  readonly renderers = new Map<string, (msg: unknown) => string>();
  /** How a replayed frame is marked in plain text (ServerApi.text.replayed), and by whom. */
  replayed: { plugin: string; fn: (m: Replayed) => string } | undefined;
  /** Marks after names in plain text (ServerApi.text.badge), in registration order. */
  readonly badges: Array<(name: string) => string | undefined> = [];
  readonly textCommands: TextEntry[] = [];
  readonly startup: Array<() => void | Promise<void>> = [];
  readonly shutdown: Array<() => void | Promise<void>> = [];
  readonly login: Array<(s: Session) => void> = [];
  /** Awaited before a login is claimed (ServerApi.onLoginLoad). */
  readonly loginLoad: Array<(account: string) => Promise<void>> = [];
  readonly logout: Array<(s: Session, reason: LogoutReason) => void> = [];
  /** Services plugins offer each other by name (see ServerApi.provide). */
  readonly services = new Map<string, unknown>();
  /** Who each plugin relates an account to (see ServerApi.relations). */
  readonly relations: Array<(account: string) => Iterable<string>> = [];
  /** The message log, if a plugin provides one (see ServerApi.journal). */
  journal: { plugin: string; log: Journal } | undefined;

  setJournal(plugin: string, log: Journal) {
    if (this.journal) {
      throw new Error(`the message log is provided by both ${this.journal.plugin} and ${plugin}`);
    }
    this.journal = { plugin, log };
  }

  addHandler(entry: HandlerEntry) {
    const type = entry.spec.type;
    assertNamespace(entry.plugin, type);
    const prior = this.handlers.get(type);
    if (prior) {
      throw new Error(
        `frame type "${type}" registered by both ${prior.plugin} and ${entry.plugin}`,
      );
    }
    this.handlers.set(type, entry);
  }

  setReplayed(plugin: string, fn: (m: Replayed) => string) {
    if (this.replayed) {
      throw new Error(`replays are marked by both ${this.replayed.plugin} and ${plugin}`);
    }
    this.replayed = { plugin, fn };
  }

  /** A name as plain text shows it, with its marks: `Prof (staff)`. */
  badgedName(name: string): string {
    let shown = name;
    for (const fn of this.badges) {
      const mark = fn(name);
      if (mark) shown += ` (${mark})`;
    }
    return shown;
  }

  addRenderer(plugin: string, type: string, fn: (msg: unknown) => string) {
    assertNamespace(plugin, type);
    if (this.renderers.has(type)) throw new Error(`renderer for "${type}" registered twice`);
    this.renderers.set(type, fn);
  }

  addTextCommand(entry: TextEntry) {
    if (!entry.usage || !entry.summary) {
      throw new Error(
        `plain-text command ${entry.match} of ${entry.plugin} lacks usage or summary`,
      );
    }
    this.textCommands.push(entry);
  }
}

/** A plugin registers only in its own namespace: `dm` owns `dm.*`. */
function assertNamespace(plugin: string, type: string) {
  if (!type.startsWith(plugin + ".")) {
    throw new Error(`plugin "${plugin}" may not register frame type "${type}"`);
  }
}
