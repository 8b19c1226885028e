/**
 * The import graph of src/ and the checker the layering test runs on it. Pure functions on a
 * `{ file → imported files }` map, so the test can feed the same checker a synthetic graph and see it
 * fail.
 *
 * A file belongs to a module: `core/<folder>` for src/core/<folder>/…, `core/<name>` for a file at the
 * top of src/core, `commands/_shared`, `commands`, `cli`, `native`, and `library` / `index` for the
 * package entry. Modules sit in tiers, lowest first; a file may import a module of its own tier or a
 * lower one, never a higher one. Between modules of one tier, and between files, there is no circle.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative } from 'node:path';

/** file (relative to src/, e.g. "core/convert/run.ts") → the files it imports (same form). */
export type ImportGraph = Map<string, string[]>;

/** Strip comments so that examples in JSDoc do not count. */
export const stripComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');

/** Module specifiers of a source text: static, `export … from`, side-effect and dynamic imports (type-only ones too). */
export const specifiers = (text: string) => [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]!);

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The relative imports of every .ts file under `src`, resolved to files (`./x.js` → `x.ts`). */
export function readImportGraph(src: string): ImportGraph {
  const g: ImportGraph = new Map();
  for (const p of tsFiles(src)) {
    const rel = relative(src, p).split('\\').join('/');
    const targets = specifiers(stripComments(readFileSync(p, 'utf8')))
      .filter((s) => s.startsWith('.'))
      .map((s) => posix.normalize(posix.join(posix.dirname(rel), s)).replace(/\.js$/, '.ts'));
    g.set(rel, [...new Set(targets)]);
  }
  // only imports of the scanned sources count (not package.json, .mjs hooks or dist/)
  for (const [f, tos] of g) g.set(f, tos.filter((t) => g.has(t)));
  return g;
}

/** The module of a file (see the file comment). */
export function moduleOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'core') return parts.length > 2 ? `core/${parts[1]}` : `core/${parts[1]!.replace(/\.ts$/, '')}`;
  if (parts[0] === 'commands') return parts[1] === '_shared' ? 'commands/_shared' : 'commands';
  return parts[0]!.replace(/\.ts$/, '');
}

export interface LayeringReport {
  /** Files whose module is in no tier: "<module> (<file>) …". */
  unknown: string[];
  /** Imports from a lower tier up into a higher one: "a.ts -> b.ts (tier i imports tier j)". */
  upward: string[];
  /** Circles between modules of one tier: "m1 -> m2 -> m1". */
  moduleCycles: string[];
  /** Circles between files: "a.ts -> b.ts -> a.ts". */
  fileCycles: string[];
}

/** Strongly connected components with more than one node (or a self-loop), each as a closed path. */
export function cycles(nodes: Iterable<string>, next: (n: string) => Iterable<string>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of next(v)) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || [...next(v)].includes(v)) out.push(closedPath(comp, next));
    }
  };
  for (const n of [...nodes].sort()) if (!idx.has(n)) visit(n);
  return out;
}

/** One circle through the first (sorted) member of a component, found by breadth-first search inside it. */
function closedPath(comp: string[], next: (n: string) => Iterable<string>): string[] {
  const members = new Set(comp);
  const start = [...comp].sort()[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of [...next(v)].sort()) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(prev.get(path[0]!)!);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** Check a graph against tiers of modules (lowest first). */
export function checkLayering(graph: ImportGraph, tiers: readonly (readonly string[])[]): LayeringReport {
  const tierOf = new Map(tiers.flatMap((t, i) => t.map((m) => [m, i] as const)));
  const report: LayeringReport = { unknown: [], upward: [], moduleCycles: [], fileCycles: [] };
  const unknown = new Map<string, string>();
  for (const f of graph.keys()) if (!tierOf.has(moduleOf(f)) && !unknown.has(moduleOf(f))) unknown.set(moduleOf(f), f);
  for (const [m, f] of unknown) report.unknown.push(`${m} (${f}) is in no tier of the layering rank list: add it to TIERS in test/unit/layering.test.ts at the level it belongs to`);
  const moduleEdges = new Map<string, Set<string>>();
  for (const [from, tos] of graph) {
    const a = moduleOf(from);
    for (const to of tos) {
      const b = moduleOf(to);
      if (a === b) continue;
      const ta = tierOf.get(a);
      const tb = tierOf.get(b);
      if (ta === undefined || tb === undefined) continue;
      if (tb > ta) report.upward.push(`${from} -> ${to} (${a}, tier ${ta}, imports ${b}, tier ${tb})`);
      else if (tb === ta) {
        if (!moduleEdges.has(a)) moduleEdges.set(a, new Set());
        moduleEdges.get(a)!.add(b);
      }
    }
  }
  report.moduleCycles = cycles(moduleEdges.keys(), (m) => moduleEdges.get(m) ?? []).map((c) => c.join(' -> '));
  report.fileCycles = cycles(graph.keys(), (f) => graph.get(f) ?? []).map((c) => c.join(' -> '));
  return report;
}
