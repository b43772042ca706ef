/**
 * The bus's message encoding (core/server/bus_codec.ts): JSON for plain messages, and a
 * framed form that carries a file chunk's bytes as they are; anything else on the subject
 * is not taken for a message.
 */
import assert from "node:assert/strict";
import { decodeBusMessage, encodeBusMessage } from "../../core/server/bus_codec.ts";
import { randomBytes } from "../harness.ts";

Deno.test("bus codec - plain messages are JSON; bytes in data travel framed, not as base64", () => {
  const plain = encodeBusMessage("node1", { name: "Ann", on: true });
  assert.equal(plain[0], "{".charCodeAt(0));
  assert.deepEqual(decodeBusMessage(plain), { from: "node1", msg: { name: "Ann", on: true } });

  for (const size of [0, 1, 32 * 1024]) {
    const data = randomBytes(size);
    const bytes = encodeBusMessage("n2", { k: "chunk", id: "f1.ab", n: 3, data });
    assert.ok(bytes.length < size + 100, `${size} bytes cost ${bytes.length}: no base64`);
    const back = decodeBusMessage(bytes)!;
    assert.equal(back.from, "n2");
    assert.deepEqual(back.msg, { k: "chunk", id: "f1.ab", n: 3, data });
    // A copy: changing the payload buffer afterwards does not change the decoded bytes.
    if (size > 0) {
      const before = (back.msg as { data: Uint8Array }).data[0];
      bytes[bytes.length - size] ^= 0xff;
      assert.equal((back.msg as { data: Uint8Array }).data[0], before);
    }
  }
  // `data` that is not bytes is ordinary JSON.
  const text = encodeBusMessage("n3", { data: "abc" });
  assert.deepEqual(decodeBusMessage(text), { from: "n3", msg: { data: "abc" } });
});

Deno.test("bus codec - what is not a message of ours is refused, not half-read", () => {
  const enc = new TextEncoder();
  for (
    const junk of [
      new Uint8Array(0),
      enc.encode("{not json"),
      enc.encode('{"msg":1}'), // no sender
      enc.encode("hello"),
      new Uint8Array([0, 0, 0, 200, 123, 125]), // a length past the end
      new Uint8Array([0, 0, 0, 2, 123, 125]), // framed, but no sender
    ]
  ) assert.equal(decodeBusMessage(junk), undefined, `${junk}`);
  // Framed with a message that is not an object: nowhere to put the bytes.
  const head = enc.encode('{"from":"n","msg":5}');
  const framed = new Uint8Array(4 + head.length + 2);
  new DataView(framed.buffer).setUint32(0, head.length);
  framed.set(head, 4);
  assert.equal(decodeBusMessage(framed), undefined);
});
