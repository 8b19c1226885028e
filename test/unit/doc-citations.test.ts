/**
 * Every section citation in the code and docs (`docs/architecture.md §3.3.4`, `§2.3–§2.4`, or a bare
 * `§5.2` in a file that cites one document) names a heading that exists in docs/. A citation of an
 * outside document (FIPS 180-4 §6.2.2, the MiniMax-M1 report §3) is left alone; a `§` with no document to resolve against, a
 * missing docs file, and the old citation forms that pointed outside the repository all fail.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli.js';

const SCANNED = ['src', 'test', 'bench', 'bin', 'kernels', 'docs', 'fixtures', 'README.md'];
const SKIP_DIRS = new Set(['node_modules', 'build', 'malformed', 'tiny', 'reference', 'tokenizer']);
const TEXT = /\.(ts|mts|mjs|cjs|js|h|hpp|cc|cpp|cu|md)$/;
/** Outside documents whose sections are cited by number (a standard, the model's tech report). */
const EXTERNAL = /FIPS 180-4|MiniMax-M1 report|tech report/g;

function files(p: string): string[] {
  const st = statSync(p);
  if (!st.isDirectory()) return TEXT.test(p) ? [p] : [];
  return readdirSync(p).flatMap((f) => (SKIP_DIRS.has(f) ? [] : files(join(p, f))));
}

/** Section numbers ("3.3.4") of every numbered heading of a markdown text. */
export function headings(md: string): Set<string> {
  return new Set([...md.matchAll(/^#{1,6}\s+(\d+(?:\.\d+)*)\.?\s/gm)].map((m) => m[1]!));
}

/**
 * Unresolved citations of one file. `docs` maps a docs file name ("architecture.md") to its headings;
 * `self` is the file's own docs name when it is one (bare § inside a doc cite that doc).
 */
export function unresolved(rel: string, text: string, docs: Map<string, Set<string>>, self?: string): string[] {
  const bad: string[] = [];
  if (/\b(?:ARCHITECTURE|ECOSYSTEM)(?:\.md)?\s*§|\bspec\s+§|shared\/spec/.test(text)) bad.push(`${rel}: cites the old outside spec; cite docs/<file>.md §N`);
  type Tok = { at: number; doc?: string; external?: boolean; section?: string };
  const toks: Tok[] = [
    ...[...text.matchAll(/docs\/([\w-]+\.md)/g)].map((m) => ({ at: m.index!, doc: m[1]! })),
    ...[...text.matchAll(EXTERNAL)].map((m) => ({ at: m.index!, external: true })),
    ...[...text.matchAll(/§\s?(\d+(?:\.\d+)*)/g)].map((m) => ({ at: m.index!, section: m[1]! })),
  ].sort((a, b) => a.at - b.at);
  const firstDoc = toks.find((t) => t.doc && docs.has(t.doc))?.doc ?? self;
  let current: Tok | undefined;
  for (const t of toks) {
    if (t.doc) {
      // a docs/… path that is not one of ours (test data) only counts when it is cited by section
      if (!docs.has(t.doc)) {
        if (/^docs\/[\w-]+\.md\s*§/.test(text.slice(t.at))) bad.push(`${rel}: docs/${t.doc} does not exist`);
        continue;
      }
      current = t;
    } else if (t.external) {
      current = t;
    } else if (t.section) {
      if (current?.external) continue;
      const doc = current?.doc ?? firstDoc;
      const line = text.slice(0, t.at).split('\n').length;
      if (!doc) bad.push(`${rel}:${line}: §${t.section} cites no document`);
      else if (docs.has(doc) && !docs.get(doc)!.has(t.section)) bad.push(`${rel}:${line}: docs/${doc} has no §${t.section}`);
    }
  }
  return bad;
}

describe('docs citations resolve', () => {
  const docs = new Map(readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => [f, headings(readFileSync(join(REPO, 'docs', f), 'utf8'))]));

  it('the checker catches a missing section, a missing doc, a bare § with no document and the old forms', () => {
    const d = new Map([['architecture.md', new Set(['3', '3.3', '3.3.4'])]]);
    expect(unresolved('a.ts', '// docs/architecture.md §3.3.4 and §3.3', d)).toEqual([]);
    expect(unresolved('a.ts', '// docs/architecture.md §3.3.9', d)).toHaveLength(1);
    expect(unresolved('a.ts', '// docs/nothing.md §1', d).join()).toMatch(/does not exist/);
    expect(unresolved('a.ts', '// see §3.3', d)).toHaveLength(1);
    expect(unresolved('a.ts', '// (ARCHITECTURE §3.3)', d).length).toBeGreaterThan(0);
    expect(unresolved('a.ts', '// FIPS 180-4 §6.2.2, docs/architecture.md §3', d)).toEqual([]);
    expect(headings('# T\n## 3. Forward\n#### 3.3.4 Block form\n')).toEqual(new Set(['3', '3.3.4']));
  });

  it('docs/ has the sections the code cites', () => {
    expect([...docs.keys()].sort()).toEqual(['architecture.md', 'ecosystem.md', 'gguf.md', 'llama-files.md']);
    expect(docs.get('architecture.md')!.size).toBeGreaterThan(30);
  });

  it('every citation under src/, test/, kernels/, docs/, fixtures/ and in the README resolves', () => {
    // this file's own checker examples are the one allowed exception
    const all = SCANNED.flatMap((p) => files(join(REPO, p))).filter((p) => !p.endsWith('doc-citations.test.ts'));
    let cited = 0;
    const bad = all.flatMap((p) => {
      const rel = relative(REPO, p);
      const text = readFileSync(p, 'utf8');
      cited += (text.match(/§/g) ?? []).length;
      const self = rel.startsWith(`docs${sep}`) ? rel.slice(5) : undefined;
      return unresolved(rel, text, docs, self);
    });
    expect(cited).toBeGreaterThan(60);
    expect(bad).toEqual([]);
  });
});
