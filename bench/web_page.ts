/**
 * The web client's page costs: the bundle's size, the time from navigation to the login form
 * and to a logged-in page, and the CPU one logged-in tab uses while idle. It starts a real
 * server (a temporary data directory) and headless Chromium:
 *
 *   deno run -A bench/web_page.ts [--idle-seconds 60] [--loads 5]
 *
 * Load times are medians of fresh browser profiles; idle CPU is Chromium's own count of the
 * tab's main-thread work (Performance.getMetrics: TaskDuration, and ScriptDuration for the
 * page's JavaScript), before and after the wait, with the composer focused as a person leaves
 * it (its caret blinks).
 */
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { WEB_FILES } from "../web/assets.ts";

const { values } = parseArgs({
  options: {
    "idle-seconds": { type: "string", default: "60" },
    loads: { type: "string", default: "5" },
  },
});
const idleSeconds = Number(values["idle-seconds"]);
const loads = Number(values.loads);
const MAIN = new URL("../main.ts", import.meta.url).pathname;

const data = await Deno.makeTempDir({ prefix: "classchat-web-bench-" });
const child = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", MAIN, "serve", "--port", "0", "--web-port", "0", "--data", data],
  stdout: "piped",
  stderr: "null",
}).spawn();
const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let seen = "";
while (!/web client at (\S+)/.test(seen)) seen += (await reader.read()).value ?? "";
const url = seen.match(/web client at (\S+)/)![1];
void (async () => {
  while (!(await reader.read()).done) { /* drain */ }
})();

const browser = await chromium.launch({
  executablePath: Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium",
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
const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const toForm: number[] = [];
  const toChat: number[] = [];
  for (let i = 0; i < loads; i++) {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const t0 = performance.now();
    await page.goto(url);
    await page.waitForSelector("#login:not([hidden])");
    toForm.push(performance.now() - t0);
    await page.fill("#name", `load${i}`);
    await page.fill("#password", `a password for load${i}`);
    const t1 = performance.now();
    await page.click("#login button[type=submit]");
    await page.waitForSelector('body[data-state="connected"]');
    toChat.push(performance.now() - t1);
    // Reloaded with the kept token: the page a returning student sees.
    const t2 = performance.now();
    await page.reload();
    await page.waitForSelector('body[data-state="connected"]');
    toChat.push(performance.now() - t2);
    await context.close();
  }
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await page.goto(url);
  await page.fill("#name", "idle");
  await page.fill("#password", "a password for idle");
  await page.click("#login button[type=submit]");
  await page.waitForSelector('body[data-state="connected"]');
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  /** Seconds of the tab's main-thread work: all of it, and running script. */
  const busy = async () => {
    const { metrics } = await cdp.send("Performance.getMetrics");
    const get = (n: string) => metrics.find((m: { name: string }) => m.name === n)!.value as number;
    return { task: get("TaskDuration"), script: get("ScriptDuration") };
  };
  const before = await busy();
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const after = await busy();
  const ms = (s: number) => Math.round(s * 10_000) / 10;
  const bytes = (path: string) =>
    new TextEncoder().encode(WEB_FILES.find((f) => f.path === path)!.text).length;
  console.log(JSON.stringify({
    workload: "web-page",
    bundleBytes: {
      "app.js": bytes("/app.js"),
      "app.css": bytes("/app.css"),
      "index.html": bytes("/index.html"),
    },
    loads,
    toLoginFormMs: Math.round(median(toForm)),
    toLoggedInMs: Math.round(median(toChat)),
    idleSeconds,
    idleTabCpuMs: ms(after.task - before.task),
    idleTabScriptMs: ms(after.script - before.script),
  }));
} finally {
  await browser.close();
  child.kill("SIGTERM");
  await child.status;
  await Deno.remove(data, { recursive: true });
}
