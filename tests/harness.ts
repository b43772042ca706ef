/**
 * Test harness: a real server on port 0 with an in-memory or temporary store, and real TCP
 * clients that read like a conversation:
 *
 *   const [alice, bob] = await h.users("Alice", "Bob");
 *   await alice.ok("dm.send", { receiver: "Bob", text: "hi" });
 *   assert.equal((await bob.expect("dm.message")).text, "hi");
 */
import { openPostgres } from "../core/server/storage/postgres.ts";
import { openSqlite } from "../core/server/storage/sqlite.ts";
import type { Db } from "../core/server/storage/db.ts";
import { dropSchema, schemaFor, TEST_SCHEMA_PREFIX, withSchema } from "./pg_schemas.ts";
import { ChatServer, type ServerOptions } from "../core/server/server.ts";
import { encodeFrame, LineSplitter } from "../protocol/framing.ts";
import type { RawFrame } from "../protocol/spec.ts";
import { parseBinaryFrame } from "../protocol/core.ts";
import { PLUGINS } from "../plugins/mod.ts";
import { fingerprintOfPem, generateSelfSigned } from "../core/tls/cert.ts";
import type { Conn } from "../core/server/conn.ts";
import { dialFrom } from "./dial.ts";

/** The cheapest scrypt cost the server accepts: tests log in hundreds of times. */
const TEST_SCRYPT = { logN: 10, r: 8, p: 1 };

/** One certificate per test process, for 127.0.0.1 and localhost. */
let testTls: Promise<{ cert: string; key: string }> | undefined;
export function testCertificate(): Promise<{ cert: string; key: string }> {
  return testTls ??= generateSelfSigned({ names: ["127.0.0.1", "localhost"] });
}

/** The password tests use for an account: 8+ characters, different per name. */
export function pw(name: string): string {
  return `${name.toLowerCase()}-secret`;
}

/** How long a test waits for an expected frame before failing. */
export const WAIT_MS = 5000;

export interface Harness {
  server: ChatServer;
  port: number;
  /** The server certificate's SHA-256 fingerprint, and the certificate; undefined without
   *  TLS. */
  fingerprint: string | undefined;
  caCert: string | undefined;
  /** A client of this server (TLS if it speaks TLS), from 127.0.0.1 or `localAddress`. */
  connect(opts?: { localAddress?: string }): Promise<TestClient>;
  /** Connects and logs in each name, consuming each login's ack. */
  users(...names: string[]): Promise<TestClient[]>;
  close(): Promise<void>;
}

/** Server options for tests; TLS is on unless `tls: false`, like a real server. */
export type TestServerOptions = Partial<Omit<ServerOptions, "tls">> & { tls?: false };

export async function startServer(opts: TestServerOptions = {}): Promise<Harness> {
  const tls = opts.tls === false ? undefined : await testCertificate();
  const store = opts.store ? { url: opts.store, drop: undefined } : testStore(opts.dataDir);
  const server = await ChatServer.start({
    plugins: PLUGINS,
    port: 0,
    logLevel: "silent",
    scrypt: TEST_SCRYPT,
    ...opts,
    store: store?.url,
    // Test clients are scripts that send as fast as a test needs; the frame rate limit has
    // its own tests, which set it.
    limits: { framesPerSecond: 0, ...opts.limits },
    tls,
  });
  const port = server.addr.port;
  const caCert = tls?.cert;
  const clients: TestClient[] = [];
  const h: Harness = {
    server,
    port,
    fingerprint: caCert && await fingerprintOfPem(caCert),
    caCert,
    async connect(opts = {}) {
      const c = await TestClient.connect(port, { caCert, ...opts });
      clients.push(c);
      return c;
    },
    async users(...names) {
      const out: TestClient[] = [];
      for (const name of names) {
        const c = await h.connect();
        await c.expect("welcome");
        await c.ok("session.login", { name, password: pw(name) });
        // No join notices to wait for: presence tells only people who share a room or a
        // conversation, and these users share nothing yet.
        out.push(c);
      }
      return out;
    },
    async close() {
      for (const c of clients) c.close();
      await server.close();
      await store?.drop?.();
    },
  };
  return h;
}

/**
 * The PostgreSQL store a test server uses when the run asks for one (CLASSCHAT_TEST_STORE, a
 * postgres:// URL; `deno task test` runs the store and plugin tests a second time so): a
 * schema of its own. With a data directory it is named after it, so a restart of the same
 * test finds its data (tests/pg_schemas.ts drops those after the run); without one it is
 * new, and dropped when the server closes.
 */
function testStore(dataDir: string | undefined) {
  const base = Deno.env.get("CLASSCHAT_TEST_STORE");
  if (!base) return undefined;
  if (dataDir) return { url: withSchema(base, schemaFor(dataDir)), drop: undefined };
  const schema = `${TEST_SCHEMA_PREFIX}${crypto.randomUUID().replaceAll("-", "")}`;
  return { url: withSchema(base, schema), drop: () => dropSchema(base, schema) };
}

/** The store of a test server's data directory, as that server opens it (SQLite in the
 *  directory, or the run's PostgreSQL schema for it): for tests that read or change what is
 *  stored while the server is stopped. */
export function openTestStore(dataDir: string): Promise<Db> {
  const base = Deno.env.get("CLASSCHAT_TEST_STORE");
  if (base) return openPostgres(withSchema(base, schemaFor(dataDir)));
  return Promise.resolve(openSqlite(`${dataDir}/classchat.db`));
}

/** Everything a test server's store holds, as text, to search for what must not be there
 *  (a password): SQLite's files in the directory, or every row of the PostgreSQL schema. */
export async function dumpTestStore(dataDir: string): Promise<string> {
  if (!ON_POSTGRES) {
    const files = [...Deno.readDirSync(dataDir)].filter((f) => f.isFile).map((f) => f.name);
    return files.map((f) => new TextDecoder("latin1").decode(Deno.readFileSync(`${dataDir}/${f}`)))
      .join("\n");
  }
  const db = await openTestStore(dataDir);
  try {
    const tables = await db.all<{ t: string }>(
      "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema()",
    );
    const out: string[] = [];
    for (const { t } of tables) out.push(JSON.stringify(await db.all(`SELECT * FROM ${t}`)));
    return out.join("\n");
  } finally {
    await db.close();
  }
}

/** A store of its own for a store-level test, empty: SQLite in memory, or a new schema of
 *  the run's PostgreSQL (dropped by close). */
export async function openScratchStore(): Promise<Db> {
  const base = Deno.env.get("CLASSCHAT_TEST_STORE");
  if (!base) return openSqlite(":memory:");
  const schema = `${TEST_SCHEMA_PREFIX}${crypto.randomUUID().replaceAll("-", "")}`;
  const db = await openPostgres(withSchema(base, schema));
  return {
    ...db,
    run: (sql, params) => db.run(sql, params),
    all: (sql, params) => db.all(sql, params),
    get: (sql, params) => db.get(sql, params),
    tx: (fn) => db.tx(fn),
    lock: (key) => db.lock(key),
    close: async () => {
      await db.close();
      await dropSchema(base, schema);
    },
  };
}

/** Whether this run's stores are PostgreSQL (CLASSCHAT_TEST_STORE). */
export const ON_POSTGRES = Deno.env.get("CLASSCHAT_TEST_STORE") !== undefined;

/** The `--store` arguments of a `classchat admin` run on a test server's data directory:
 *  none, or the run's PostgreSQL schema for it. */
export function testStoreArgs(dataDir: string): string[] {
  const base = Deno.env.get("CLASSCHAT_TEST_STORE");
  return base ? ["--store", withSchema(base, schemaFor(dataDir))] : [];
}

/** Runs fn against a fresh server and always stops it. */
export async function withServer(
  fn: (h: Harness) => Promise<void>,
  opts: TestServerOptions = {},
): Promise<void> {
  const h = await startServer(opts);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

export class TestClient {
  /** Parsed frames not yet taken by expect(); raw lines for plain-text mode. */
  readonly frames: RawFrame[] = [];
  readonly lines: string[] = [];
  closed: Promise<void>;
  #waiters: Array<() => void> = [];
  #nextId = 1;
  #isClosed = false;

  private constructor(readonly conn: Conn, opts: { read: boolean }) {
    this.closed = opts.read ? this.#readLoop() : Promise.resolve();
  }

  /** `read: false` makes a client that never reads its socket (a slow consumer); `caCert`
   *  connects with TLS, trusting that certificate; `localAddress` dials from another loopback
   *  address such as 127.0.0.2 (per-address limits). */
  static async connect(
    port: number,
    opts: { read?: boolean; caCert?: string; localAddress?: string } = {},
  ): Promise<TestClient> {
    const where = { hostname: "127.0.0.1", port };
    const conn = opts.localAddress
      ? await dialFrom(port, { localAddress: opts.localAddress, caCert: opts.caCert })
      : opts.caCert
      ? await Deno.connectTls({ ...where, caCerts: [opts.caCert] })
      : await Deno.connect(where);
    return new TestClient(conn, { read: opts.read ?? true });
  }

  /** Starts reading a client made with `read: false` (a reader that was stalled). */
  startReading(): void {
    this.closed = this.#readLoop();
  }

  /** Logs in as `name` with its test password; returns the ack. */
  login(name: string): Promise<RawFrame> {
    return this.ok("session.login", { name, password: pw(name) });
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  async sendRaw(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  send(type: string, fields: Record<string, unknown> = {}): Promise<void> {
    return this.sendRaw(encodeFrame({ type, ...fields }));
  }

  /** Sends a request and returns its answer: the ack or the error frame. */
  async request(type: string, fields: Record<string, unknown> = {}): Promise<RawFrame> {
    const id = `t${this.#nextId++}`;
    await this.send(type, { ...fields, id });
    return this.expect((f) => (f.type === "ack" || f.type === "error") && f.re === id);
  }

  /** A request that must succeed; returns the ack. */
  async ok(type: string, fields: Record<string, unknown> = {}): Promise<RawFrame> {
    const r = await this.request(type, fields);
    if (r.type !== "ack") throw new Error(`${type} failed: ${r.code} ${r.message}`);
    return r;
  }

  /** A request that must fail; returns the error code. */
  async fails(type: string, fields: Record<string, unknown> = {}): Promise<string> {
    const r = await this.request(type, fields);
    if (r.type !== "error") throw new Error(`${type} unexpectedly succeeded`);
    return String(r.code);
  }

  /** Takes the first frame (in arrival order) of this type/predicate, waiting if needed. */
  expect(
    match: string | ((f: RawFrame) => boolean),
    pred: (f: RawFrame) => boolean = () => true,
    ms = WAIT_MS,
  ): Promise<RawFrame> {
    const test = typeof match === "string" ? (f: RawFrame) => f.type === match && pred(f) : match;
    return this.#take(this.frames, test, ms, `frame ${match}`);
  }

  /** Waits until `name` is no longer online as presence.who shows it (the server is done with
   *  that session), for a test that is not told: presence tells only related users. */
  async gone(name: string, ms = WAIT_MS): Promise<void> {
    const until = performance.now() + ms;
    while (
      ((await this.ok("presence.who")).users as string[]).some((u) =>
        u.toLowerCase() === name.toLowerCase()
      )
    ) {
      if (performance.now() > until) throw new Error(`${name} still online after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Takes the first plain-text line matching re. */
  expectLine(re: RegExp, ms = WAIT_MS): Promise<string> {
    return this.#take(this.lines, (l) => re.test(l), ms, `line ${re}`);
  }

  /** Asserts no frame of this type arrives within ms. */
  async expectNone(type: string, ms = 300): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    const f = this.frames.find((f) => f.type === type);
    if (f) throw new Error(`unexpected ${type}: ${JSON.stringify(f)}`);
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  async #take<T>(list: T[], test: (x: T) => boolean, ms: number, what: string): Promise<T> {
    const deadline = Date.now() + ms;
    while (true) {
      const i = list.findIndex(test);
      if (i >= 0) return list.splice(i, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0 || this.#isClosed) {
        const seen = list.slice(-5).map((x) => JSON.stringify(x)).join("\n  ");
        throw new Error(`timed out waiting for ${what}; last seen:\n  ${seen}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  async #readLoop(): Promise<void> {
    // Binary frames (file chunks to a client that logged in with binary: true) are parsed
    // into frames whose `data` is a Uint8Array.
    const splitter = new LineSplitter(16 * 1024 * 1024, () => true);
    const buf = new Uint8Array(64 * 1024);
    const dec = new TextDecoder();
    try {
      while (true) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        for (const ev of splitter.push(buf.subarray(0, n))) {
          if (ev.kind === "binary") this.frames.push(parseBinaryFrame(ev.bytes));
          if (ev.kind !== "line") continue;
          const line = dec.decode(ev.bytes);
          this.lines.push(line);
          if (line.startsWith("{")) this.frames.push(JSON.parse(line));
        }
        this.#wake();
      }
    } catch { /* closed */ }
    this.#isClosed = true;
    this.#wake();
  }

  #wake() {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }
}

/** Resident set size of a process in KiB, from /proc (Linux). */
export async function rssKiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const m = status.match(/VmRSS:\s+(\d+) kB/);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** SHA-256 of bytes, as lower-case hex (what sendfile.end carries). */
export async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Random bytes (getRandomValues fills at most 64 KiB at a time). */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}
