/**
 * Slash-command parsing: `/name word "two words" rest of text`.
 * Words split on spaces; a word in double quotes keeps its spaces (paths like "my notes.pdf").
 */
import type { SlashInput } from "../../plugins/types.ts";

export interface ParsedSlash {
  name: string;
  input: SlashInput;
}

/** Returns undefined for lines that are not slash commands. */
export function parseSlash(line: string): ParsedSlash | undefined {
  const m = line.match(/^\/(\S+)\s*(.*)$/s);
  if (!m) return undefined;
  const rest = m[2];
  const words = splitWords(rest);
  return {
    name: m[1].toLowerCase(),
    input: {
      args: words.map((w) => w.value),
      tail: (n) => (n <= 0 ? rest : n > words.length ? "" : rest.slice(words[n - 1].end).trim()),
    },
  };
}

interface Word {
  value: string;
  end: number;
}

function splitWords(s: string): Word[] {
  const words: Word[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const m of s.matchAll(re)) {
    const value = m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2];
    words.push({ value, end: m.index! + m[0].length });
  }
  return words;
}
