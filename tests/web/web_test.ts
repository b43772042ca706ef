/**
 * The web client in real headless Chromium against a real server: two browsers and a
 * protocol client chat in a DM and a room; hostile text renders as inert text; the page is
 * served with its Content-Security-Policy, and no console error appears.
 */
import assert from "node:assert/strict";
import { type Harness, pw, startServer } from "../harness.ts";
import { appClient } from "../app.ts";
import { webAssets } from "../../web/files.ts";
import {
  type Doc,
  haveChromium,
  launch,
  logIn,
  openConv,
  openPage,
  seeMessage,
  type,
  webServer,
} from "./browser.ts";

const ignore = !haveChromium();

Deno.test({
  name: "web - two browsers and the terminal client chat in a DM and a room",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { h, url } = await webServer();
    const browser = await launch();
    try {
      const ann = await openPage(browser, url);
      const ben = await openPage(browser, url);
      await logIn(ann, "Ann", pw("Ann"));
      await logIn(ben, "Ben", pw("Ben"));
      const cat = await appClient(h, "Cat"); // the terminal client, every plugin

      // Browser to browser: Ben's first conversation opens by itself.
      await type(ann, "/msg Ben hello from Ann");
      await seeMessage(ben, "hello from Ann");
      await type(ben, "hi Ann, Ben here");
      await seeMessage(ann, "hi Ann, Ben here");
      // A message in a conversation that is not open shows as an unread count, until opened.
      cat.type("Ben: psst");
      const badge = '#convs button:has(.conv-title:text-is("Cat")) .unread';
      assert.equal(await (await ben.page.waitForSelector(badge)).textContent(), "1");
      await openConv(ben, "Cat");
      await seeMessage(ben, "psst");
      assert.equal(await ben.page.$(badge), null);

      // Browser and terminal, both ways (sealed end to end: both have keys).
      await type(ann, "/msg Cat a browser says hi");
      await cat.waitFor(/^Ann: a browser says hi$/);
      cat.type("Ann: the terminal answers");
      await openConv(ann, "Cat");
      await seeMessage(ann, "the terminal answers");

      // A room: both browsers and the terminal in #cs350; Ben leaves it again.
      await type(ann, "/create #cs350");
      await type(ben, "/join #cs350");
      cat.type("/join cs350");
      await cat.waitFor(/joined #cs350/);
      await ann.page.waitForSelector('#title:text-is("#cs350")');
      await ben.page.waitForSelector('#title:text-is("#cs350")');
      await type(ann, "room hello");
      await seeMessage(ben, "room hello");
      await cat.waitFor(/\[#cs350\] Ann: room hello/);
      cat.type("@cs350 from the terminal");
      await seeMessage(ann, "from the terminal");
      await seeMessage(ben, "from the terminal");
      await type(ben, "/leave #cs350");
      await ben.page.waitForSelector('#convs:not(:has(.conv-title:text-is("#cs350")))');
      assert.deepEqual([...ann.errors, ...ben.errors], []);
    } finally {
      await browser.close();
      await h.close();
    }
  },
});

Deno.test({
  name: "web - hostile text renders as inert text; the page has its CSP and no inline script",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { h, url } = await webServer();
    const browser = await launch();
    try {
      const res = await fetchTrusting(h, url);
      const csp = res.headers.get("content-security-policy") ?? "";
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
      assert.doesNotMatch(res.body, /<script>|<script [^>]*>[^<]/); // scripts only by src

      const ann = await openPage(browser, url);
      await logIn(ann, "Ann", pw("Ann"));
      const [mal] = await h.users("Mal");
      const hostile = [
        '<img src=x onerror="window.pwned=1">',
        "<script>window.pwned=2</script>",
        "<b>bold?</b> &amp; &lt;",
        "evil\u202Eexe.txt", // a bidi override: removed by the decoders
        "x".repeat(8000), // the longest text a message may have
      ];
      for (const text of hostile) await mal.ok("dm.send", { receiver: "Ann", text });
      // A 100 KB line is refused at the server's edge (over the frame limit): it never
      // reaches the page.
      await mal.sendRaw("y".repeat(100_000) + "\n");
      assert.equal((await mal.expect("error")).code, "FRAME_TOO_LARGE");
      // As a message, it is cut before it is read (no id to answer: the error has no re).
      await mal.send("dm.send", { id: "big", receiver: "Ann", text: "z".repeat(100_000) });
      assert.equal((await mal.expect("error", (f) => f.re === undefined)).code, "FRAME_TOO_LARGE");
      await mal.ok("dm.send", { receiver: "Ann", text: "still here" });
      await openConv(ann, "Mal");
      for (const text of hostile.slice(0, 3)) await seeMessage(ann, text);
      await seeMessage(ann, "evilexe.txt");
      await seeMessage(ann, "x".repeat(8000));
      await seeMessage(ann, "still here");
      const injected = await ann.page.evaluate(() => {
        const g = globalThis as unknown as { document: Doc; pwned?: number };
        const count = (s: string) => g.document.querySelectorAll(s).length;
        return {
          pwned: g.pwned ?? null,
          imgs: count("#log img"),
          scripts: count("#log script"),
          bold: count("#log b"),
        };
      });
      assert.deepEqual(injected, { pwned: null, imgs: 0, scripts: 0, bold: 0 });
      assert.deepEqual(ann.errors, []);
    } finally {
      await browser.close();
      await h.close();
    }
  },
});

Deno.test({
  name: "web - a WebSocket from another origin is refused",
  ignore,
  fn: async () => {
    const { h } = await webServer();
    try {
      const port = h.server.webAddr!.port;
      const upgrade = async (origin: string) => {
        const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [h.caCert!] });
        try {
          const request = [
            "GET /ws HTTP/1.1",
            `Host: 127.0.0.1:${port}`,
            `Origin: ${origin}`,
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version: 13",
            "",
            "",
          ].join("\r\n");
          await conn.write(new TextEncoder().encode(request));
          const buf = new Uint8Array(4096);
          const n = await conn.read(buf);
          return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0];
        } finally {
          conn.close();
        }
      };
      assert.match(await upgrade("https://evil.example"), /^HTTP\/1\.1 403/);
      assert.match(await upgrade(`https://127.0.0.1:${port}`), /^HTTP\/1\.1 101/);
    } finally {
      await h.close();
    }
  },
});

/** GET with the test server's self-signed certificate trusted. */
async function fetchTrusting(h: Harness, url: string, headers: Record<string, string> = {}) {
  const client = Deno.createHttpClient({ caCerts: [h.caCert!] });
  try {
    const res = await fetch(url, { headers, client });
    return { status: res.status, headers: res.headers, body: await res.text() };
  } finally {
    client.close();
  }
}

/** Two ports free right now, for a server that must come back on the same ones. */
function freePorts(): [number, number] {
  const a = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const b = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const ports: [number, number] = [a.addr.port, b.addr.port];
  a.close();
  b.close();
  return ports;
}

Deno.test({
  name: "web - the page reconnects after a restart, and a closed tab gets what it missed",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "classchat-web-" });
    const [port, webPort] = freePorts();
    const start = () => startServer({ dataDir, port, web: { port: webPort, assets: webAssets() } });
    let h = await start();
    const url = `https://127.0.0.1:${webPort}/`;
    const browser = await launch();
    try {
      const ann = await openPage(browser, url);
      await logIn(ann, "Ann", pw("Ann"));
      let [ben] = await h.users("Ben");
      await ben.ok("dm.send", { receiver: "Ann", text: "before the restart" });
      await seeMessage(ann, "before the restart");

      await h.close();
      await ann.page.waitForSelector('body[data-state="reconnecting"]');
      // Typed while the server is down: kept, and sent once it is back, exactly once.
      await type(ann, "typed while you were down");
      await ann.page.waitForSelector('#notice:has-text("not connected")');
      h = await start();
      await ann.page.waitForSelector('body[data-state="connected"]', { timeout: 20_000 });
      [ben] = await h.users("Ben");
      await seeMessage(ann, "typed while you were down"); // its ack came: shown as sent
      await ben.ok("dm.send", { receiver: "Ann", text: "after the restart" });
      await seeMessage(ann, "after the restart");
      const got = await ben.ok("offline.history", { with: "Ann", limit: 10 });
      assert.equal(got.count, 3);
      const copies = ben.frames.filter((f) =>
        f.type === "dm.message" && f.replay === "history" && f.text === "typed while you were down"
      );
      assert.equal(copies.length, 1);

      // The tab is closed; Ben writes; a new tab (same browser profile, same token) gets it,
      // marked as sent while Ann was away.
      const context = ann.page.context();
      await ann.page.close();
      await ben.gone("Ann");
      await ben.ok("dm.send", { receiver: "Ann", text: "while you were out" });
      const again = await context.newPage();
      const errors: string[] = [];
      again.on("pageerror", (e) => errors.push(e.message));
      await again.goto(url);
      await again.waitForSelector('body[data-state="connected"]');
      await again.waitForSelector("#log .msg.away .text:text-is('while you were out')");
      assert.deepEqual([...ann.errors, ...errors], []);
    } finally {
      await browser.close();
      await h.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "web - the class room: listed at login, announce-only and members shown, history as scrollback",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const h = await startServer({
      admins: ["Prof"],
      pluginOptions: { "class-room": ["cs350"] },
      web: { port: 0, assets: webAssets() },
    });
    const browser = await launch();
    try {
      const [prof] = await h.users("Prof");
      const ann = await openPage(browser, `https://127.0.0.1:${h.server.webAddr!.port}/`);
      await logIn(ann, "Ann", pw("Ann"));
      for (let i = 1; i <= 120; i++) {
        await prof.ok("groups.send", { room: "cs350", text: `announcement ${i}` });
      }
      await seeMessage(ann, "announcement 120");
      // A reloaded page starts empty: the room is listed at login, its past is scrollback.
      await ann.page.reload();
      await ann.page.waitForSelector('body[data-state="connected"]');
      await openConv(ann, "#cs350");
      // The instructor is staff (an admin), not the class room's owner: it has no founder.
      await ann.page.waitForSelector(
        '#info:text-is("announce-only · 2 members: Ann, Prof (staff)")',
      );
      await seeMessage(ann, "announcement 120");
      const shown = () => ann.page.$$eval("#log .msg", (els) => els.length);
      assert.equal(await shown(), 50); // one page
      // Scrolled to the top, page after page, back to the first announcement.
      for (let i = 0; i < 10 && !(await ann.page.$("#log .text:text-is('announcement 1')")); i++) {
        await ann.page.$eval("#log", (log) => (log.scrollTop = 0));
        await ann.page.waitForTimeout(300);
      }
      await seeMessage(ann, "announcement 1");
      assert.equal(await shown(), 120);
      // A student cannot post in it: the server's refusal is shown.
      await type(ann, "may I?");
      await ann.page.waitForSelector('#notice:has-text("ANNOUNCE_ONLY")');
      assert.deepEqual(ann.errors, []);
    } finally {
      await browser.close();
      await h.close();
    }
  },
});

Deno.test({
  name: "web - log out ends the session and this browser forgets the account (a shared computer)",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { h, url } = await webServer();
    const browser = await launch();
    try {
      const ann = await openPage(browser, url);
      await logIn(ann, "Ann", pw("Ann"));
      const [ben] = await h.users("Ben");
      await ann.page.click("#logout");
      await ann.page.waitForSelector("#login:not([hidden])");
      await ben.gone("Ann");
      const kept = await ann.page.evaluate(() => {
        const g = globalThis as unknown as {
          localStorage: { length: number; key(i: number): string };
        };
        return Array.from({ length: g.localStorage.length }, (_, i) => g.localStorage.key(i));
      });
      assert.deepEqual(kept.filter((k) => k.startsWith("classchat.")), []);
      // And it stays logged out: nothing reconnects it.
      await ann.page.waitForTimeout(1500);
      assert.equal(await ann.page.$('body[data-state="connected"]'), null);
      assert.deepEqual(ann.errors, []);
    } finally {
      await browser.close();
      await h.close();
    }
  },
});
