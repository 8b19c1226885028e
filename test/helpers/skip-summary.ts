/**
 * Vitest reporter: after the run's summary, one line per reason for which tests were skipped (the note
 * given to `ctx.skip(note)`, else the file), with the count — so a run that skipped the llama.cpp or
 * native tests says so instead of looking like a full pass. Listed in vitest.config.ts after 'default'.
 */
import type { Reporter, TestModule } from 'vitest/node';

/** Skipped tests grouped by reason: reason → (file → count). `todo` tests are not skips. */
export function skippedByReason(modules: ReadonlyArray<Pick<TestModule, 'relativeModuleId' | 'children'>>): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const m of modules) {
    for (const t of m.children.allTests('skipped')) {
      if (t.options.mode === 'todo') continue;
      const r = t.result();
      const note = r.state === 'skipped' && r.note ? r.note : 'skipped in the test file (no reason given)';
      const files = out.get(note) ?? new Map<string, number>();
      files.set(m.relativeModuleId, (files.get(m.relativeModuleId) ?? 0) + 1);
      out.set(note, files);
    }
  }
  return out;
}

/** The summary lines ("skipped: none" when nothing was skipped). */
export function skipSummary(byReason: Map<string, Map<string, number>>): string[] {
  if (byReason.size === 0) return ['skipped: none'];
  return [...byReason].map(([note, files]) => {
    const n = [...files.values()].reduce((a, b) => a + b, 0);
    const where = [...files].map(([f, c]) => `${f} ${c}`).join(', ');
    return `skipped: ${n} test${n === 1 ? '' : 's'}: ${note} (${where})`;
  });
}

export default class SkipSummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    process.stdout.write(`${skipSummary(skippedByReason(modules)).map((l) => ` ${l}`).join('\n')}\n`);
  }
}
