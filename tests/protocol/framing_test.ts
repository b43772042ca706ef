import assert from "node:assert/strict";
import {
  decodeUtf8,
  encodeBinaryFrame,
  encodeFrameFor,
  LineSplitter,
} from "../../protocol/framing.ts";
import { parseBinaryFrame } from "../../protocol/core.ts";

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

// Binary frames: 0x01, length (u32 big-endian), header line, "\n", body ------------------------

const binaryEvents = (s: LineSplitter, chunk: Uint8Array) =>
  s.push(chunk).map((e) =>
    e.kind === "line"
      ? `line:${dec.decode(e.bytes)}`
      : e.kind === "binary"
      ? `binary:${dec.decode(e.bytes)}`
      : "<oversize>"
  );
const concatBytes = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), at += p.length;
  return out;
};

Deno.test("LineSplitter - a binary frame between lines, whole and fed byte by byte", () => {
  const body = enc.encode("\n\x01raw\nbytes\x00");
  const frame = encodeBinaryFrame({ type: "sendfile.chunk", n: 0 }, body);
  const stream = concatBytes(enc.encode("before\n"), frame, enc.encode("after\n"));
  const want = [
    "line:before",
    `binary:{"type":"sendfile.chunk","n":0}\n${dec.decode(body)}`,
    "line:after",
  ];
  assert.deepEqual(binaryEvents(new LineSplitter(100, () => true), stream), want);
  const s = new LineSplitter(100, () => true);
  const got: string[] = [];
  for (const b of stream) got.push(...binaryEvents(s, new Uint8Array([b])));
  assert.deepEqual(got, want);
  assert.equal(s.buffered, 0);
  // Parsed, the body is the frame's data, bytes for bytes (newlines and all).
  const f = parseBinaryFrame(frame.subarray(5));
  assert.equal(f.type, "sendfile.chunk");
  assert.deepEqual(f.data, body);
});

Deno.test("LineSplitter - a binary frame over the cap is skipped exactly: the stream stays in step", () => {
  const s = new LineSplitter(64, () => true);
  const big = encodeBinaryFrame({ type: "x" }, new Uint8Array(65).fill(0x0a)); // all newlines
  const stream = concatBytes(big, enc.encode("next\n"));
  // Fed in reads of 7 bytes: the cap holds while skipping, and "next" is the next frame.
  const got: string[] = [];
  for (let i = 0; i < stream.length; i += 7) {
    got.push(...binaryEvents(s, stream.subarray(i, i + 7)));
    assert.ok(s.buffered <= 64 + 5);
  }
  assert.deepEqual(got, ["<oversize>", "line:next"]);
  // A declared length far past the cap (4 GiB - 1) is refused from its prefix alone.
  const huge = new Uint8Array([0x01, 0xff, 0xff, 0xff, 0xff, 0x41]);
  assert.deepEqual(binaryEvents(new LineSplitter(64, () => true), huge), ["<oversize>"]);
});

Deno.test("LineSplitter - where binary frames are not allowed, 0x01 starts an ordinary line", () => {
  const s = new LineSplitter(100);
  assert.deepEqual(binaryEvents(s, enc.encode("\x01\x00\x00\x00\x02hi\n")), [
    "line:\x01\x00\x00\x00\x02hi",
  ]);
  // Allowed, the mark counts only at the start of a frame, never inside a line.
  const t = new LineSplitter(100, () => true);
  assert.deepEqual(binaryEvents(t, enc.encode("a\x01b\n")), ["line:a\x01b"]);
});

Deno.test("encodeFrameFor - bytes go binary to a peer that reads them, base64 to one that does not", () => {
  const data = new Uint8Array([0, 1, 2, 250]);
  const frame = { type: "sendfile.chunk", file: "f1", n: 3, data };
  const asLine = dec.decode(encodeFrameFor(frame, false));
  assert.equal(asLine, '{"type":"sendfile.chunk","file":"f1","n":3,"data":"AAEC+g=="}\n');
  const bin = encodeFrameFor(frame, true);
  assert.equal(bin[0], 0x01);
  const f = parseBinaryFrame(bin.subarray(5));
  assert.deepEqual([f.type, f.file, f.n, f.data], ["sendfile.chunk", "f1", 3, data]);
  // Without bytes it is the ordinary line either way.
  assert.equal(dec.decode(encodeFrameFor({ type: "x" }, true)), '{"type":"x"}\n');
});

Deno.test("parseBinaryFrame - a header that is not a JSON frame is BAD_FRAME or BAD_JSON", () => {
  assert.throws(() => parseBinaryFrame(enc.encode("no newline")), /UTF-8 JSON header/);
  assert.throws(() => parseBinaryFrame(new Uint8Array([0xff, 0x0a])), /UTF-8 JSON header/);
  assert.throws(() => parseBinaryFrame(enc.encode("[1]\nbody")), /JSON object/);
});
