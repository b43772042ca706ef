/** Marks after names (ClientApi.badge), e.g. staff's: shared by the terminal and the page. */
import type { Ui } from "../../plugins/types.ts";

/** A plugin's mark for a name (e.g. "staff"), or undefined. */
export type Badge = (name: string) => string | undefined;

/** The marks `badges` put on a name, in registration order. */
export function marksOf(badges: readonly Badge[], name: string): string[] {
  const marks: string[] = [];
  for (const fn of badges) {
    const mark = fn(name);
    if (mark) marks.push(mark);
  }
  return marks;
}

/** `ui` with every name it styles followed by its marks, dim: `Prof (staff)`. */
export function badgedUi(ui: Ui, badges: readonly Badge[]): Ui {
  if (badges.length === 0) return ui;
  const name = (n: string) => {
    const marks = marksOf(badges, n).map((m) => ` (${m})`).join("");
    return ui.style.name(n) + (marks && ui.style.dim(marks));
  };
  return { ...ui, style: { ...ui.style, name } };
}
