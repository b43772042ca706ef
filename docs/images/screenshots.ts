/**
 * Makes the README's screenshots (docs/images/*.png) from real sessions: `deno task
 * screenshots`. Each scene starts a real server (a temporary data directory), opens a bash in
 * an 80x24 tmux terminal per person (a private tmux server; each person has a home of their own,
 * like their own computer), types the commands a person would and waits for what they see,
 * then renders the terminals (`capture-pane -e`, with colour) as HTML and photographs them with
 * headless Chromium. Waits poll the screens for expected text, never fixed sleeps, so the
 * script runs again as the client changes.
 *
 * Needs tmux and Chromium (Debian: `apt-get install -y tmux chromium`; CHROMIUM=path for
 * another place); playwright-core (pinned below) drives Chromium. `deno task screenshots
 * chat rooms` makes only those scenes.
 */
// Neither in deno.json's imports nor in deno.lock (the task runs with --no-lock): Deno fetches
// every package of either on a fresh machine before any run or check of the program, and a
// browser driver is only for this script. The version is pinned here.
// deno-lint-ignore no-import-prefix
import { chromium, type Page } from "npm:playwright-core@1.65.1";
import { pageHtml, type Pane } from "./terminal_html.ts";
import { Server, type Term, tmux } from "./scene.ts";

const OUT = new URL(".", import.meta.url).pathname;
const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";

/** One scene: a server with `serve` options, the people who log in once beforehand (accounts,
 *  keys, trusted server), and what happens; returns the terminals to show, left to right. */
interface Scene {
  name: string;
  serve?: string[];
  admins?: string[];
  accounts: string[];
  play(s: Server): Promise<Term[]>;
}

const SCENES: Scene[] = [{
  name: "chat",
  accounts: ["Alice", "Bob", "Prof"],
  async play(s) {
    const prof = await s.open("Prof");
    const alice = await s.open("Alice");
    const bob = await s.open("Bob");
    await alice.say("Bob: hi Bob, did you start problem 3?", /-> Bob: hi Bob/);
    await bob.shows(/Alice: hi Bob, did you start problem 3\?/);
    await bob.say("/msg Alice yes, want to compare answers?", /-> Alice: yes/);
    await alice.shows(/Bob: yes, want to compare answers\?/);
    await prof.say("Alice: office hours moved to 3 pm today", /-> Alice: office hours/);
    await alice.shows(/Prof: office hours moved/);
    await bob.say("/who", /online \(3\)/);
    await alice.type("Bob: see you at the lab at 3");
    await alice.shows(/> Bob: see you at the lab at 3$/);
    return [alice, bob];
  },
}, {
  name: "rooms",
  serve: ["--class-room", "cs350"],
  admins: ["Prof"],
  accounts: ["Prof", "Ann", "Ben"],
  async play(s) {
    const prof = await s.open("Prof");
    const ann = await s.open("Ann");
    const ben = await s.open("Ben");
    await prof.say("@cs350 Welcome to CS350: the syllabus is online", /-> \[#cs350\] Welcome/);
    await ann.shows(/\[#cs350\] Prof: Welcome to CS350/);
    await ben.shows(/\[#cs350\] Prof: Welcome to CS350/);
    await ann.say("@cs350 hello everyone", /ANNOUNCE_ONLY/);
    await ann.say("/create team1 --private", /created private room #team1/);
    await ann.say("/invite team1 Ben", /invited Ben to #team1/);
    await ben.shows(/invited you to #team1/);
    await ben.say("/join team1", /joined #team1/);
    await ben.say("@team1 our draft is in the repo", /-> \[#team1\] our draft/);
    await ann.shows(/\[#team1\] Ben: our draft is in the repo/);
    await ann.say("/members team1", /#team1: .*Ann/);
    return [ann, ben];
  },
}, {
  name: "files",
  accounts: ["Alice", "Bob"],
  async play(s) {
    await s.file("Alice", "notes.pdf", 1_200_000);
    const alice = await s.open("Alice");
    const bob = await s.open("Bob");
    await alice.say("/sendfile Bob notes.pdf", /sent notes\.pdf .*verified/);
    await bob.shows(/received notes\.pdf .*verified/);
    await bob.say("Alice: thanks, got the notes", /-> Alice: thanks/);
    await alice.shows(/Bob: thanks, got the notes/);
    return [alice, bob];
  },
}, {
  name: "offline",
  accounts: ["Alice", "Bob"],
  async play(s) {
    const alice = await s.open("Alice");
    await alice.say("Bob: Project 2 is out, due Friday", /Bob is offline: stored/);
    await alice.say("Bob: questions go to the forum", /-> Bob: questions go to the forum/);
    await alice.shows(/Bob is offline[^]*-> Bob: questions[^]*Bob is offline/);
    const bob = await s.open("Bob");
    await bob.shows(/while you were away\).*Alice: questions go to the forum/);
    await alice.shows(/Bob joined|Bob got|delivered/).catch(() => {}); // as the client tells it
    await bob.say("Alice: got them, thanks!", /-> Alice: got them/);
    await alice.shows(/Bob: got them, thanks!/);
    return [alice, bob];
  },
}];

/** Shows the panes down to the lowest row any of them uses, and one more (the bottom rows
 *  of a terminal after a short scene are empty), and saves the picture as name.png. */
async function photograph(name: string, panes: Pane[], page: Page) {
  const used = (p: Pane) =>
    Math.max(p.rows.findLastIndex((r) => r.trim() !== ""), p.cursor?.y ?? 0);
  const rows = Math.max(...panes.map(used)) + 2;
  panes = panes.map((p) => ({ ...p, rows: p.rows.slice(0, rows) }));
  await page.setContent(pageHtml(panes));
  const shot = page.locator("#shot");
  await shot.screenshot({ path: `${OUT}${name}.png` });
  console.log(`docs/images/${name}.png`);
}

const only = Deno.args;
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
  // Twice the pixels, shown at half size in the README: sharp on high-density screens.
  const page = await browser.newPage({ deviceScaleFactor: 2 });
  for (const scene of SCENES) {
    if (only.length && !only.includes(scene.name)) continue;
    const server = await Server.start(scene.serve ?? [], scene.admins ?? []);
    try {
      for (const name of scene.accounts) await server.account(name);
      const shown = await scene.play(server);
      await photograph(scene.name, await Promise.all(shown.map((t) => t.capture())), page);
    } finally {
      await server.stop();
    }
  }
} finally {
  await browser.close();
  await tmux("kill-server").catch(() => {});
}
