/**
 * The second pass of `deno task test`: the store-level and plugin tests again, on PostgreSQL
 * (one suite, two stores). Each test server gets a schema of its own (tests/harness.ts); every
 * test schema is dropped before and after. The database is CLASSCHAT_TEST_POSTGRES, by default
 * the development machine's (postgres://postgres@127.0.0.1:5432/test). Without a PostgreSQL
 * there, the pass is skipped with a notice, unless CLASSCHAT_REQUIRE_POSTGRES=1 (CI), where
 * that fails the run.
 */
import postgres from "postgres";

const URL = Deno.env.get("CLASSCHAT_TEST_POSTGRES") ?? "postgres://postgres@127.0.0.1:5432/test";
/** What runs on both stores: the storage port, what the core stores, and every plugin. */
const FILES = [
  "tests/core/storage_test.ts",
  "tests/core/accounts_test.ts",
  "tests/core/txn_test.ts",
  "tests/core/login_budget_test.ts",
  "tests/plugins/",
  "plugins/",
];

async function reachable(): Promise<boolean> {
  const sql = postgres(URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql.unsafe("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

const dropAll = () =>
  new Deno.Command(Deno.execPath(), { args: ["run", "-A", "tests/pg_schemas.ts", URL] }).output();

if (!(await reachable())) {
  const required = Deno.env.get("CLASSCHAT_REQUIRE_POSTGRES") === "1";
  console.error(
    `tests: no PostgreSQL at ${URL}: the PostgreSQL pass is ${required ? "required" : "skipped"}`,
  );
  Deno.exit(required ? 1 : 0);
}
await dropAll();
console.log(`tests: the store and plugin tests again, on PostgreSQL (${URL})`);
const { code } = await new Deno.Command(Deno.execPath(), {
  args: ["test", "--allow-all", "--parallel", ...FILES],
  env: { CLASSCHAT_TEST_STORE: URL },
  stdout: "inherit",
  stderr: "inherit",
}).output();
await dropAll();
Deno.exit(code);
