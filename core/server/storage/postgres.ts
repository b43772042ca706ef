/**
 * PostgreSQL adapter for the storage port (`classchat serve --store postgres://...`), on
 * npm:postgres. It keeps the SQLite adapter's promises, so plugins see one store:
 *
 * - One connection, and transactions group-committed as in sqlite.ts: every transaction asked
 *   for in one turn of the event loop runs in one BEGIN ... COMMIT, each in its own savepoint,
 *   and none is answered before the COMMIT (synchronous_commit: on disk). While a group is
 *   open, every other statement waits for it, or it would run inside the group.
 * - The statements are SQLite's, turned into PostgreSQL's by pg_sql.ts; an INSERT into a table
 *   with an identity column returns it (`lastId`, as SQLite's rowid).
 * - Integers come back as numbers (int8, numeric), bytes as Uint8Array.
 *
 * The URL may name a schema (`postgres://host/db?schema=classchat`, default `public`),
 * created if missing: tests give each server its own.
 */
import postgres from "postgres";
import { Mutex } from "../../mutex.ts";
import type { Db, Row, SqlValue } from "./db.ts";
import { insertTable, toPostgres } from "./pg_sql.ts";
import { ChatError } from "../../../protocol/errors.ts";

/** The driver's and the socket's ways of saying the database cannot be reached. */
const DOWN = /^(CONNECTION_|CONNECT_TIMEOUT|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND)/;

/** A lost database is UNAVAILABLE to the client (it may try again, or another node), not an
 *  INTERNAL failure of the handler: the node recovers when the database is back (the driver
 *  connects again at the next statement). */
function reachable<T>(p: Promise<T>): Promise<T> {
  return p.catch((e) => {
    throw unavailable(e) ?? e;
  });
}

/** SQLSTATEs of a database that cannot take work now: shutting down or starting (57P01-3),
 *  a connection failure (class 08), too many connections (53300), read-only after a
 *  failover (25006), the timeouts set below (lock 55P03, statement 57014, idle in a
 *  transaction 25P03), and a transaction the database ended to break a deadlock or a
 *  serialization conflict (40P01, 40001): nodes' group commits can take locks of different
 *  features in any order; the work was rolled back and may be asked again. */
const UNAVAILABLE_STATES = /^(57P0[123]|08...|53300|25006|55P03|57014|25P03|40P01|40001)$/;

/** The connection itself is gone (the rest of a transaction cannot go on). */
function lost(e: unknown): boolean {
  const code = String((e as { code?: unknown }).code ?? "");
  return DOWN.test(code) || /^(57P0[123]|08...)$/.test(code);
}

function unavailable(e: unknown): ChatError | undefined {
  if (e instanceof ChatError) return e.code === "UNAVAILABLE" ? e : undefined;
  const code = String((e as { code?: unknown }).code ?? "");
  const noSeverity = !(e as { severity?: unknown }).severity;
  if (
    DOWN.test(code) || UNAVAILABLE_STATES.test(code) ||
    (e instanceof Error && noSeverity && /ECONNREFUSED|connection/i.test(e.message))
  ) {
    return new ChatError("UNAVAILABLE", "the server cannot reach its database now; try again soon");
  }
  return undefined;
}

type Sql = ReturnType<typeof postgres>;

/** How long to wait for the server to accept a connection before the store is "down". */
const CONNECT_TIMEOUT_S = 5;
/** The longest wait between two tries to reach a lost database. */
const RECONNECT_MAX_S = 2;
/** A transaction idle this long is ended by the database (a node that froze holding a lock). */
const IDLE_IN_TX_MS = 10_000;
/** The longest wait for a lock (the message log's, an account's session), and for any one
 *  statement: past them the request is UNAVAILABLE, not hung. */
const LOCK_WAIT_MS = 10_000;
const STATEMENT_MS = 30_000;

/** The URL without its `schema` parameter, and the schema (default `public`). */
export function parseStoreUrl(url: string): { url: string; schema: string } {
  const u = new URL(url);
  const schema = u.searchParams.get("schema") ?? "public";
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`--store: schema "${schema}" must be lower-case letters, digits and _`);
  }
  u.searchParams.delete("schema");
  return { url: u.toString(), schema };
}

export async function openPostgres(storeUrl: string): Promise<Db> {
  const { url, schema } = parseStoreUrl(storeUrl);
  const asNumber = { to: 20, from: [20, 1700], serialize: String, parse: Number };
  const sql = postgres(url, {
    max: 1,
    onnotice: () => {},
    connect_timeout: CONNECT_TIMEOUT_S,
    // Trying again after losing the database: at most RECONNECT_MAX_S apart (the driver's
    // default grows to 20 s), so a node is back within seconds of the database.
    backoff: (attempts: number) => Math.min(0.1 * 2 ** attempts, RECONNECT_MAX_S),
    // A node frozen in a transaction (holding the log's lock) is cut off by the database,
    // and no statement or lock wait hangs a request for ever: past these it is UNAVAILABLE.
    connection: {
      search_path: schema,
      // As text with its unit: a bare number is not taken as milliseconds by every path.
      idle_in_transaction_session_timeout: `${IDLE_IN_TX_MS}ms` as unknown as number,
      lock_timeout: `${LOCK_WAIT_MS}ms` as unknown as number,
      statement_timeout: `${STATEMENT_MS}ms` as unknown as number,
    },
    types: { bigint: asNumber },
  });
  // Nodes starting together may race to create it: the loser finds it made.
  await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch(async () => {
    await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  });
  const db = new PgDb(sql, schema);
  await db.loadIdentities();
  return db;
}

/** Statements on the one connection, run at once (inside a transaction, or outside one). */
class Statements {
  readonly sharedByNodes = true;
  constructor(protected readonly sql: Sql, protected readonly shared: Shared) {}

  async runNow(text: string, params: SqlValue[]) {
    const table = insertTable(text);
    const id = table && this.shared.identities.get(table);
    let q = toPostgres(text);
    if (id && !/\bRETURNING\b/i.test(q)) q += ` RETURNING ${id} AS last_id`;
    const r = await reachable(this.sql.unsafe(q, params as never[]));
    // On the same connection: inside a transaction, the pool's other handle would wait for it.
    if (/^\s*(CREATE|ALTER|DROP)\b/i.test(text)) await this.shared.reload(this.sql);
    const last = r.at(-1) as { last_id?: number } | undefined;
    return { changes: r.count ?? 0, lastId: Number(last?.last_id ?? 0) };
  }

  async allNow<R extends Row>(text: string, params: SqlValue[]): Promise<R[]> {
    const rows = await reachable(this.sql.unsafe(toPostgres(text), params as never[]));
    return [...rows] as unknown as R[];
  }

  async getNow<R extends Row>(text: string, params: SqlValue[]): Promise<R | undefined> {
    return (await this.allNow<R>(text, params))[0];
  }

  /** A transaction-level advisory lock: released by the COMMIT or ROLLBACK. */
  async lock(key: string): Promise<void> {
    await reachable(
      this.sql.unsafe("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [key]),
    );
  }
}

interface Shared {
  /** Table -> its identity column (what an INSERT returns as lastId). */
  identities: Map<string, string>;
  reload(on: Sql): Promise<void>;
}

class PgDb extends Statements implements Db {
  readonly #queue = new Mutex();
  #inTx = false;
  #waiting: Array<Waiting<unknown>> = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(sql: Sql, schema: string) {
    const identities = new Map<string, string>();
    super(sql, {
      identities,
      reload: async (on) => {
        const rows = await on.unsafe(
          "SELECT table_name, column_name FROM information_schema.columns" +
            " WHERE table_schema = $1 AND is_identity = 'YES'",
          [schema],
        );
        identities.clear();
        for (const r of rows) identities.set(String(r.table_name), String(r.column_name));
      },
    });
  }

  loadIdentities(): Promise<void> {
    return this.shared.reload(this.sql);
  }

  run(text: string, params: SqlValue[] = []) {
    return this.tx((t) => t.run(text, params));
  }

  all<R extends Row = Row>(text: string, params: SqlValue[] = []): Promise<R[]> {
    if (!this.#inTx) return this.allNow<R>(text, params);
    return this.#queue.run(() => this.allNow<R>(text, params));
  }

  get<R extends Row = Row>(text: string, params: SqlValue[] = []): Promise<R | undefined> {
    if (!this.#inTx) return this.getNow<R>(text, params);
    return this.#queue.run(() => this.getNow<R>(text, params));
  }

  tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push({ fn, resolve, reject } as Waiting<unknown>);
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#queue.run(() => this.#group()).catch(() => {});
      }, 0);
    });
  }

  /** The transactions waiting, each in a savepoint, in one PostgreSQL transaction. */
  async #group(): Promise<void> {
    const group = this.#waiting;
    this.#waiting = [];
    if (group.length === 0) return;
    const done: Array<() => void> = [];
    this.#inTx = true;
    try {
      // The driver's own transaction, on one connection it holds: a connection lost midway
      // fails the whole group, never goes on in autocommit on a new one.
      await reachable(this.sql.begin(async (tx) => {
        for (const t of group) {
          try {
            const result = await tx.savepoint((sp) =>
              t.fn(new TxDb(sp as unknown as Sql, this.shared))
            );
            done.push(() => t.resolve(result));
          } catch (e) {
            if (lost(e)) throw e; // the connection: nothing of the group is stored
            done.push(() => t.reject(e));
          }
        }
      }));
    } catch (e) {
      const why = unavailable(e) ?? e;
      for (const t of group) t.reject(why);
      return;
    } finally {
      this.#inTx = false;
    }
    for (const answer of done) answer();
  }

  close(): Promise<void> {
    return this.#queue.run(async () => {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      while (this.#waiting.length) await this.#group();
      await this.sql.end({ timeout: 5 });
    });
  }
}

interface Waiting<T> {
  fn: (db: Db) => Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

/** The handle a transaction's fn receives: runs at once; a nested tx joins the outer one. */
class TxDb extends Statements implements Db {
  run(text: string, params: SqlValue[] = []) {
    return this.runNow(text, params);
  }
  all<R extends Row = Row>(text: string, params: SqlValue[] = []): Promise<R[]> {
    return this.allNow<R>(text, params);
  }
  get<R extends Row = Row>(text: string, params: SqlValue[] = []): Promise<R | undefined> {
    return this.getNow<R>(text, params);
  }
  tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return fn(this);
  }
  close(): Promise<void> {
    return Promise.reject(new Error("close the store, not a transaction"));
  }
}
