/**
 * Who is logged in where, across nodes: the one-session-per-account rule cluster-wide, and
 * `/who` for everyone. The truth is in the shared store (cluster_sessions: an account's one
 * session and its node; cluster_nodes: each node's heartbeat); every node keeps a mirror of
 * the others' sessions, told by the bus (core.online) and read again from the store at each
 * heartbeat, so a node that dies (kill -9) stops counting once its heartbeat is stale.
 *
 *   claim(account, replace)  in one transaction: a stale node's row is deleted; a live other
 *                            node's row refuses the login (NAME_IN_USE), or with `replace` (a
 *                            resume) is taken over and that node told to close its session
 *   release(account)         the session ended here
 */
import { ChatError } from "../../protocol/errors.ts";
import type { Db, Migration } from "./storage/db.ts";
import type { Bus } from "./bus.ts";

/** How often a node writes its heartbeat, and after how long without one it is dead. */
export const HEARTBEAT_MS = 2000;
export const NODE_DEAD_MS = 5 * HEARTBEAT_MS;

export const CLUSTER_OWNER = "core.cluster";
export const CLUSTER_MIGRATIONS: Migration[] = [{
  sql: `
    CREATE TABLE cluster_nodes (
      node TEXT PRIMARY KEY,
      seen_at INTEGER NOT NULL);
    CREATE TABLE cluster_sessions (
      account TEXT PRIMARY KEY,      -- lower case
      name TEXT NOT NULL,
      node TEXT NOT NULL,
      since INTEGER NOT NULL)`,
}];

export class Cluster {
  /** Other nodes' sessions: lower-cased account -> {name, node}. */
  readonly #remote = new Map<string, { name: string; node: string }>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    /** Closes this node's session of an account (another node took it over). */
    private readonly kick: (account: string) => void,
    /** The lower-cased accounts logged in on this node now. */
    private readonly local: () => Iterable<string>,
    private readonly log: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    const node = this.bus.node;
    // Sessions this node held before a crash are over.
    await this.db.run("DELETE FROM cluster_sessions WHERE node = ?", [node]);
    await this.#beat();
    this.bus.subscribe("core.online", (m) => {
      const { name, node, on } = m as { name: string; node: string; on: boolean };
      const key = name.toLowerCase();
      if (on) this.#remote.set(key, { name, node });
      else if (this.#remote.get(key)?.node === node) this.#remote.delete(key);
    });
    this.bus.subscribe("core.kick", (m) => {
      const { account, node } = m as { account: string; node: string };
      if (node === this.bus.node) this.kick(account);
    });
    this.#timer = setInterval(() => {
      this.#beat().catch((e) => this.log(`cluster heartbeat failed: ${e}`));
    }, HEARTBEAT_MS);
  }

  /** Runs at each heartbeat with the time of the one before (accounts made since). */
  onBeat: (since: number) => Promise<void> = () => Promise.resolve();
  #lastBeat = 0;

  /** Writes this node's heartbeat and reads every live node's sessions again. */
  async #beat(): Promise<void> {
    const now = Date.now();
    if (this.#lastBeat) await this.onBeat(this.#lastBeat - HEARTBEAT_MS);
    this.#lastBeat = now;
    await this.db.run(
      "INSERT INTO cluster_nodes (node, seen_at) VALUES (?, ?)" +
        " ON CONFLICT (node) DO UPDATE SET seen_at = excluded.seen_at",
      [this.bus.node, now],
    );
    const rows = await this.db.all<{ account: string; name: string; node: string }>(
      "SELECT s.account, s.name, s.node FROM cluster_sessions s JOIN cluster_nodes n" +
        " ON n.node = s.node WHERE n.seen_at >= ? AND s.node <> ?",
      [now - NODE_DEAD_MS, this.bus.node],
    );
    this.#remote.clear();
    for (const r of rows) this.#remote.set(r.account, { name: r.name, node: r.node });
    await this.#reconcile(rows);
  }

  /** Accounts being claimed here right now (their row is written before the session). */
  readonly #claiming = new Set<string>();

  /** The store and this node agree again, whatever bus message was lost: a session here
   *  whose account another node now holds is closed (a lost kick), and a row of this node
   *  with no session here is deleted (a logout whose release failed). */
  async #reconcile(remote: Array<{ account: string }>): Promise<void> {
    const here = new Set(this.local());
    for (const r of remote) if (here.has(r.account)) this.kick(r.account);
    const mine = await this.db.all<{ account: string }>(
      "SELECT account FROM cluster_sessions WHERE node = ?",
      [this.bus.node],
    );
    for (const r of mine) {
      if (here.has(r.account) || this.#claiming.has(r.account)) continue;
      await this.db.run("DELETE FROM cluster_sessions WHERE account = ? AND node = ?", [
        r.account,
        this.bus.node,
      ]);
    }
  }

  /** Takes `name`'s one session for this node, or throws NAME_IN_USE. */
  async claim(name: string, replace: boolean): Promise<void> {
    // Without the bus, this node cannot tell the others of the login, nor hear of a kick:
    // it takes no new sessions until NATS is back (a load balancer sends people elsewhere).
    if (!this.bus.healthy()) {
      throw new ChatError("UNAVAILABLE", "this node has lost its cluster bus; try again soon");
    }
    const account = name.toLowerCase();
    const me = this.bus.node;
    this.#claiming.add(account);
    setTimeout(() => this.#claiming.delete(account), HEARTBEAT_MS * 2);
    const held = await this.db.tx(async (t) => {
      await t.lock(`session:${account}`);
      const row = await t.get<{ node: string; seen_at: number | null }>(
        "SELECT s.node, n.seen_at FROM cluster_sessions s LEFT JOIN cluster_nodes n" +
          " ON n.node = s.node WHERE s.account = ?",
        [account],
      );
      const live = row && row.node !== me && (row.seen_at ?? 0) >= Date.now() - NODE_DEAD_MS;
      if (live && !replace) return row.node;
      await t.run(
        "INSERT INTO cluster_sessions (account, name, node, since) VALUES (?, ?, ?, ?)" +
          " ON CONFLICT (account) DO UPDATE SET name = excluded.name, node = excluded.node," +
          " since = excluded.since",
        [account, name, me, Date.now()],
      );
      // Told even when its node looks dead: it may only be slow (or its clock behind).
      if (row && row.node !== me) this.bus.publish("core.kick", { account, node: row.node });
      return undefined;
    });
    if (held) {
      throw new ChatError(
        "NAME_IN_USE",
        `${name} is already logged in from another connection; quit there first`,
      );
    }
    this.#remote.delete(account);
    this.bus.publish("core.online", { name, node: me, on: true });
  }

  /** The session of `name` on this node ended. */
  async release(name: string): Promise<void> {
    await this.db.run("DELETE FROM cluster_sessions WHERE account = ? AND node = ?", [
      name.toLowerCase(),
      this.bus.node,
    ]);
    this.bus.publish("core.online", { name, node: this.bus.node, on: false });
  }

  /** Names logged in on other nodes. */
  remoteNames(): string[] {
    return [...this.#remote.values()].map((r) => r.name);
  }

  /** The node another session of `name` is on, as last heard. */
  nodeOf(name: string): string | undefined {
    return this.#remote.get(name.toLowerCase())?.node;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.db.run("DELETE FROM cluster_sessions WHERE node = ?", [this.bus.node]);
    await this.db.run("DELETE FROM cluster_nodes WHERE node = ?", [this.bus.node]);
  }
}
