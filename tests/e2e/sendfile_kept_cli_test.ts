/**
 * Files for people away and for rooms, through real `classchat connect` processes: a room of
 * three where one member is away, and an end-to-end encrypted file for someone away, which
 * the server keeps only as ciphertext and delivers when they connect.
 */
import assert from "node:assert/strict";
import { randomBytes, sha256 } from "../harness.ts";
import { spawnClient, spawnServer } from "../process.ts";

async function blobs(data: string): Promise<string[]> {
  const all = await Array.fromAsync(Deno.readDir(`${data}/files`));
  return all.filter((e) => e.isFile).map((e) => e.name).sort();
}

Deno.test("sendfile kept cli - a file to a room of 3 reaches the member online at once and the one away when she connects; an encrypted file waits as ciphertext", async () => {
  const server = await spawnServer();
  const src = await Deno.makeTempDir({ prefix: "classchat-src-" });
  const dl = await Deno.makeTempDir({ prefix: "classchat-dl-" });
  try {
    const carolConfig = await Deno.makeTempDir({ prefix: "classchat-carol-" });
    const carolArgs = ["--downloads", `${dl}/carol`];
    // Carol comes once (her account, her key, the room), then goes away.
    const carol = spawnClient("Carol", server, carolConfig, carolArgs);
    await carol.waitFor(/^\* logged in as Carol/);
    const alice = spawnClient("Alice", server, undefined, ["--downloads", `${dl}/alice`]);
    await alice.waitFor(/^\* logged in as Alice/);
    const bob = spawnClient("Bob", server, undefined, ["--downloads", `${dl}/bob`]);
    await bob.waitFor(/^\* logged in as Bob/);
    await alice.type("/create lab");
    await alice.waitFor(/#lab/);
    await bob.type("/join lab");
    await carol.type("/join lab");
    await alice.waitFor(/Carol joined #lab/);
    await alice.waitFor(/Bob joined #lab/);
    await carol.type("/quit");
    assert.equal((await carol.end()).code, 0);
    await alice.waitFor(/^\* Carol left/);

    const notes = randomBytes(200_000);
    await Deno.writeFile(`${src}/notes.pdf`, notes);
    await alice.type(`/sendfile @lab "${src}/notes.pdf"`);
    await alice.waitFor(/^\* sending notes\.pdf \(200 KB\) to #lab \(kept on the server\)$/);
    await alice.waitFor(
      /^\* notes\.pdf is kept on the server for #lab \(in .*\): 1 got it now, 1 get it when they connect$/,
    );
    await bob.waitFor(/^\* Alice is sending you notes\.pdf \(200 KB\) in #lab$/);
    await bob.waitFor(/^\* received notes\.pdf .*: saved to .*notes\.pdf \(SHA-256 verified\)$/);
    assert.equal(await sha256(await Deno.readFile(`${dl}/bob/notes.pdf`)), await sha256(notes));
    await alice.waitFor(/^\* Bob got notes\.pdf \(SHA-256 verified\)$/);

    // For Carol, away: sealed end to end with her key, kept as ciphertext.
    const secret = new TextEncoder().encode("the exam answers ".repeat(1000));
    await Deno.writeFile(`${src}/answers.txt`, secret);
    await alice.type(`/sendfile Carol "${src}/answers.txt"`);
    await alice.waitFor(
      /^\* sending answers\.txt \(17 KB\) to Carol \(kept on the server, end-to-end encrypted\)$/,
    );
    await alice.waitFor(/^\* answers\.txt is kept on the server for Carol .*: Carol gets it when/);
    const kept = await blobs(server.data);
    assert.equal(kept.length, 2); // the room's file (Carol has not got it) and the sealed one
    assert.ok(kept.includes(await sha256(notes)));
    assert.ok(!kept.includes(await sha256(secret)));
    for (const k of kept) {
      const text = new TextDecoder().decode(await Deno.readFile(`${server.data}/files/${k}`));
      assert.ok(!text.includes("exam answers"), `plaintext on the server in ${k}`);
    }

    // Carol connects: both arrive, marked as sent while she was away, and are intact.
    const carol2 = spawnClient("Carol", server, carolConfig, carolArgs);
    await carol2.waitFor(
      /^\* Alice is sending you notes\.pdf \(200 KB\) in #lab, sent \d{4}-\d\d-\d\d \d\d:\d\d while you were away$/,
    );
    await carol2.waitFor(
      /^\* Alice is sending you answers\.txt \(17 KB\), sent \d{4}-\d\d-\d\d \d\d:\d\d while you were away, end-to-end encrypted$/,
    );
    await carol2.waitFor(/^\* received answers\.txt .*\(SHA-256 verified, end-to-end encrypted\)$/);
    assert.equal(await sha256(await Deno.readFile(`${dl}/carol/notes.pdf`)), await sha256(notes));
    assert.equal(
      await sha256(await Deno.readFile(`${dl}/carol/answers.txt`)),
      await sha256(secret),
    );
    await alice.waitFor(/^\* Carol got notes\.pdf \(SHA-256 verified\)$/);
    await alice.waitFor(/^\* Carol got answers\.txt \(SHA-256 verified, end-to-end encrypted\)$/);
    // Everyone has everything: the server keeps nothing.
    for (let i = 0; (await blobs(server.data)).length && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(await blobs(server.data), []);

    // Errors before anything is sent: a room that does not exist, one you are not in.
    await bob.type(`/sendfile @nowhere "${src}/notes.pdf"`);
    await bob.waitFor(/^! NO_SUCH_ROOM: /);
    await bob.type("/create solo");
    await bob.waitFor(/#solo/);
    await alice.type(`/sendfile #solo "${src}/notes.pdf"`);
    await alice.waitFor(/^! NOT_A_MEMBER: /);
    for (const c of [alice, bob, carol2]) {
      await c.type("/quit");
      assert.equal((await c.end()).code, 0);
    }
    await Deno.remove(carolConfig, { recursive: true });
  } finally {
    await server.stop();
    await Deno.remove(src, { recursive: true });
    await Deno.remove(dl, { recursive: true });
  }
});
