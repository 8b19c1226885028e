/**
 * A clean clone must run and test with nothing beside it: no source or test file may reach outside the
 * repository — no absolute paths of a developer machine, no `../shared`-style sibling folders, no
 * relative path (module specifier, `new URL(…, import.meta.url)`, `dirname(…)` + `'..'` chains) that
 * resolves above the repository root.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli.js';

const SCANNED = ['src', 'test', 'bench', 'bin', 'fixtures/gen', 'fixtures/gguf', '.ci', 'vitest.config.ts', 'package.json'];
const TEXT = /\.(ts|mts|mjs|cjs|js|json)$|^run$/;

function files(p: string): string[] {
  const st = statSync(p);
  if (!st.isDirectory()) return TEXT.test(p.split(sep).pop()!) ? [p] : [];
  return readdirSync(p).flatMap((f) => (f === 'node_modules' ? [] : files(join(p, f))));
}

/** Absolute locations that only exist on some machine, and sibling folders of a checkout. */
const FOREIGN = [/["'`](?:\/work|\/home|\/Users|\/root|\/mnt|C:\\)[/\\]/, /\.\.\/shared\b/, /\bshared\/(?:reference|spec|tools)\b/, /\/work\/\.library\b/];

/** Every relative path a file resolves against its own location. */
function relativeTargets(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](\.\.?\/[^'"]*)['"]/g)) out.push(m[1]!);
  for (const m of text.matchAll(/new URL\(\s*['"`](\.\.?\/?[^'"`$]*)/g)) out.push(m[1]!);
  for (const m of text.matchAll(/dirname\(\s*fileURLToPath\(\s*import\.meta\.url\s*\)\s*\)((?:\s*,\s*['"][^'"]*['"])+)/g)) {
    out.push([...m[1]!.matchAll(/['"]([^'"]*)['"]/g)].map((a) => a[1]).join('/') || '.');
  }
  return out;
}

/** Problems of one file (`rel` relative to the repository root). */
export function outsideReferences(rel: string, text: string): string[] {
  const bad: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const re of FOREIGN) if (re.test(line)) bad.push(`${rel}:${i + 1}: ${line.trim().slice(0, 120)}`);
  });
  const fromDir = resolve(REPO, dirname(rel));
  for (const target of relativeTargets(text)) {
    const abs = resolve(fromDir, target);
    const r = relative(REPO, abs);
    if (r === '..' || r.startsWith(`..${sep}`)) bad.push(`${rel}: "${target}" resolves outside the repository (${abs})`);
  }
  return bad;
}

describe('nothing reaches outside the repository', () => {
  it('the detector catches each kind of escape (and passes paths inside the repo)', () => {
    expect(outsideReferences('test/x/a.test.ts', "const R = new URL('../../../shared/reference/m/', import.meta.url);")).not.toEqual([]);
    expect(outsideReferences('test/a.test.ts', "readFileSync('/work/shared/reference/m/config.json')")).not.toEqual([]);
    expect(outsideReferences('src/core/a.ts', "import { x } from '../../../lib.js';")).toHaveLength(1);
    expect(outsideReferences('src/core/bench/a.ts', "join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..')")).toHaveLength(1);
    expect(outsideReferences('src/core/bench/a.ts', "join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')")).toEqual([]);
    expect(outsideReferences('test/x/a.test.ts', "new URL('../../fixtures/reference/minimax-m1/', import.meta.url); import '../helpers/cli.js';")).toEqual([]);
  });

  it('no file under src/, test/, bin/, fixtures generators or CI does', () => {
    const all = SCANNED.map((p) => join(REPO, p)).flatMap((p) => {
      try {
        return files(p);
      } catch {
        return [];
      }
    });
    expect(all.length).toBeGreaterThan(100);
    // this file's own detector examples are the one allowed mention
    const bad = all.filter((p) => !p.endsWith('self-contained.test.ts')).flatMap((p) => outsideReferences(relative(REPO, p), readFileSync(p, 'utf8')));
    expect(bad).toEqual([]);
  });

  it('the released MiniMax-M1 config and index are committed as data', () => {
    const dir = join(REPO, 'fixtures/reference/minimax-m1');
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
    expect(config.architectures).toEqual(['MiniMaxM1ForCausalLM']);
    expect(index.metadata.total_size).toBe(912_210_767_872);
  });
});
