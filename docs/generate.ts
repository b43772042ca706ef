/**
 * Writes the parts of the docs that follow from the code, so they cannot drift from it: each
 * section is rendered from declarations and replaces the text between its markers
 * (`<!-- generated:NAME -->` and `<!-- /generated:NAME -->`) in its file. Run it with
 * `deno task docs`; tests/core/docs_generated_test.ts fails when a file is behind. Another
 * table is one more entry in SECTIONS.
 */
import { LIMITS } from "../protocol/limits.ts";
import type { Setting } from "../protocol/settings.ts";
import { PLUGINS } from "../plugins/mod.ts";
import { ErrorCatalog } from "../protocol/errors.ts";

export interface Section {
  /** Path from the repository's root. */
  file: string;
  /** The NAME in the markers. */
  marker: string;
  /** The text between the markers, without the blank lines around it. */
  render(): string;
}

export const SECTIONS: Section[] = [
  { file: "README.md", marker: "limits", render: renderLimits },
  { file: "docs/PROTOCOL.md", marker: "errors", render: renderErrors },
];

const ROOT = new URL("../", import.meta.url);

/** The file's text with the section's markers enclosing `body`; throws if a marker is missing. */
export function splice(text: string, marker: string, body: string): string {
  const [open, close] = markers(marker);
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) throw new Error(`markers ${open} ... ${close} not found`);
  return text.slice(0, start + open.length) + `\n\n${body}\n\n` + text.slice(end);
}

/** What is between the section's markers now (trimmed), or undefined without them. */
export function current(text: string, marker: string): string | undefined {
  const [open, close] = markers(marker);
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  return start < 0 || end < start ? undefined : text.slice(start + open.length, end).trim();
}

export async function readSection(s: Section): Promise<string> {
  return await Deno.readTextFile(new URL(s.file, ROOT));
}

function markers(marker: string): [string, string] {
  return [`<!-- generated:${marker} -->`, `<!-- /generated:${marker} -->`];
}

/** Every core limit, then every plugin's options (PLUGINS' order): flag, default, meaning. */
function renderLimits(): string {
  const rows: string[][] = [["Option", "Default", "Meaning", "Of"]];
  for (const s of Object.values(LIMITS)) rows.push(row(s, "core"));
  for (const p of PLUGINS) for (const s of p.options ?? []) rows.push(row(s, p.name));
  return table(rows);
}

function row(s: Setting, owner: string): string[] {
  const flag = "`" + s.flag + "`" + (s.command === "serve" ? "" : ` (${s.command})`);
  // shown is the default as written on the command line (JSON for texts); the unit follows.
  const written = s.shown === undefined ? "none" : s.shown.replace(/^"(.*)"$/, "$1");
  const value = s.unit && s.shown !== undefined ? `${written} ${s.unit}` : written;
  return [flag, value, s.help, owner];
}

/** Every error code: the core's, then each plugin's (PLUGINS' order), with what it means. The
 *  catalog is the one start-up builds, so a clash fails here too. */
function renderErrors(): string {
  const catalog = new ErrorCatalog();
  for (const p of PLUGINS) if (p.errors) catalog.add(p.name, p.errors);
  const rows: string[][] = [["Code", "Meaning", "Of"]];
  for (const [code, owner, text] of catalog.entries()) {
    const client = text.startsWith("client: ");
    const meaning = client ? `(client) ${text.slice("client: ".length)}` : text;
    rows.push(["`" + code + "`", meaning, owner.join(", ")]);
  }
  return table(rows);
}

/** A Markdown table laid out as `deno fmt` lays it out, so formatting leaves it alone. */
function table(rows: string[][]): string {
  const cells = rows.map((r) => r.map((c) => c.replaceAll("|", "\\|")));
  const widths = cells[0].map((_, i) => Math.max(3, ...cells.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  const rule = `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`;
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join("\n");
}

if (import.meta.main) {
  for (const s of SECTIONS) {
    const text = await readSection(s);
    const next = splice(text, s.marker, s.render());
    if (next === text) continue;
    await Deno.writeTextFile(new URL(s.file, ROOT), next);
    console.log(`docs: wrote ${s.file} (${s.marker})`);
  }
}
