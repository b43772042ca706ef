import assert from "node:assert/strict";
import { parseFrame } from "../../protocol/core.ts";
import { ChatError, CORE_ERRORS } from "../../protocol/errors.ts";
import { field, message } from "../../protocol/spec.ts";
import { DmSend } from "../../plugins/dm/protocol.ts";

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ChatError, `expected ChatError, got ${e}`);
    return e.code;
  }
  return "OK";
}

Deno.test("parseFrame - a table of malformed lines, each with its stable code", () => {
  const cases: Array<[string, string]> = [
    ["not json", "BAD_JSON"],
    ["{", "BAD_JSON"],
    ["[1,2]", "BAD_JSON"],
    ["null", "BAD_JSON"],
    ['"text"', "BAD_JSON"],
    ["{}", "BAD_FRAME"],
    ['{"type":5}', "BAD_FRAME"],
    ['{"type":""}', "BAD_FRAME"],
    ['{"type":"Dm.Send"}', "BAD_FRAME"],
    ['{"type":"dm..send"}', "BAD_FRAME"],
    [`{"type":"${"a".repeat(65)}"}`, "BAD_FRAME"],
    ['{"type":"dm.send","id":7}', "BAD_FRAME"],
    [`{"type":"dm.send","id":"${"i".repeat(65)}"}`, "BAD_FRAME"],
    ["[".repeat(100000) + "]".repeat(100000), "BAD_JSON"],
    ['{"type":"dm.send","id":"c1"}', "OK"],
  ];
  for (const [line, code] of cases) {
    assert.equal(codeOf(() => parseFrame(line)), code, line.slice(0, 40));
  }
});

Deno.test("decoders - wrong field types are BAD_FRAME naming the field", () => {
  const frame = (f: Record<string, unknown>) => ({ type: "dm.send", ...f });
  assert.equal(codeOf(() => DmSend.decode(frame({ receiver: "Bob" }))), "BAD_FRAME");
  assert.equal(codeOf(() => DmSend.decode(frame({ receiver: 1, text: "x" }))), "BAD_FRAME");
  assert.equal(codeOf(() => DmSend.decode(frame({ receiver: "Bob", text: "" }))), "BAD_FRAME");
  assert.equal(codeOf(() => DmSend.decode(frame({ receiver: "Bob", text: ["x"] }))), "BAD_FRAME");
  assert.deepEqual(DmSend.decode(frame({ receiver: "Bob", text: "hi", extra: 1 })), {
    receiver: "Bob",
    text: "hi",
  });
  try {
    DmSend.decode(frame({ receiver: "Bob", text: 3 }));
  } catch (e) {
    assert.match((e as Error).message, /"text"/);
  }
});

Deno.test("field.number - rejects non-finite and non-numbers", () => {
  const spec = message("t.n", (f) => field.number(f, "n"));
  assert.equal(codeOf(() => spec.decode({ type: "t.n", n: "1" })), "BAD_FRAME");
  assert.equal(codeOf(() => spec.decode({ type: "t.n", n: null })), "BAD_FRAME");
  assert.equal(spec.decode({ type: "t.n", n: 1e308 }), 1e308);
});

Deno.test("error codes - every code has a description and is upper snake case", () => {
  for (const [code, text] of Object.entries(CORE_ERRORS)) {
    assert.match(code, /^[A-Z][A-Z0-9_]*$/);
    assert.ok(text.length > 10);
  }
});
