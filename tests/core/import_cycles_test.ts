/**
 * No import cycles among the project's own modules (issue 18, docs/ARCHITECTURE.md): two files
 * that import each other, directly or round a loop, are one module cut in two. The graph is
 * `deno info --json` of every entry point (main.ts, bench/load.ts, docs/generate.ts and every
 * test), counting
 * static, type-only and dynamic imports alike: a type cycle still ties two files together.
 * The strongly connected components of that graph (Tarjan) must all be single modules.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

/** Cycles allowed: none. Kept as a list so that a reviewed exception would be named here. */
const ALLOWED: string[][] = [];

type Graph = Map<string, Set<string>>;

/** The components of `graph` that are cycles: more than one module, or one importing itself.
 *  Each sorted, and the list sorted by first module. Iterative Tarjan: no recursion limit. */
function cyclesOf(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  const next = (v: string) => [...(graph.get(v) ?? [])].sort()[Symbol.iterator]();
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
  };
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue;
    visit(start);
    const work: Array<[string, Iterator<string>]> = [[start, next(start)]];
    while (work.length) {
      const [v, children] = work[work.length - 1];
      let child = children.next();
      for (; !child.done; child = children.next()) {
        const w = child.value;
        if (!index.has(w)) {
          visit(w);
          work.push([w, next(w)]);
          break;
        }
        if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
      if (!child.done) continue;
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent)!, low.get(v)!));
      }
      if (low.get(v) !== index.get(v)) continue;
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || graph.get(v)?.has(v)) out.push(comp.sort());
    }
  }
  return out.sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

/** The entry points: main.ts, bench/load.ts, docs/generate.ts and every *_test.ts under
 *  tests/ and plugins/ (a plugin's tests live in its folder). */
async function entries(): Promise<string[]> {
  const out = ["main.ts", "bench/load.ts", "docs/generate.ts"];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(new URL(dir, ROOT))) {
      if (e.isDirectory) await walk(`${dir}${e.name}/`);
      else if (e.isFile && e.name.endsWith("_test.ts")) out.push(dir + e.name);
    }
  };
  await walk("tests/");
  await walk("plugins/");
  return out;
}

/** The import graph of the project's own modules (paths relative to the root), from one
 *  `deno info --json` of a temporary module that imports every entry point. */
async function projectGraph(): Promise<Graph> {
  const dir = await Deno.makeTempDir({ prefix: "classchat-cycles-" });
  try {
    const entry = `${dir}/entries.ts`;
    const lines = (await entries()).map((e) => `import ${JSON.stringify(new URL(e, ROOT).href)};`);
    await Deno.writeTextFile(entry, lines.join("\n") + "\n");
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, entry],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output();
    const err = new TextDecoder().decode(out.stderr).slice(0, 500);
    assert.equal(out.code, 0, `deno info failed: ${err}`);
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: Array<{
        specifier: string;
        dependencies?: Array<{ code?: { specifier?: string }; type?: { specifier?: string } }>;
      }>;
    };
    const root = ROOT.href;
    const local = (s: string | undefined) => s?.startsWith(root) ? s.slice(root.length) : undefined;
    const graph: Graph = new Map();
    for (const m of info.modules) {
      const from = local(m.specifier);
      if (from === undefined) continue;
      const deps = graph.get(from) ?? new Set<string>();
      graph.set(from, deps);
      for (const d of m.dependencies ?? []) {
        for (const to of [local(d.code?.specifier), local(d.type?.specifier)]) {
          if (to !== undefined) deps.add(to);
        }
      }
    }
    return graph;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A cycle's imports, one per line, to show where to cut it. */
function describe(graph: Graph, comp: string[]): string {
  const inside = new Set(comp);
  const edges = comp.flatMap((a) =>
    [...graph.get(a) ?? []].filter((b) => inside.has(b)).sort().map((b) => `    ${a} -> ${b}`)
  );
  return `  ${comp.join(" <-> ")}\n${edges.join("\n")}`;
}

Deno.test("import cycles - the detector finds loops of one, two and three modules, not a DAG", () => {
  const g = (edges: Record<string, string[]>): Graph =>
    new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));
  assert.deepEqual(cyclesOf(g({ a: ["b", "c"], b: ["c"], c: [] })), []);
  assert.deepEqual(cyclesOf(g({ a: ["b"], b: ["a"] })), [["a", "b"]]);
  assert.deepEqual(cyclesOf(g({ a: ["b"], b: ["c"], c: ["a", "d"], d: ["d"], e: ["a"] })), [
    ["a", "b", "c"],
    ["d"],
  ]);
  assert.deepEqual(cyclesOf(g({ x: ["y"], y: ["x"], p: ["q"], q: ["r"], r: ["p"] })), [
    ["p", "q", "r"],
    ["x", "y"],
  ]);
});

Deno.test("import cycles - none among the project's modules", async () => {
  const graph = await projectGraph();
  assert.ok(graph.has("main.ts") && graph.has("core/server/server.ts"), "deno info gave no graph");
  const key = (c: string[]) => c.join(" ");
  const allowed = new Set(ALLOWED.map(key));
  const found = cyclesOf(graph);
  const unexpected = found.filter((c) => !allowed.has(key(c)));
  const gone = ALLOWED.filter((c) => !found.some((f) => key(f) === key(c)));
  const problems: string[] = [];
  if (unexpected.length) {
    problems.push(
      "import cycles (move what the files share into a module both import, or pass an " +
        "interface instead of importing a class; an allow-listed cycle that grew or shrank " +
        "shows here too):\n" + unexpected.map((c) => describe(graph, c)).join("\n"),
    );
  }
  if (gone.length) {
    problems.push(
      "allow-listed cycles no longer found: remove them from ALLOWED in " +
        `tests/core/import_cycles_test.ts:\n${gone.map((c) => `  ${c.join(" <-> ")}`).join("\n")}`,
    );
  }
  if (problems.length) assert.fail(problems.join("\n"));
});
