/**
 * The README's examples cannot go stale: code blocks marked `<!-- example: run -->` are run command by
 * command (each must exit 0), and blocks marked `<!-- example: output -->` (a `$ m1kit …` line, then
 * what it prints) are run and every shown line must appear in the real output, in order (`...` stands for
 * lines left out). `<!-- example: output labels -->` compares only each line's label (the text before
 * the first run of two spaces), for output whose values depend on the machine. Commands run in a fresh
 * directory holding `fixtures/` (the committed fixtures, read only).
 */
import { readFileSync } from 'node:fs';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { m1kit, REPO } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

export interface Example {
  kind: 'run' | 'output';
  labelsOnly: boolean;
  /** 1-based line of the block's first command in README.md. */
  line: number;
  commands: string[];
  /** Expected output lines (output blocks only). */
  expected: string[];
}

/** The marked blocks of a markdown text. */
export function markedExamples(md: string): Example[] {
  const lines = md.split('\n');
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^<!-- example: (run|output)( labels)? -->$/.exec(lines[i]!.trim());
    if (!m) continue;
    if (!/^```/.test(lines[i + 1] ?? '')) throw new Error(`README.md:${i + 1}: an example marker must be followed by a code block`);
    let j = i + 2;
    const body: string[] = [];
    while (j < lines.length && !/^```/.test(lines[j]!)) body.push(lines[j++]!);
    const ex: Example = { kind: m[1] as Example['kind'], labelsOnly: Boolean(m[2]), line: i + 3, commands: [], expected: [] };
    if (ex.kind === 'run') {
      ex.commands = body.map((l) => l.replace(/\s+#.*$/, '').replace(/^\$\s*/, '').trim()).filter((l) => l !== '');
    } else {
      ex.commands = [body[0]!.replace(/^\$\s*/, '').trim()];
      ex.expected = body.slice(1);
    }
    for (const c of ex.commands) if (!/^m1kit( |$)/.test(c)) throw new Error(`README.md:${ex.line}: "${c}" is not an m1kit command`);
    out.push(ex);
    i = j;
  }
  return out;
}

/** Split a command line into arguments (single and double quotes, no shell expansion). */
export function argv(command: string): string[] {
  const args = [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
  return args.slice(1); // drop "m1kit"
}

const label = (l: string) => l.trim().split(/\s{2,}/)[0]!;

/** Whether the expected lines appear in `actual` in order (`...` skips any number of lines). */
export function shownIn(expected: string[], actual: string[], labelsOnly: boolean): string | undefined {
  let at = 0;
  for (const e of expected) {
    if (e.trim() === '...' || e.trim() === '…') continue;
    const want = labelsOnly ? label(e) : e.trimEnd();
    const found = actual.findIndex((a, k) => k >= at && (labelsOnly ? label(a) === want : a.trimEnd() === want));
    if (found < 0) return `"${e}" not found (in order) in the output`;
    at = found + 1;
  }
  return undefined;
}

describe('README examples', () => {
  const examples = markedExamples(readFileSync(join(REPO, 'README.md'), 'utf8'));

  it('the extraction and comparison can fail', () => {
    const md = ['<!-- example: output -->', '```', '$ m1kit x', 'a  1', '...', 'c  3', '```', '<!-- example: run -->', '```', "m1kit y --z 'q r'   # note", '```'].join('\n');
    const [out, run] = markedExamples(md);
    expect(run!.commands).toEqual(["m1kit y --z 'q r'"]);
    expect(argv(run!.commands[0]!)).toEqual(['y', '--z', 'q r']);
    expect(shownIn(out!.expected, ['a  1', 'b  2', 'c  3'], false)).toBeUndefined();
    expect(shownIn(out!.expected, ['c  3', 'a  1'], false)).toMatch(/not found/);
    expect(shownIn(out!.expected, ['a  9', 'c  8'], true)).toBeUndefined();
    expect(shownIn(out!.expected, ['a  9'], true)).toMatch(/"c  3"/);
    expect(() => markedExamples('<!-- example: run -->\n```\nrm -rf x\n```')).toThrow(/not an m1kit command/);
  });

  it('marks a runnable tour and the inspect and doctor samples', () => {
    expect(examples.filter((e) => e.kind === 'run').flatMap((e) => e.commands).length).toBeGreaterThanOrEqual(8);
    expect(examples.filter((e) => e.kind === 'output').map((e) => e.commands[0])).toEqual(expect.arrayContaining(['m1kit inspect fixtures/tiny', 'm1kit doctor']));
  });

  it('every marked command runs and every sample matches the real output', async () => {
    const cwd = await tmpDir();
    await symlink(join(REPO, 'fixtures'), join(cwd, 'fixtures'), 'dir');
    const failures: string[] = [];
    for (const ex of examples) {
      for (const c of ex.commands) {
        const r = await m1kit(argv(c), { cwd, timeout: 300_000 });
        if (r.code !== 0) {
          failures.push(`README.md:${ex.line}: "${c}" exited ${r.code}: ${r.stderr.trim().split('\n')[0]}`);
          continue;
        }
        if (ex.kind === 'output') {
          const why = shownIn(ex.expected, r.stdout.split('\n'), ex.labelsOnly);
          if (why) failures.push(`README.md:${ex.line}: "${c}": ${why}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
