/**
 * Terminal screens as HTML, for the README's screenshots (screenshots.ts): a tmux capture
 * (`capture-pane -e -p`, text with SGR colour escapes) becomes a dark terminal window, and
 * several windows side by side make one page.
 */

/** One captured terminal: its title, rows (with escapes) and cursor cell, if shown. */
export interface Pane {
  title: string;
  rows: string[];
  columns: number;
  cursor?: { x: number; y: number };
}

/** The xterm palette (colours 0-15), dark-theme tuned like most terminal emulators. */
const BASE16 = [
  "#1d1f21",
  "#cc6666",
  "#8fbc5a",
  "#e0b050",
  "#6a9fd8",
  "#b48ec8",
  "#5fb8b0",
  "#c5c8c6",
  "#707880",
  "#f07878",
  "#b5d86a",
  "#f0c674",
  "#81a2be",
  "#c9a0dc",
  "#8abeb7",
  "#ffffff",
]; // deno-fmt-ignore
const FG = "#d7dae0";
const BG = "#1b1d23";

/** xterm's 256 colours: 16 base, a 6x6x6 cube, 24 greys. */
function color256(n: number): string {
  if (n < 16) return BASE16[n];
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v},${v},${v})`;
  }
  const c = n - 16;
  const level = (i: number) => (i === 0 ? 0 : 55 + i * 40);
  return `rgb(${level(Math.floor(c / 36))},${level(Math.floor(c / 6) % 6)},${level(c % 6)})`;
}

interface Style {
  fg?: string;
  bg?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
}

/** Applies one SGR sequence's parameters (`ESC [ p;p;... m`) to a style. */
function applySgr(style: Style, params: number[]): Style {
  const s = { ...style };
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    if (p === 0) Object.keys(s).forEach((k) => delete s[k as keyof Style]);
    else if (p === 1) s.bold = true;
    else if (p === 2) s.dim = true;
    else if (p === 3) s.italic = true;
    else if (p === 4) s.underline = true;
    else if (p === 7) s.inverse = true;
    else if (p === 22) s.bold = s.dim = false;
    else if (p === 23) s.italic = false;
    else if (p === 24) s.underline = false;
    else if (p === 27) s.inverse = false;
    else if (p >= 30 && p <= 37) s.fg = BASE16[p - 30];
    else if (p >= 90 && p <= 97) s.fg = BASE16[p - 90 + 8];
    else if (p >= 40 && p <= 47) s.bg = BASE16[p - 40];
    else if (p >= 100 && p <= 107) s.bg = BASE16[p - 100 + 8];
    else if (p === 39) delete s.fg;
    else if (p === 49) delete s.bg;
    else if (p === 38 || p === 48) {
      // 38;5;n (256 colours) or 38;2;r;g;b (true colour); 48 likewise for the background.
      const key = p === 38 ? "fg" : "bg";
      if (params[i + 1] === 5) {
        s[key] = color256(params[i + 2]);
        i += 2;
      } else if (params[i + 1] === 2) {
        s[key] = `rgb(${params[i + 2]},${params[i + 3]},${params[i + 4]})`;
        i += 4;
      }
    }
  }
  return s;
}

function css(s: Style): string {
  let fg = s.fg ?? FG;
  let bg = s.bg;
  if (s.inverse) [fg, bg] = [bg ?? BG, fg];
  const out = [`color:${fg}`];
  if (bg) out.push(`background:${bg}`);
  if (s.bold) out.push("font-weight:bold");
  if (s.dim) out.push("opacity:0.6");
  if (s.italic) out.push("font-style:italic");
  if (s.underline) out.push("text-decoration:underline");
  return out.join(";");
}

const escapeHtml = (t: string) =>
  t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** One row as HTML spans; the cell at `cursorX` (if given) is drawn as a block cursor. The
 *  style carries over from the row before, as in the terminal. */
function rowHtml(row: string, style: Style, cursorX?: number): { html: string; style: Style } {
  const cells: Array<{ ch: string; css: string }> = [];
  // Text runs and escape sequences, in order; only SGR (ESC [ ... m) changes anything here.
  // deno-lint-ignore no-control-regex -- ESC (0x1b) is what the sequences start with
  for (const m of row.matchAll(/\x1b\[([0-9;:]*)([A-Za-z])|([^\x1b]+)/g)) {
    if (m[3] !== undefined) { for (const ch of m[3]) cells.push({ ch, css: css(style) }); }
    else if (m[2] === "m") style = applySgr(style, (m[1] || "0").split(/[;:]/).map(Number));
  }
  if (cursorX !== undefined) {
    while (cells.length <= cursorX) cells.push({ ch: " ", css: css({}) });
    cells[cursorX].css = "cursor";
  }
  let html = "";
  for (let i = 0; i < cells.length;) {
    let j = i;
    while (j < cells.length && cells[j].css === cells[i].css) j++;
    const text = escapeHtml(cells.slice(i, j).map((c) => c.ch).join(""));
    const attr = cells[i].css === "cursor" ? 'class="cursor"' : `style="${cells[i].css}"`;
    html += `<span ${attr}>${text}</span>`;
    i = j;
  }
  return { html, style };
}

/** A pane as a window: a title bar over a monospace screen of its rows. */
function paneHtml(p: Pane): string {
  let style: Style = {};
  const rows = p.rows.map((row, y) => {
    const r = rowHtml(row, style, p.cursor?.y === y ? p.cursor.x : undefined);
    style = r.style;
    return r.html;
  });
  return `<div class="win"><div class="bar"><i></i><i></i><i></i><span>${
    escapeHtml(p.title)
  }</span></div><pre style="width:${p.columns}ch">${rows.join("\n")}</pre></div>`;
}

/** A page with the panes one above the other (a README column is about one terminal wide),
 *  in the element `#shot`. */
export function pageHtml(panes: Pane[]): string {
  return `<!doctype html><html><head><meta charset="utf-8"><style>
body { margin: 0; background: #e9ecf1; }
#shot { display: inline-flex; flex-direction: column; gap: 16px; padding: 16px; }
.win { border-radius: 8px; overflow: hidden; box-shadow: 0 4px 14px rgba(0,0,0,.35); }
.bar { background: #30333b; height: 26px; display: flex; align-items: center; padding: 0 10px;
  font: 13px "DejaVu Sans", sans-serif; color: #c8ccd4; }
.bar i { width: 11px; height: 11px; border-radius: 50%; background: #5b5f69; margin-right: 6px; }
.bar span { margin-left: 8px; }
pre { margin: 0; padding: 8px 10px; background: ${BG}; color: ${FG};
  font: 14px/18px "DejaVu Sans Mono", monospace; white-space: pre; }
.cursor { background: ${FG} !important; color: ${BG} !important; }
</style></head><body><div id="shot">${panes.map(paneHtml).join("")}</div></body></html>`;
}
