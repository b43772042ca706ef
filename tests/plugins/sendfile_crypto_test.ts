import assert from "node:assert/strict";
import {
  importFileKey,
  newFileKey,
  openChunk,
  sealChunk,
} from "../../plugins/sendfile/file_crypto.ts";
import { fromB64u } from "../../protocol/base64url.ts";

const data = new TextEncoder().encode("chunk of a file");

Deno.test("encrypt chunks - a chunk round-trips, with a fresh IV each time", async () => {
  const { key } = await newFileKey();
  const a = await sealChunk(key, "file-1", 0, data);
  const b = await sealChunk(key, "file-1", 0, data);
  assert.equal(a.length, 12 + data.length + 16);
  assert.notDeepEqual(a.subarray(0, 12), b.subarray(0, 12));
  assert.deepEqual(await openChunk(key, "file-1", 0, a), data);
  assert.deepEqual(await openChunk(key, "file-1", 0, b), data);
  assert.deepEqual(
    await openChunk(key, "f", 7, await sealChunk(key, "f", 7, new Uint8Array())),
    new Uint8Array(),
  );
});

Deno.test("encrypt chunks - index, file id, key and every byte are bound", async () => {
  const { key } = await newFileKey();
  const other = (await newFileKey()).key;
  const sealed = await sealChunk(key, "file-1", 5, data);
  const flipped = (i: number) => sealed.map((v, j) => (j === i ? v ^ 1 : v));
  const attempts: [string, () => Promise<Uint8Array>][] = [
    ["other index", () => openChunk(key, "file-1", 4, sealed)],
    ["index beyond 32 bits", () => openChunk(key, "file-1", 5 + 2 ** 32, sealed)],
    ["other file id", () => openChunk(key, "file-2", 5, sealed)],
    ["other key", () => openChunk(other, "file-1", 5, sealed)],
    ["iv bit", () => openChunk(key, "file-1", 5, flipped(0))],
    ["ciphertext bit", () => openChunk(key, "file-1", 5, flipped(12))],
    ["tag bit", () => openChunk(key, "file-1", 5, flipped(sealed.length - 1))],
    ["truncated", () => openChunk(key, "file-1", 5, sealed.subarray(0, sealed.length - 1))],
    ["shorter than iv and tag", () => openChunk(key, "file-1", 5, sealed.subarray(0, 27))],
  ];
  for (const [what, attempt] of attempts) {
    await assert.rejects(attempt, /cannot decrypt chunk/, what);
  }
  assert.deepEqual(await openChunk(key, "file-1", 5, sealed), data);
});

Deno.test("encrypt chunks - the raw file key imports to a key that opens the chunks", async () => {
  const { key, raw } = await newFileKey();
  assert.equal(fromB64u(raw).length, 32);
  const sealed = await sealChunk(key, "f", 1, data);
  assert.deepEqual(await openChunk(await importFileKey(raw), "f", 1, sealed), data);
  assert.notEqual((await newFileKey()).raw, raw);
});

Deno.test("encrypt chunks - bad file keys and indexes are refused", async () => {
  const { key, raw } = await newFileKey();
  for (const bad of ["", raw.slice(1), raw + "A", "+".repeat(43)]) {
    await assert.rejects(() => importFileKey(bad), /file key/, bad);
  }
  for (const index of [-1, 1.5, NaN, 2 ** 53]) {
    await assert.rejects(() => sealChunk(key, "f", index, data), /bad chunk index/, String(index));
  }
});
