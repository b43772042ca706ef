/** How a poll is typed, in the terminal and in plain-text mode:
 *  `"Question?" option | option | ... [--anonymous] [--multi] [--closes 10m]`. */

const FLAGS = /\s+--(anonymous|multi|closes\s+(\d+)\s*([smhd]?))\b/gi;
const UNIT_S: Record<string, number> = { "": 60, s: 1, m: 60, h: 3600, d: 86400 };

export interface PollSyntax {
  question: string;
  options: string[];
  anonymous: boolean;
  multi: boolean;
  closesIn?: number;
}

/** The room a /poll names first: `#room`, or a bare name before the quoted question
 *  (`lab2 "Q?" a | b`); undefined means the class room. */
export function roomArg(args: string[], rest: string): string | undefined {
  const first = args[0];
  if (first === undefined || first.startsWith('"')) return undefined;
  return first.startsWith("#") || rest.trimStart().startsWith('"') ? first : undefined;
}

/** The poll a line describes; undefined when it has no question or fewer than two options. */
export function parsePoll(text: string): PollSyntax | undefined {
  let anonymous = false, multi = false, closesIn: number | undefined;
  const rest = text.replace(FLAGS, (_all, flag: string, n?: string, unit?: string) => {
    const f = flag.toLowerCase();
    if (f === "anonymous") anonymous = true;
    else if (f === "multi") multi = true;
    else closesIn = Number(n) * UNIT_S[(unit ?? "").toLowerCase()];
    return "";
  }).trim();
  const m = rest.match(/^"([^"]+)"\s*(.*)$/s) ?? rest.match(/^([^|]+\?)\s*(.*)$/s);
  if (!m) return undefined;
  const options = m[2].split("|").map((o) => o.trim()).filter((o) => o !== "");
  if (options.length < 2) return undefined;
  return { question: m[1].trim(), options, anonymous, multi, closesIn };
}
