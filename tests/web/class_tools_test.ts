/**
 * The class tools in the web page, in real headless Chromium against a real server: staff
 * marked beside their names (a badge on messages, "(staff)" in notices), a student's place in
 * the office-hours queue and the call when staff are ready, and an anonymous question whose
 * asker another student never learns while the page shows it as the asker's own.
 */
import assert from "node:assert/strict";
import { pw, startServer } from "../harness.ts";
import { webAssets } from "../../web/files.ts";
import { haveChromium, launch, logIn, openConv, openPage, seeMessage, type } from "./browser.ts";

const note = (text: string) => `#log .msg.note .text:has-text("${text}")`;

Deno.test({
  name: "web - class tools in the page: staff marked, the office-hours queue, anonymous questions",
  ignore: !haveChromium(),
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
      const [prof, tom, bob] = await h.users("Prof", "Tom", "Bob");
      await prof.ok("staff.add", { name: "Tom" });
      const ann = await openPage(browser, `https://127.0.0.1:${h.server.webAddr!.port}/`);
      await logIn(ann, "Ann", pw("Ann"));

      // Staff are marked: a badge beside the sender of a message.
      await tom.ok("dm.send", { receiver: "Ann", text: "office hours at 3" });
      await seeMessage(ann, "office hours at 3");
      const badges = await ann.page.$$eval(
        "#log .msg .head",
        (heads) => heads.map((e) => e.textContent ?? ""),
      );
      assert.ok(badges.some((t) => /^Tomstaff/.test(t)), JSON.stringify(badges));

      // The queue: Ann joins from the page; when Tom takes her, the page says he is ready.
      await tom.ok("queue.open");
      await type(ann, "/queue join lab 4, part b");
      await ann.page.waitForSelector(note("in the queue: 1 in line"));
      await type(ann, "/queue");
      await ann.page.waitForSelector(note("1 in line of 1"));
      await tom.ok("queue.next");
      await ann.page.waitForSelector(note("Tom (staff) is ready for you"));

      // An anonymous question from the page: Bob never sees who asked; Ann sees it as hers.
      await type(ann, "/ask -a Is the final cumulative?");
      await ann.page.waitForSelector(note("asked: question"));
      const asked = await bob.expect("questions.asked");
      assert.deepEqual([asked.by, asked.anonymous], [undefined, true]);
      assert.ok(!JSON.stringify(bob.frames).includes("Ann"), JSON.stringify(bob.frames));
      assert.equal((await prof.expect("questions.asked")).by, "Ann");
      // Shown in the room it was asked in, not in the conversation that was open.
      await openConv(ann, "#cs350");
      await ann.page.waitForSelector('#info:has-text("Prof (staff), Tom (staff)")');
      await ann.page.waitForSelector(note("anonymous, yours: Is the final cumulative?"));
      await prof.ok("questions.answer", { question: asked.question, text: "yes, weighted" });
      await ann.page.waitForSelector(note("-> Prof (staff): yes, weighted"));
      assert.deepEqual(ann.errors, []);
    } finally {
      await browser.close();
      await h.close();
    }
  },
});
