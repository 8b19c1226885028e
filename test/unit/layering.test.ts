/**
 * Enforces the dependency direction bin → cli → commands → core → native facade → kernels by scanning
 * imports: core never reaches up (cli/commands), never prints or exits; only src/native loads the addon.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../../src/', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const imports = (text: string) => [...text.matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
/** Strip comments so that examples in JSDoc do not count. */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');

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
});
