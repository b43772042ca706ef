import assert from "node:assert/strict";
import { parseSlash } from "../../core/client/slash.ts";

Deno.test("parseSlash - name, words and the raw tail", () => {
  const p = parseSlash("/MSG Bob  hello   there ")!;
  assert.equal(p.name, "msg");
  assert.deepEqual(p.input.args, ["Bob", "hello", "there"]);
  assert.equal(p.input.tail(1), "hello   there");
  assert.equal(p.input.tail(3), "");
  assert.equal(p.input.tail(9), "");
});

Deno.test("parseSlash - double quotes keep spaces; escaped quotes survive", () => {
  const p = parseSlash('/sendfile Bob "my notes.pdf" "say \\"hi\\""')!;
  assert.deepEqual(p.input.args, ["Bob", "my notes.pdf", 'say "hi"']);
});

Deno.test("parseSlash - not a command", () => {
  assert.equal(parseSlash("Bob: /hi"), undefined);
  assert.equal(parseSlash("/"), undefined);
  assert.deepEqual(parseSlash("/who")!.input.args, []);
});
