/**
 * The web client's screenshots for the README (docs/images/web_desktop.png, web_phone.png):
 * `deno task screenshots-web`. It starts a real server (a temporary data directory, the class
 * room cs350), logs two students in from two browser profiles, lets them talk (end-to-end
 * encrypted), post in a room and send a file, then photographs one page at desktop width in
 * the light scheme and the other at phone width (360 px) in the dark one. Waits are for what
 * the page shows, never fixed sleeps.
 *
 * Needs Chromium (Debian: `apt-get install -y chromium`; CHROMIUM=path for another place).
 */
import { Buffer } from "node:buffer";
import { type Browser, chromium, type Page } from "playwright-core";

const OUT = new URL(".", import.meta.url).pathname;
const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";

async function startServer(data: string): Promise<{ url: string; child: Deno.ChildProcess }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", "--port", "0", "--web-port", "0", "--data", data],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!/web client at (\S+)/.test(seen)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the server stopped: ${seen}`);
    seen += value;
  }
  void (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return { url: seen.match(/web client at (\S+)/)![1], child };
}

async function page(
  browser: Browser,
  url: string,
  size: { width: number; height: number },
  colorScheme: "light" | "dark",
): Promise<Page> {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: size,
    colorScheme,
    deviceScaleFactor: 2,
  });
  const p = await context.newPage();
  await p.goto(url);
  return p;
}

async function logIn(p: Page, name: string) {
  await p.fill("#name", name);
  await p.fill("#password", `a password for ${name}`);
  await p.click("#login button[type=submit]");
  await p.waitForSelector('body[data-state="connected"]');
}

async function say(p: Page, text: string) {
  await p.fill("#input", text);
  await p.press("#input", "Enter");
}

const data = await Deno.makeTempDir({ prefix: "classchat-shots-" });
const { url, child } = await startServer(data);
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const ann = await page(browser, url, { width: 1100, height: 640 }, "light");
  const ben = await page(browser, url, { width: 360, height: 740 }, "dark");
  await logIn(ann, "Ann");
  await logIn(ben, "Ben");
  await say(ann, "/create #lab2");
  await say(ben, "/join #lab2");
  await ben.waitForSelector('#title:text-is("#lab2")');
  await say(ann, "Has anyone got the sensor readings from Tuesday?");
  await say(ben, "Yes, I'll send them to you directly.");
  await say(ben, "/msg Ann Here are the readings; the last column is in kelvin.");
  await ann.click('#convs button:has(.conv-title:text-is("Ben"))');
  await ben.setInputFiles("#file", {
    name: "readings.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("t,v,T\n" + "0.1,3.3,293\n".repeat(400)),
  });
  await ann.waitForSelector("#log a.download");
  await say(ann, "Got it, thanks! The hash matches.");
  await ben.waitForSelector("#log .text:text-is('Got it, thanks! The hash matches.')");
  await ann.screenshot({ path: `${OUT}web_desktop.png` });
  await ben.screenshot({ path: `${OUT}web_phone.png` });
  console.log(`wrote ${OUT}web_desktop.png and ${OUT}web_phone.png`);
} finally {
  await browser.close();
  child.kill("SIGTERM");
  await child.status;
  await Deno.remove(data, { recursive: true });
}
