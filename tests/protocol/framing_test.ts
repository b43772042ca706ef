import assert from "node:assert/strict";
import { decodeUtf8, LineSplitter } from "../../protocol/framing.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const lines = (s: LineSplitter, chunk: string | Uint8Array) =>
  s.push(typeof chunk === "string" ? enc.encode(chunk) : chunk).map((e) =>
    e.kind === "line" ? dec.decode(e.bytes) : "<oversize>"
  );

Deno.test("LineSplitter - several lines in one chunk", () => {
  assert.deepEqual(lines(new LineSplitter(100), "a\nbb\nccc\n"), ["a", "bb", "ccc"]);
});

Deno.test("LineSplitter - a line split across many reads, byte by byte", () => {
  const s = new LineSplitter(100);
  const got: string[] = [];
  for (const b of enc.encode('{"type":"x"}\nnext\n')) got.push(...lines(s, new Uint8Array([b])));
  assert.deepEqual(got, ['{"type":"x"}', "next"]);
  assert.equal(s.buffered, 0);
});

Deno.test("LineSplitter - CRLF endings are accepted (telnet)", () => {
  assert.deepEqual(lines(new LineSplitter(100), "hello\r\nworld\r\n"), ["hello", "world"]);
});

Deno.test("LineSplitter - a line of exactly the cap passes, one byte more is oversize", () => {
  const s = new LineSplitter(8);
  assert.deepEqual(lines(s, "12345678\n"), ["12345678"]);
  assert.deepEqual(lines(s, "123456789\nok\n"), ["<oversize>", "ok"]);
});

Deno.test("LineSplitter - an endless line is reported once and never buffered past the cap", () => {
  const s = new LineSplitter(1024);
  const chunk = new Uint8Array(4096).fill(0x41);
  let events = 0;
  for (let i = 0; i < 2560; i++) { // 10 MiB without a newline
    events += s.push(chunk).length;
    assert.ok(s.buffered <= 1024);
  }
  assert.equal(events, 1);
  // The discarded line ends at the next newline; what follows is read normally.
  assert.deepEqual(lines(s, "AAAA\nfine\n"), ["fine"]);
});

Deno.test("LineSplitter - oversize detected across reads", () => {
  const s = new LineSplitter(10);
  assert.deepEqual(lines(s, "123456"), []);
  assert.deepEqual(lines(s, "789012"), ["<oversize>"]);
  assert.deepEqual(lines(s, "34\nok\n"), ["ok"]);
});

Deno.test("LineSplitter - returned lines are copies, safe when the read buffer is reused", () => {
  const s = new LineSplitter(100);
  const buf = enc.encode("abc\n");
  const [ev] = s.push(buf);
  buf.fill(0x7a);
  assert.equal(ev.kind === "line" && dec.decode(ev.bytes), "abc");
});

Deno.test("decodeUtf8 - rejects invalid sequences, accepts multi-byte text", () => {
  assert.equal(decodeUtf8(new Uint8Array([0x68, 0xc3])), undefined); // truncated sequence
  assert.equal(decodeUtf8(new Uint8Array([0xff, 0xfe])), undefined);
  assert.equal(decodeUtf8(new Uint8Array([0xed, 0xa0, 0x80])), undefined); // UTF-16 surrogate
  assert.equal(decodeUtf8(enc.encode("héllo 👋")), "héllo 👋");
});

Deno.test("LineSplitter - multi-byte characters split across reads survive", () => {
  const s = new LineSplitter(100);
  const bytes = enc.encode("👋\n");
  assert.deepEqual(lines(s, bytes.subarray(0, 2)), []);
  assert.deepEqual(lines(s, bytes.subarray(2)), ["👋"]);
});
