import assert from "node:assert/strict";
import { withServer } from "../harness.ts";
import { appClient } from "../app.ts";
import { spawnClient, spawnServer } from "../process.ts";

Deno.test("encrypt - a direct message crosses the server sealed, and its receiver reads it", () =>
  withServer(async (h) => {
    // Record what the server's dm handler is given: all it ever sees of the message.
    const entry = h.server.registry.handlers.get("dm.send")!;
    const seen: unknown[] = [];
    const handle = entry.handler;
    entry.handler = (msg, ctx) => (seen.push(msg), handle(msg, ctx));

    const alice = await appClient(h, "Alice");
    const bob = await appClient(h, "Bob");
    alice.type("Bob: the answer to question 3 is 42");
    await bob.waitFor(/^Alice: the answer to question 3 is 42$/);
    await alice.waitFor(/^-> Bob: the answer to question 3 is 42$/);
    bob.type("/msg Alice thanks!");
    await alice.waitFor(/^Bob: thanks!$/);

    assert.equal(seen.length, 2);
    for (const m of seen as Array<Record<string, unknown>>) {
      assert.equal(m.text, undefined);
      assert.ok(m.sealed, "the server got a sealed body");
    }
    assert.doesNotMatch(JSON.stringify(seen), /answer to question|thanks/);

    // Switched off, the server can read it again, and the person was told so.
    alice.type("/e2e off");
    await alice.waitFor(/encryption is OFF/);
    alice.type("Bob: in the clear");
    // Bob has pinned Alice's key, so he is told it was not end-to-end encrypted.
    await bob.waitFor(/^Alice: \[NOT end-to-end encrypted\] in the clear$/);
    await bob.waitFor(/^! NOT_ENCRYPTED: .*Alice/);
    assert.equal((seen[2] as Record<string, unknown>).text, "in the clear");
  }));

Deno.test("encrypt - /verify shows both people the same safety number", () =>
  withServer(async (h) => {
    const alice = await appClient(h, "Alice");
    const bob = await appClient(h, "Bob");
    alice.type("/verify Bob");
    bob.type("/verify alice");
    const a = (await alice.waitFor(/^\* safety number with Bob: /)).split(": ")[1];
    const b = (await bob.waitFor(/^\* safety number with Alice: /)).split(": ")[1];
    assert.match(a, /^\d{5}( \d{5}){5}$/);
    assert.equal(a, b);
    const carol = await appClient(h, "Carol");
    carol.type("/verify Bob");
    const c = (await carol.waitFor(/^\* safety number with Bob: /)).split(": ")[1];
    assert.notEqual(c, a, "another pair of people has another number");
  }));

Deno.test("encrypt - a changed key is warned about, and nothing is sent to it until accepted", () =>
  withServer(async (h) => {
    const alice = await appClient(h, "Alice");
    let bob = await appClient(h, "Bob");
    alice.type("Bob: first");
    await bob.waitFor(/^Alice: first$/); // Alice has now pinned Bob's key
    await bob.app.quit();

    // Bob logs in from a new computer: a new identity key replaces the old one.
    bob = await appClient(h, "Bob");
    await bob.waitFor(/replaced your earlier one/);
    await alice.waitFor(/^! KEY_CHANGED: Bob has a new encryption key/);

    const mark = alice.out.length;
    alice.type("Bob: second");
    await alice.waitFor(/^! KEY_CHANGED: Bob's encryption key changed .*nothing was sent/, mark);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!bob.out.some((l) => l.includes("second")), "nothing reached Bob");

    alice.type("/verify Bob accept");
    await alice.waitFor(/^\* Bob's key is trusted from now on$/);
    alice.type("Bob: third");
    await bob.waitFor(/^Alice: third$/);
  }));

Deno.test("encrypt - the plaintext of a direct message is nowhere in the server's data or log", async () => {
  const server = await spawnServer(["--log-level", "debug"], undefined, { captureLog: true });
  const secret = `midterm-grade-${crypto.randomUUID()}`;
  try {
    const alice = spawnClient("Alice", server);
    const bob = spawnClient("Bob", server);
    await alice.waitFor(/^\* logged in as Alice/);
    await bob.waitFor(/^\* logged in as Bob/);
    await alice.type(`Bob: ${secret}`);
    await bob.waitFor(new RegExp(`^Alice: ${secret}$`));
    await alice.end();
    await bob.end();
  } finally {
    await server.stop("SIGTERM", true);
  }
  try {
    assert.notEqual(server.log().trim(), "", "the log was captured");
    assert.ok(!server.log().includes(secret), "the secret is not in the server's log");
    for await (const f of walk(server.data)) {
      const bytes = new TextDecoder("latin1").decode(await Deno.readFile(f));
      assert.ok(!bytes.includes(secret), `the secret is not in ${f}`);
    }
  } finally {
    await Deno.remove(server.data, { recursive: true });
  }
});

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) yield* walk(`${dir}/${e.name}`);
    else if (e.isFile) yield `${dir}/${e.name}`;
  }
}
