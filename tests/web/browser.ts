/**
 * Headless Chromium for the web client's tests (Debian's `chromium`, driven by playwright-core),
 * with the flags that keep it off the internet. Each page records console errors and uncaught
 * exceptions, which the tests require to stay empty.
 */
import { type Harness, startServer } from "../harness.ts";
import { webAssets } from "../../web/files.ts";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";

/** Whether a browser is installed here (.ci/run installs Debian's chromium). */
export function haveChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

export function launch(): Promise<Browser> {
  return chromium.launch({
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
}

export interface WebPage {
  page: Page;
  /** Console errors and page exceptions seen so far. */
  errors: string[];
}

/** A fresh browser profile (its own storage) on the server's page; the server's certificate
 *  is self-signed, which a student accepts once in the browser's warning. */
export async function openPage(browser: Browser, url: string): Promise<WebPage> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
  await page.goto(url);
  return { page, errors };
}

/** Logs in through the form, as a student does. */
export async function logIn(p: WebPage, name: string, password: string): Promise<void> {
  await p.page.fill("#name", name);
  await p.page.fill("#password", password);
  await p.page.click("#login button[type=submit]");
  await p.page.waitForSelector("#app:not([hidden])");
  await p.page.waitForSelector('body[data-state="connected"]');
}

/** Types a line in the composer and sends it with Enter. */
export async function type(p: WebPage, text: string): Promise<void> {
  await p.page.fill("#input", text);
  await p.page.press("#input", "Enter");
}

/** Opens the conversation titled `title` in the side list. */
export async function openConv(p: WebPage, title: string): Promise<void> {
  await p.page.click(`#convs button:has(.conv-title:text-is("${title}"))`);
}

/** Waits for a message with this text in the open conversation. */
export async function seeMessage(p: WebPage, text: string): Promise<void> {
  // Run in the page: a function, never a string (the page's CSP forbids eval, rightly).
  await p.page.waitForFunction(
    (t: string) => {
      const doc = (globalThis as unknown as { document: Doc }).document;
      return Array.from(doc.querySelectorAll("#log .msg .text")).some((e) => e.textContent === t);
    },
    text,
    { timeout: 10_000 },
  );
}

/** What the tests read of the page's document (they are type-checked without the DOM). */
export interface Doc {
  querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>;
}

/** A test server that also serves the page (an in-memory store), and the page's address. */
export async function webServer(): Promise<{ h: Harness; url: string }> {
  const h = await startServer({ web: { port: 0, assets: webAssets() } });
  return { h, url: `https://127.0.0.1:${h.server.webAddr!.port}/` };
}
