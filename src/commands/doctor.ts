import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { action } from './_shared/action.js';
import { table } from './_shared/reporter.js';
import { UnavailableError, VerificationError } from '../core/errors.js';
import { nativeInfo, type NativeInfo } from '../core/ops/info.js';
import { selfTest, type SelfTestResult } from '../core/ops/self-test.js';

function packageVersion(): string {
  try {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
    return (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function render(r: { node: string; m1kit: string; native: NativeInfo; selfTest: SelfTestResult[] }): string {
  const n = r.native;
  const ok = (b: boolean) => (b ? '✓' : '→');
  const lines = [
    `node            ${r.node} (${process.platform}-${process.arch})`,
    `m1kit           ${r.m1kit}`,
    `native addon    ${ok(n.loaded)} ${n.loaded ? `loaded (N-API ${n.napiVersion ?? '?'}, compiler ${n.compiler ?? '?'})` : `not loaded: ${n.reason}`}`,
  ];
  if (!n.loaded) for (const h of n.hints) lines.push(`                  possible fix: ${h}`);
  lines.push(`SIMD path       ${n.simd}${n.simdAvailable.length ? ` (available: ${n.simdAvailable.join(', ')}; force with M1KIT_SIMD)` : ''}`);
  if (n.simdError) lines.push(`                  ✗ ${n.simdError}`);
  if (n.simdNote) lines.push(`                  ! ${n.simdNote}`);
  const byLevel = new Map<string, string[]>();
  for (const [slot, level] of Object.entries(n.slots)) byLevel.set(level ?? 'none', [...(byLevel.get(level ?? 'none') ?? []), slot]);
  for (const [level, slots] of byLevel) lines.push(`  ${level.padEnd(13)} ${slots.join(', ')}`);
  lines.push(`threads         ${n.threads} (set with --threads or M1KIT_THREADS)`);
  const c = n.cuda;
  lines.push(`CUDA library    ${ok(c.compiled)} ${c.compiled ? `compiled${c.nvcc ? ` (nvcc ${c.nvcc}, sm_80 + sm_90)` : ''}` : 'not compiled'}`);
  lines.push(`CUDA devices    ${c.deviceCount}${c.devices.length ? `: ${c.devices.join(', ')}` : ''}${c.reason ? ` (${c.reason})` : ''}`);
  lines.push(c.loaded ? '                  ✓ CUDA kernels available' : '                  → CPU kernels only');
  if (r.selfTest.length === 0) {
    lines.push('', 'self-test       skipped (--no-self-test)');
  } else {
    lines.push('', `self-test (${n.loaded ? `native, ${n.simd}` : 'TypeScript reference'} vs reference):`);
    lines.push(table(['kernel', 'result', 'detail', 'ms'], r.selfTest.map((t) => [t.kernel, t.ok ? 'ok' : 'FAIL', t.detail, t.ms.toFixed(1)])));
  }
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('report the native kernels, SIMD path, threads and CUDA devices, and self-test every kernel')
    .option('--no-self-test', 'skip the kernel self-test')
    .addHelpText(
      'after',
      `
Examples:
  $ m1kit doctor                      # environment + ~1 s self-test of each kernel
  $ m1kit doctor --json               # the same as one JSON document
  $ M1KIT_SIMD=avx2 m1kit doctor      # force a SIMD path (scalar | avx2 | avx512)

Exit codes: 0 all checks passed · 4 a kernel disagrees with its reference · 5 a forced SIMD path is unsupported.`,
    )
    .action(
      action('doctor', async (ctx, opts: { selfTest: boolean }) => {
        const native = nativeInfo();
        if (ctx.globals.threads !== undefined) {
          process.env.M1KIT_THREADS = String(ctx.globals.threads);
          native.threads = ctx.globals.threads;
        }
        if (native.simdError) {
          throw new UnavailableError(native.simdError.includes('unknown SIMD') ? 'E_SIMD_UNKNOWN' : 'E_SIMD_UNSUPPORTED', native.simdError, { hint: `available: ${native.simdAvailable.join(', ')}` });
        }
        let results: SelfTestResult[] = [];
        if (opts.selfTest) {
          const bar = ctx.reporter.progress('self-test', 7);
          results = await selfTest({ signal: ctx.signal, onProgress: (done) => bar.update(done) });
          bar.stop();
        }
        const report = { node: process.version, m1kit: packageVersion(), native, selfTest: results };
        const failed = results.filter((t) => !t.ok);
        if (failed.length > 0) {
          if (!ctx.globals.json) ctx.reporter.result(report, () => render(report));
          throw new VerificationError('E_SELF_TEST', `kernel self-test failed: ${failed.map((t) => `${t.kernel} (${t.detail})`).join(', ')}`);
        }
        ctx.reporter.result(report, () => render(report));
      }),
    );
}
