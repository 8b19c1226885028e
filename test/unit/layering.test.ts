/**
 * Enforces the dependency direction bin → cli → commands → core → native facade → kernels by scanning
 * imports: core never reaches up (cli/commands), never prints or exits; only src/native loads the addon.
 * Inside core, folders sit in tiers (TIERS, lowest first): no import from a lower tier up into a higher
 * one, no circle between the folders of a tier, and no circle between files.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLayering, readImportGraph, specifiers, stripComments, type ImportGraph } from '../helpers/import-graph.js';

const SRC = new URL('../../src/', import.meta.url).pathname;

/**
 * Every module of src/, lowest tier first; a module may import its own tier or lower ones. A new folder
 * under src/core goes into the tier of what it is, in the commit that adds it.
 */
export const TIERS: readonly (readonly string[])[] = [
  // foundations: typed errors, caps, units, pure helpers (the native facade may use the errors)
  ['core/errors', 'core/limits', 'core/plural', 'core/units', 'core/figure', 'core/io-tuning'],
  // the only module that knows the addon exists
  ['native'],
  // dtypes, files (atomic output, guards, locks, disk space), the worker abstraction, chart rendering
  ['core/dtype', 'core/fs', 'core/worker', 'core/plot'],
  // TypeScript references of the quantization schemes (pure math)
  ['core/quant'],
  // typed ops over the facade: compute kernels, copy/writeback, sha256
  ['core/ops'],
  // the quant-format registry, safetensors reading and writing, hub transfer
  ['core/formats', 'core/safetensors', 'core/hub'],
  // the model family as data
  ['core/arch'],
  // a checkpoint directory: headers, config, completeness checks
  ['core/checkpoint'],
  // the runtime (forward pass) and text in and out of it
  ['core/model', 'core/text'],
  // the streaming pipeline under convert and quantize; engines' loader rules as data
  ['core/pipeline', 'core/engines'],
  // the one tensor view over a checkpoint directory (HF, m1kit rank layout, quantized) that convert and
  // every reading command go through; conversion features on the pipeline and its sinks
  ['core/view', 'core/convert', 'core/quantize', 'core/gguf'],
  // features that commands call
  ['core/inspect', 'core/verify', 'core/generation', 'core/imatrix', 'core/fixture', 'core/flops', 'core/bench'],
  // the command kit and the library API over core
  ['commands/_shared', 'library'],
  ['commands'],
  // entries: the package's exports and the command line
  ['index', 'cli'],
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const imports = (text: string) => specifiers(text);
/** Strip comments so that examples in JSDoc do not count. */
const code = stripComments;

describe('layering', () => {
  const all = files(SRC).map((p) => ({ rel: relative(SRC, p), text: code(readFileSync(p, 'utf8')) }));

  it('core never imports cli or commands, never prints, exits or draws progress', () => {
    const bad: string[] = [];
    for (const f of all.filter((f) => f.rel.startsWith('core/'))) {
      for (const i of imports(f.text)) if (/\/(cli|commands)\//.test(i) || i === 'cli-progress' || i === 'chalk') bad.push(`${f.rel} imports ${i}`);
      if (/\bconsole\.(log|error|warn|info)\(|process\.exit\(|process\.(stdout|stderr)\.write\(/.test(f.text)) bad.push(`${f.rel} prints or exits`);
    }
    expect(bad).toEqual([]);
  });

  it('only the native facade knows the addon exists', () => {
    const bad = all.filter((f) => !f.rel.startsWith('native/') && (/\.node['"]/.test(f.text) || /createRequire\([^)]*\)\([^)]*build\/Release/.test(f.text))).map((f) => f.rel);
    expect(bad).toEqual([]);
    const cmdNative = all.filter((f) => f.rel.startsWith('commands/') && imports(f.text).some((i) => i.includes('/native/'))).map((f) => f.rel);
    expect(cmdNative).toEqual([]);
  });

  it('native facade does not reach up into commands or cli', () => {
    const bad = all.filter((f) => f.rel.startsWith('native/') && imports(f.text).some((i) => /\/(cli|commands)\//.test(i))).map((f) => f.rel);
    expect(bad).toEqual([]);
  });

  it('only cli/ sets exit codes or exits the process', () => {
    const bad = all.filter((f) => !f.rel.startsWith('cli/') && /process\.exit(Code)?\b/.test(f.text)).map((f) => f.rel);
    expect(bad).toEqual([]);
  });

  describe('direction and circles', () => {
    const report = checkLayering(readImportGraph(SRC), TIERS);

    it('every module of src/ is in a tier', () => {
      expect(report.unknown).toEqual([]);
    });

    it('no import from a lower tier up into a higher one', () => {
      expect(report.upward).toEqual([]);
    });

    it('no circle between the modules of a tier, nor between files', () => {
      expect([...report.moduleCycles, ...report.fileCycles]).toEqual([]);
    });
  });

  describe('the checker fails on a deliberate violation', () => {
    const tiers = [['core/errors'], ['core/safetensors'], ['core/model', 'core/text'], ['commands']];
    const graph = (edges: [string, string][]): ImportGraph => {
      const g: ImportGraph = new Map();
      for (const [a, b] of edges) {
        g.set(a, [...(g.get(a) ?? []), b]);
        if (!g.has(b)) g.set(b, []);
      }
      return g;
    };

    it('passes a graph that only imports downward', () => {
      const r = checkLayering(graph([['core/model/forward.ts', 'core/safetensors/reader.ts'], ['core/safetensors/reader.ts', 'core/errors.ts'], ['core/text/input.ts', 'core/model/tokens.ts'], ['commands/forward.ts', 'core/model/forward.ts']]), tiers);
      expect(r).toEqual({ unknown: [], upward: [], moduleCycles: [], fileCycles: [] });
    });

    it('an import from a lower tier up into a higher one', () => {
      const r = checkLayering(graph([['core/safetensors/reader.ts', 'core/model/forward.ts']]), tiers);
      expect(r.upward).toEqual(['core/safetensors/reader.ts -> core/model/forward.ts (core/safetensors, tier 1, imports core/model, tier 2)']);
    });

    it('a circle between two folders of one tier, and between files', () => {
      const r = checkLayering(graph([['core/model/a.ts', 'core/text/b.ts'], ['core/text/b.ts', 'core/text/c.ts'], ['core/text/c.ts', 'core/model/a.ts']]), tiers);
      expect(r.upward).toEqual([]);
      expect(r.moduleCycles).toEqual(['core/model -> core/text -> core/model']);
      expect(r.fileCycles).toEqual(['core/model/a.ts -> core/text/b.ts -> core/text/c.ts -> core/model/a.ts']);
    });

    it('a type-only circle between two files of one folder', () => {
      const g: ImportGraph = new Map();
      for (const [f, text] of [['core/model/peak.ts', "import type { R } from './native-peak.js';"], ['core/model/native-peak.ts', "export type { P } from './peak.js';"]] as const) {
        g.set(f, specifiers(text).map((s) => `core/model/${s.slice(2).replace(/\.js$/, '.ts')}`));
      }
      expect(checkLayering(g, tiers).fileCycles).toEqual(['core/model/native-peak.ts -> core/model/peak.ts -> core/model/native-peak.ts']);
    });

    it('a folder that is in no tier, with a message saying to add it', () => {
      const r = checkLayering(graph([['core/pipeline/plan.ts', 'core/errors.ts']]), tiers);
      expect(r.unknown).toEqual(['core/pipeline (core/pipeline/plan.ts) is in no tier of the layering rank list: add it to TIERS in test/unit/layering.test.ts at the level it belongs to']);
    });

    it('dynamic, side-effect and re-export imports count, and so does a file importing itself', () => {
      expect(specifiers("const m = await import('./x.js'); import './side.js';\nexport { y } from './y.js';")).toEqual(['./x.js', './side.js', './y.js']);
      const r = checkLayering(graph([['core/errors.ts', 'core/errors.ts']]), tiers);
      expect(r.fileCycles).toEqual(['core/errors.ts -> core/errors.ts']);
    });
  });
});
