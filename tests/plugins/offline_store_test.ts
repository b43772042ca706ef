/**
 * The message log's append (plugins/offline/store.ts) writes many rows per statement (issue
 * 19); the seqs it returns must still be each message's own, in order, across the chunk sizes
 * it splits a batch into (256, 128, ... 1), and a direct message's recipient row must point at
 * its message.
 */
import assert from "node:assert/strict";
import { openScratchStore } from "../harness.ts";
import { migrate } from "../../core/server/storage/migrate.ts";
import { append, OFFLINE_MIGRATIONS } from "../../plugins/offline/store.ts";
import { Spans } from "../../plugins/offline/spans.ts";

Deno.test("offline store - one append of 900 messages returns each one's seq, in order, recipients included", async () => {
  const db = await openScratchStore();
  try {
    await migrate(db, "offline", OFFLINE_MIGRATIONS);
    const spans = new Spans();
    const first = (await append(db, spans, [entry(0)], new Map(), false)).seqs;
    // 900 = 3 x 256 + 128 + 4: every chunk size but a few, then a second batch after it.
    const n = 900;
    const { seqs, prev } = await append(
      db,
      spans,
      Array.from({ length: n }, (_, i) => entry(i + 1)),
      new Map([["bob", 5]]),
      false,
    );
    assert.equal(prev, first[0], "the message before the batch");
    assert.equal(seqs.length, n);
    assert.deepEqual(seqs, Array.from({ length: n }, (_, i) => first[0] + 1 + i));
    const rows = await db.all<{ seq: number; frame: string; account: string }>(
      `SELECT l.seq, l.frame, r.account FROM offline_log l JOIN offline_rcpt r ON r.seq = l.seq
       ORDER BY l.seq`,
    );
    assert.equal(rows.length, n + 1);
    for (const [i, r] of rows.entries()) {
      assert.equal(JSON.parse(r.frame).text, `m${i}`, `row ${i}`);
      assert.equal(r.account, `u${i % 7}`);
    }
    const cursor = await db.get<{ seq: number }>("SELECT seq FROM offline_cursor");
    assert.equal(cursor?.seq, 5);
  } finally {
    await db.close();
  }
});

function entry(i: number) {
  const to = `u${i % 7}`;
  return {
    conv: `dm:${to}:zed`,
    sender: "Zed",
    ts: 1_700_000_000_000 + i,
    to: [to],
    json: JSON.stringify({ type: "dm.message", sender: "Zed", receiver: to, text: `m${i}` }),
  };
}
