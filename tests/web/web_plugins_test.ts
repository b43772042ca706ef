/**
 * The plugins in the web page, in real headless Chromium against a real server: every
 * plugin's commands from its own definitions (and the keyboard alone on a narrow screen), and
 * another plugin's pushed frames shown the plugin's way.
 */
import assert from "node:assert/strict";
import { pw, startServer } from "../harness.ts";
import { webAssets } from "../../web/files.ts";
import { haveChromium, launch, logIn, openPage, seeMessage, type, webServer } from "./browser.ts";

const ignore = !haveChromium();

Deno.test({
  name:
    "web - every plugin's commands from their own definitions, and the keyboard alone at 360 px",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const h = await startServer({ admins: ["Prof"], web: { port: 0, assets: webAssets() } });
    const browser = await launch();
    try {
      const [prof] = await h.users("Prof");
      const context = await browser.newContext({
        ignoreHTTPSErrors: true,
        viewport: { width: 360, height: 740 },
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      await page.goto(`https://127.0.0.1:${h.server.webAddr!.port}/`);
      const ann = { page, errors };
      // The keyboard alone: the name field has focus, Tab to the password, Enter logs in.
      await page.keyboard.type("Ann");
      await page.keyboard.press("Tab");
      await page.keyboard.type(pw("Ann"));
      await page.keyboard.press("Enter");
      await page.waitForSelector('body[data-state="connected"]');

      // With no conversation open, the terminal's line shape: `Prof: ...` is a direct message.
      await page.keyboard.type("Prof: a question about lab 2");
      await page.keyboard.press("Enter");
      const m = await prof.expect("dm.message");
      assert.equal(m.sender, "Ann");
      // Plugin commands, as the terminal runs them.
      await type(ann, "/who");
      await page.waitForSelector("#log .msg.note .text:has-text('Ann, Prof')");
      await type(ann, "/hand stuck on question 3");
      const raised = await prof.expect((f) => f.type.startsWith("hands."));
      assert.match(JSON.stringify(raised), /stuck on question 3/);
      await type(ann, "/msg");
      await page.waitForSelector('#notice:text-is("USAGE: /msg <user> <text>")');
      await type(ann, "/nosuch");
      await page.waitForSelector('#notice:has-text("UNKNOWN_COMMAND")');
      await type(ann, "/help");
      await page.waitForSelector("#log .msg.note .text:has-text('/hand')");
      // A second conversation, reached with Tab and opened with Enter.
      await prof.ok("dm.send", { receiver: "Ann", text: "see you at 3" });
      await page.waitForSelector('#convs button:has(.conv-title:text-is("Prof"))');
      await page.focus("#input");
      for (let i = 0; i < 10; i++) {
        await page.keyboard.press("Shift+Tab");
        const on = await page.evaluate(() => {
          const g = globalThis as unknown as {
            document: { activeElement: { textContent: string } };
          };
          return g.document.activeElement.textContent;
        });
        if (on === "Prof") break;
      }
      await page.keyboard.press("Enter");
      await page.waitForSelector('#title:text-is("Prof")');
      await seeMessage(ann, "see you at 3");
      // Nothing wider than the phone: no sideways scrolling.
      const width = await page.evaluate(() => {
        const g = globalThis as unknown as {
          document: { documentElement: { scrollWidth: number } };
        };
        return g.document.documentElement.scrollWidth;
      });
      assert.ok(width <= 360, `the page is ${width} px wide at 360`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await h.close();
    }
  },
});

Deno.test({
  name: "web - another plugin's frames and commands in the page: a poll opened, voted, shown",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { h, url } = await webServer();
    const browser = await launch();
    try {
      const ann = await openPage(browser, url);
      await logIn(ann, "Ann", pw("Ann"));
      const [bob] = await h.users("Bob");
      await bob.ok("groups.create", { room: "lab" });
      await type(ann, "/join #lab");
      await ann.page.waitForSelector('#title:text-is("#lab")');
      const { poll } = await bob.ok("polls.create", {
        room: "lab",
        question: "Lunch?",
        options: ["pizza", "salad"],
      });
      await ann.page.waitForSelector(`#log .note .text:has-text("new poll ${poll} in #lab")`);
      await type(ann, `/vote ${poll} 2`);
      await ann.page.waitForSelector(`#log .note .text:has-text("voted in poll ${poll}")`);
      const r = await bob.expect("polls.results");
      assert.deepEqual(r.counts, [0, 1]);
      await ann.page.waitForSelector('#log .note .text:has-text("2) salad (1)")');
      assert.deepEqual(ann.errors, []);
    } finally {
      await browser.close();
      await h.close();
    }
  },
});
