/**
 * File transfer through real processes: `classchat connect` clients typing /sendfile, a raw
 * protocol client offering hostile names, and a sender that disappears mid-transfer.
 */
import assert from "node:assert/strict";
import { pw, randomBytes, sha256, TestClient } from "../harness.ts";
import { type ServerProcess, spawnClient, spawnServer } from "../process.ts";
import { CHUNK_BYTES } from "../../plugins/sendfile/protocol.ts";

/** A raw protocol client logged in as `name` (for what a person cannot type). */
async function rawClient(server: ServerProcess, name: string): Promise<TestClient> {
  const c = await TestClient.connect(server.port, { caCert: server.cert });
  await c.expect("welcome");
  await c.ok("session.login", { name, password: pw(name) });
  return c;
}

Deno.test("sendfile cli - files of 0, 1, a chunk multiple and 3 MB bytes arrive whole, verified, with names kept and clashes numbered", async () => {
  const server = await spawnServer();
  const src = await Deno.makeTempDir({ prefix: "classchat-src-" });
  const downloads = await Deno.makeTempDir({ prefix: "classchat-dl-" });
  try {
    const bob = spawnClient("Bob", server, undefined, ["--downloads", downloads]);
    await bob.waitFor(/^\* logged in as Bob/);
    const alice = spawnClient("Alice", server);
    await alice.waitFor(/^\* logged in as Alice/);
    const files: [string, Uint8Array<ArrayBuffer>][] = [
      ["empty.txt", new Uint8Array(0)],
      ["one.bin", new Uint8Array([7])],
      ["two chunks.bin", randomBytes(2 * CHUNK_BYTES)],
      ["big.bin", randomBytes(3_000_000)],
    ];
    for (const [name, bytes] of files) {
      await Deno.writeFile(`${src}/${name}`, bytes);
      await alice.type(`/sendfile Bob "${src}/${name}"`);
      // Both have keys (the encrypt plugin): the file is sealed end to end.
      await alice.waitFor(
        new RegExp(`^\\* sending ${name} \\(.*\\) to Bob \\(end-to-end encrypted\\)$`),
      );
      await alice.waitFor(new RegExp(`^\\* sent ${name} \\(.*\\) to Bob in .*: verified by Bob$`));
      await bob.waitFor(
        new RegExp(
          `^\\* received ${name} .*: saved to .*${name} \\(SHA-256 verified, end-to-end encrypted\\)$`,
        ),
      );
      const got = await Deno.readFile(`${downloads}/${name}`);
      assert.equal(await sha256(got), await sha256(bytes), name);
    }
    // The same name again: a numbered copy, the first one intact.
    await alice.type(`/sendfile Bob "${src}/one.bin"`);
    await bob.waitFor(/saved to .*one \(1\)\.bin/);
    assert.deepEqual(await Deno.readFile(`${downloads}/one (1).bin`), new Uint8Array([7]));
    assert.deepEqual(
      (await Array.fromAsync(Deno.readDir(downloads))).filter((e) => e.name.endsWith(".part")),
      [],
    );
    // Chat goes on meanwhile, and errors are clear.
    await alice.type("Bob: did you get them?");
    await bob.waitFor(/^Alice: did you get them\?$/);
    await alice.type(`/sendfile Bob ${src}/nothing-here.pdf`);
    await alice.waitFor(/^! NO_SUCH_FILE: /);
    await alice.type(`/sendfile Bob ${src}`);
    await alice.waitFor(/^! NOT_A_FILE: /);
    await alice.type(`/sendfile Nobody ${src}/one.bin`);
    await alice.waitFor(/^! NO_SUCH_USER: /);
    await alice.type("/quit");
    await bob.type("/quit");
    assert.equal((await alice.end()).code, 0);
    assert.equal((await bob.end()).code, 0);
  } finally {
    await server.stop();
    await Deno.remove(src, { recursive: true });
    await Deno.remove(downloads, { recursive: true });
  }
});

Deno.test("sendfile cli - hostile names are saved safely inside the downloads folder; a sender that vanishes leaves no file", async () => {
  const server = await spawnServer();
  const downloads = await Deno.makeTempDir({ prefix: "classchat-dl-" });
  try {
    const bob = spawnClient("Bob", server, undefined, ["--downloads", `${downloads}/in`]);
    await bob.waitFor(/^\* logged in as Bob/);
    const mallory = await rawClient(server, "Mallory");
    const hostile = ["../../etc/passwd", "/abs/path", "line\nbreak.txt"];
    for (const name of hostile) {
      const ack = await mallory.ok("sendfile.offer", { to: "Bob", name, size: 2 });
      const data = btoa("hi");
      await mallory.send("sendfile.chunk", { file: ack.file, n: 0, data });
      await mallory.send("sendfile.end", {
        file: ack.file,
        sha256: await sha256(new TextEncoder().encode("hi")),
      });
      assert.equal((await mallory.expect("sendfile.verified")).ok, true);
    }
    const saved = (await Array.fromAsync(Deno.readDir(`${downloads}/in`))).map((e) => e.name);
    assert.deepEqual(saved.sort(), ["linebreak.txt", "passwd", "path"]);
    for (const name of saved) {
      assert.equal(await Deno.readTextFile(`${downloads}/in/${name}`), "hi");
    }

    // A transfer cut off after one chunk: Bob is told, and neither the .part nor a file stays.
    const ack = await mallory.ok("sendfile.offer", { to: "Bob", name: "half.bin", size: 100_000 });
    await mallory.send("sendfile.chunk", {
      file: ack.file,
      n: 0,
      data: randomBytes(CHUNK_BYTES).toBase64(),
    });
    await mallory.expect("sendfile.credit");
    mallory.close();
    await bob.waitFor(/^! TRANSFER_CANCELLED: half\.bin from Mallory: Mallory disconnected/);
    const left = (await Array.fromAsync(Deno.readDir(`${downloads}/in`))).map((e) => e.name);
    assert.deepEqual(left.sort(), ["linebreak.txt", "passwd", "path"]);

    // A wrong checksum: reported, not kept.
    const liar = await rawClient(server, "Liar");
    const bad = await liar.ok("sendfile.offer", { to: "Bob", name: "forged.txt", size: 2 });
    await liar.send("sendfile.chunk", { file: bad.file, n: 0, data: btoa("hi") });
    await liar.send("sendfile.end", { file: bad.file, sha256: "0".repeat(64) });
    assert.equal((await liar.expect("sendfile.verified")).ok, false);
    await bob.waitFor(/^! CHECKSUM_MISMATCH: forged\.txt from Liar/);
    const after = (await Array.fromAsync(Deno.readDir(`${downloads}/in`))).map((e) => e.name);
    assert.equal(after.length, 3);
    liar.close();

    const m2 = await rawClient(server, "Mallory");
    // Bob quits in the middle of a file: no .part stays behind, and Mallory is told.
    const mid = await m2.ok("sendfile.offer", { to: "Bob", name: "mid.bin", size: 100_000 });
    await m2.send("sendfile.chunk", {
      file: mid.file,
      n: 0,
      data: randomBytes(CHUNK_BYTES).toBase64(),
    });
    await m2.expect("sendfile.credit", (f) => f.file === mid.file);
    assert.ok(
      (await Array.fromAsync(Deno.readDir(`${downloads}/in`))).some((e) =>
        e.name === "mid.bin.part"
      ),
    );
    await bob.type("/quit");
    await bob.end();
    await m2.expect("sendfile.cancelled", (f) => f.file === mid.file);
    assert.equal((await Array.fromAsync(Deno.readDir(`${downloads}/in`))).length, 3);

    // A receiver that cannot write where it is told to refuses at once: the sender is not
    // left waiting for credit.
    const notDir = `${downloads}/in/passwd`; // a file, not a folder
    const carol = spawnClient("Carol", server, undefined, ["--downloads", `${notDir}/sub`]);
    await carol.waitFor(/^\* logged in as Carol/);
    const nope = await m2.ok("sendfile.offer", { to: "Carol", name: "n.txt", size: 2 });
    const refused = await m2.expect("sendfile.cancelled", (f) => f.file === nope.file);
    assert.match(String(refused.message), /Carol cancelled: the receiver cannot take it now/);
    await carol.waitFor(/^! FILE_UNREADABLE: a file from Mallory: cannot write to /);
    await carol.type("/quit");
    await carol.end();
    m2.close();
  } finally {
    await server.stop();
    await Deno.remove(downloads, { recursive: true });
  }
});
