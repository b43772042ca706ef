/**
 * The PostgreSQL schemas of a test run against the PostgreSQL store (CLASSCHAT_TEST_STORE):
 * one per test server, all named with TEST_SCHEMA_PREFIX, so tests run in parallel and a run
 * leaves nothing behind (`deno run tests/pg_schemas.ts <url>` drops every one, before and
 * after the run).
 */
import postgres from "postgres";

export const TEST_SCHEMA_PREFIX = "cc_test_";

/** A data directory's schema: the same for every start of the server on it. */
export function schemaFor(dataDir: string): string {
  let h = 0x811c9dc5;
  for (const ch of dataDir) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return `${TEST_SCHEMA_PREFIX}d${h.toString(16)}${dataDir.length.toString(16)}`;
}

export function withSchema(base: string, schema: string): string {
  const u = new URL(base);
  u.searchParams.set("schema", schema);
  return u.toString();
}

export async function dropSchema(base: string, schema: string): Promise<void> {
  const sql = postgres(base, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await sql.end();
  }
}

/** Drops every test schema of `base`'s database. */
async function dropAll(base: string): Promise<number> {
  const sql = postgres(base, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql.unsafe(
      "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE $1",
      [`${TEST_SCHEMA_PREFIX}%`],
    );
    for (const r of rows) await sql.unsafe(`DROP SCHEMA IF EXISTS ${r.schema_name} CASCADE`);
    return rows.length;
  } finally {
    await sql.end();
  }
}

if (import.meta.main) {
  const base = Deno.args[0];
  if (!base) throw new Error("usage: deno run tests/pg_schemas.ts postgres://...");
  const n = await dropAll(base);
  if (n > 0) console.log(`dropped ${n} test schemas`);
}
