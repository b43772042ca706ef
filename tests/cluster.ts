/**
 * Several ClassChat nodes as one server, in the test process: each its own listener on a
 * loopback port, all on one PostgreSQL schema and one NATS subject prefix of their own (so
 * tests run in parallel and leave nothing behind: the schema is dropped at close). Needs the
 * PostgreSQL and NATS every development machine runs (CLASSCHAT_TEST_POSTGRES, CLASSCHAT_TEST_NATS
 * to point elsewhere); `clusterReady` says whether they answer.
 */
import postgres from "postgres";
import { type Harness, startServer, type TestServerOptions } from "./harness.ts";
import { dropSchema, TEST_SCHEMA_PREFIX, withSchema } from "./pg_schemas.ts";

export const PG_URL = Deno.env.get("CLASSCHAT_TEST_POSTGRES") ??
  "postgres://postgres@127.0.0.1:5432/test";
export const NATS_URL = Deno.env.get("CLASSCHAT_TEST_NATS") ?? "nats://127.0.0.1:4222";

/** PostgreSQL and NATS both answer (checked once). */
export const clusterReady: boolean = await (async () => {
  const sql = postgres(PG_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql.unsafe("SELECT 1");
    const u = new URL(NATS_URL);
    (await Deno.connect({ hostname: u.hostname, port: Number(u.port || 4222) })).close();
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
})();

export interface Cluster {
  nodes: Harness[];
  /** Each node's options, to start one again after a kill. */
  options(i: number): TestServerOptions;
  close(): Promise<void>;
}

export async function startCluster(n: number, opts: TestServerOptions = {}): Promise<Cluster> {
  const id = crypto.randomUUID().replaceAll("-", "");
  const schema = `${TEST_SCHEMA_PREFIX}${id}`;
  const options = (i: number): TestServerOptions => ({
    ...opts,
    store: withSchema(PG_URL, schema),
    bus: `${NATS_URL}?prefix=cc_test_${id}`,
    nodeId: `node${i}`,
  });
  const nodes: Harness[] = [];
  try {
    // Started together, as an orchestrator does: on an empty store, their migrations race.
    const started = await Promise.allSettled(
      Array.from({ length: n }, (_, i) => startServer(options(i))),
    );
    for (const r of started) if (r.status === "fulfilled") nodes.push(r.value);
    const failed = started.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  } catch (e) {
    for (const h of nodes) await h.close();
    await dropSchema(PG_URL, schema);
    throw e;
  }
  return {
    nodes,
    options,
    async close() {
      for (const h of nodes) await h.close().catch(() => {});
      await dropSchema(PG_URL, schema);
    },
  };
}

/** For a cluster of real processes (`classchat serve`): a schema and NATS prefix of its own,
 *  the `serve` arguments of node `node`, and the schema's removal at the end. */
export function processCluster() {
  const id = crypto.randomUUID().replaceAll("-", "");
  const schema = `${TEST_SCHEMA_PREFIX}${id}`;
  const store = withSchema(PG_URL, schema);
  return {
    store,
    args: (node: string) => [
      "--store",
      store,
      "--bus",
      `${NATS_URL}?prefix=cc_test_${id}`,
      "--node-id",
      node,
    ],
    drop: () => dropSchema(PG_URL, schema),
  };
}
