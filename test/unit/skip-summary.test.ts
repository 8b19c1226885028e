/** The skip summary the test run ends with: skipped tests grouped by their reason, with counts. */
import { describe, expect, it } from 'vitest';
import { skippedByReason, skipSummary } from '../helpers/skip-summary.js';

type FakeTest = { mode: 'run' | 'skip' | 'todo'; state: 'passed' | 'skipped'; note?: string };
const mod = (id: string, tests: FakeTest[]) => ({
  relativeModuleId: id,
  children: {
    *allTests(state?: string) {
      for (const t of tests) if (!state || t.state === state) yield { options: { mode: t.mode }, result: () => ({ state: t.state, note: t.note }) };
    },
  },
});

describe('skip summary', () => {
  it('groups skips by note and file, ignores todo and passed tests', () => {
    const note = 'node-llama-cpp is not installed';
    const modules = [
      mod('test/gguf/llama-e2e.test.ts', [...Array(16)].map(() => ({ mode: 'run' as const, state: 'skipped' as const, note }))),
      mod('test/gguf/cli.test.ts', [{ mode: 'run', state: 'skipped', note }, { mode: 'run', state: 'passed' }, { mode: 'todo', state: 'skipped' }]),
      mod('test/native/copy.test.ts', [{ mode: 'skip', state: 'skipped' }]),
    ];
    const lines = skipSummary(skippedByReason(modules as never));
    expect(lines).toEqual([
      `skipped: 17 tests: ${note} (test/gguf/llama-e2e.test.ts 16, test/gguf/cli.test.ts 1)`,
      'skipped: 1 test: skipped in the test file (no reason given) (test/native/copy.test.ts 1)',
    ]);
  });

  it('says "none" when nothing was skipped', () => {
    expect(skipSummary(skippedByReason([mod('a.test.ts', [{ mode: 'run', state: 'passed' }])] as never))).toEqual(['skipped: none']);
  });
});
