/** Applies each plugin's append-only migrations once, in order, recording them per plugin. */
import type { Db, Migration } from "./db.ts";

/**
 * One transaction per owner, under the store-wide lock "migrations": nodes of a cluster that
 * start together on an empty PostgreSQL store take turns (two CREATE TABLEs of one name at
 * once fail in PostgreSQL's catalog), and a failing step leaves nothing of the run applied.
 */
export async function migrate(db: Db, owner: string, migrations: readonly Migration[]) {
  await db.tx(async (t) => {
    await t.lock("migrations");
    await t.run(
      "CREATE TABLE IF NOT EXISTS core_migrations (owner TEXT NOT NULL, version INTEGER NOT NULL," +
        " applied_at TEXT NOT NULL, PRIMARY KEY (owner, version))",
    );
    const row = await t.get<{ v: number | null }>(
      "SELECT MAX(version) AS v FROM core_migrations WHERE owner = ?",
      [owner],
    );
    const done = row?.v ?? 0;
    if (done > migrations.length) {
      throw new Error(
        `store has ${done} migrations for "${owner}" but this build knows ${migrations.length}: ` +
          "it was written by a newer ClassChat",
      );
    }
    for (let v = done + 1; v <= migrations.length; v++) {
      for (const stmt of splitStatements(migrations[v - 1].sql)) await t.run(stmt);
      await t.run(
        "INSERT INTO core_migrations (owner, version, applied_at) VALUES (?, ?, ?)",
        [owner, v, new Date().toISOString()],
      );
    }
  });
}

/** Migrations may hold several statements; none of ours put `;` inside string literals. */
function splitStatements(sql: string): string[] {
  return sql.split(";").map((s) => s.trim()).filter((s) => s.length > 0);
}
