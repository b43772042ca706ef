/**
 * The web client with the real terminal client (ClientApp, every plugin, its own keys and
 * downloads): an end-to-end encrypted DM both ways whose text the server's store never holds,
 * the same safety number on both sides, and files both ways with their SHA-256 checked.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { appClient } from "../app.ts";
import { pw, sha256, startServer } from "../harness.ts";
import { clientConfigDir } from "../process.ts";
import { tempDir } from "../key_proxy.ts";
import { webAssets } from "../../web/files.ts";
import { type Doc, haveChromium, launch, logIn, openPage, seeMessage, type } from "./browser.ts";

Deno.test({
  name: "web e2e - a sealed DM and files between a browser and the terminal client",
  ignore: !haveChromium(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "classchat-web-e2e-" });
    const h = await startServer({ dataDir, web: { port: 0, assets: webAssets() } });
    const browser = await launch();
    try {
      const ann = await openPage(browser, `https://127.0.0.1:${h.server.webAddr!.port}/`);
      await logIn(ann, "Ann", pw("Ann"));
      const downloads = tempDir("classchat-downloads-");
      const bob = await appClient(h, "Bob", clientConfigDir(), {
        pluginOptions: { downloads: [downloads] },
      });

      // Sealed both ways: the browser and the terminal speak the same scheme.
      await type(ann, "/msg Bob the browser's secret 7f3a");
      await bob.waitFor(/^Ann: the browser's secret 7f3a$/);
      bob.type("Ann: the terminal's secret 9c1e");
      await seeMessage(ann, "the terminal's secret 9c1e");
      const marks = await ann.page.$$eval("#log .msg .e2e", (els) => els.length);
      assert.equal(marks, 2); // both lines marked end-to-end encrypted

      // The same safety number on both sides.
      await type(ann, "/verify Bob");
      const note = await ann.page.waitForSelector("#log .msg.note .text");
      const number = (await note.textContent())!.match(/(\d{5}( \d{5}){5})/)![1];
      const from = bob.out.length;
      bob.type("/verify Ann");
      await bob.waitFor(new RegExp(number), from);

      // A file from the terminal: offered as a download, its SHA-256 checked and shown.
      const body = new TextEncoder().encode("notes for the lab, ".repeat(5000));
      const path = `${tempDir("classchat-send-")}/notes.txt`;
      await Deno.writeFile(path, body);
      bob.type(`/sendfile Ann ${path}`);
      const link = await ann.page.waitForSelector("#log a.download", { timeout: 15_000 });
      assert.match(
        (await link.textContent())!,
        new RegExp(`SHA-256 verified: ${await sha256(body)}`),
      );
      await bob.waitFor(/sent notes\.txt .*verified by Ann/);
      const download = await Promise.all([ann.page.waitForEvent("download"), link.click()]);
      const saved = await Deno.readFile((await download[0].path())!);
      assert.equal(await sha256(saved), await sha256(body));

      // A file from the browser (the picker): the terminal saves it and checks it.
      const upload = crypto.getRandomValues(new Uint8Array(60_000));
      await ann.page.setInputFiles("#file", {
        name: "photo.bin",
        mimeType: "application/octet-stream",
        buffer: Buffer.from(upload),
      });
      await bob.waitFor(/received photo\.bin .*SHA-256 verified, end-to-end encrypted/);
      assert.equal(
        await sha256(await Deno.readFile(`${downloads}/photo.bin`)),
        await sha256(upload),
      );
      await ann.page.waitForFunction(() => {
        const doc = (globalThis as unknown as { document: Doc }).document;
        return Array.from(doc.querySelectorAll("#log .file"))
          .some((e) => /photo\.bin: verified by Bob/.test(e.textContent ?? ""));
      });

      // A file dropped on the page goes to the open conversation the same way.
      const dropped = await ann.page.evaluateHandle(() => {
        const g = globalThis as unknown as {
          DataTransfer: new () => { items: { add(f: unknown): void } };
          File: new (parts: string[], name: string) => unknown;
        };
        const dt = new g.DataTransfer();
        dt.items.add(new g.File(["dropped on the page"], "dropped.txt"));
        return dt;
      });
      await ann.page.dispatchEvent("body", "drop", { dataTransfer: dropped });
      await bob.waitFor(/received dropped\.txt .*SHA-256 verified, end-to-end encrypted/);
      assert.equal(await Deno.readTextFile(`${downloads}/dropped.txt`), "dropped on the page");

      // The store holds ciphertext only: no secret's text in the database or its log.
      await h.close();
      for (const f of ["classchat.db", "classchat.db-wal"]) {
        const bytes = await Deno.readFile(`${dataDir}/${f}`).catch(() => new Uint8Array());
        const text = new TextDecoder("latin1").decode(bytes);
        for (const secret of ["secret 7f3a", "secret 9c1e", "photo.bin", "notes for the lab"]) {
          assert.ok(!text.includes(secret), `${f} holds "${secret}"`);
        }
      }
      assert.deepEqual(ann.errors, []);
    } finally {
      await browser.close();
      await h.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
