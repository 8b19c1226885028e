/**
 * `m1kit doctor` through the built CLI (needs `npx tsc -p .`): truthful native/SIMD/CUDA report,
 * M1KIT_SIMD forcing, M1KIT_NO_NATIVE fallback, exit codes.
 */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { nativeInfo } from '../../src/core/ops/info.js';

const root = new URL('../..', import.meta.url).pathname;
const doctor = (env: Record<string, string> = {}, args: string[] = []) =>
  execa('node', ['bin/m1kit.js', 'doctor', '--json', ...args], { cwd: root, reject: false, env: { ...env, NO_COLOR: '1' } });

const info = nativeInfo();

describe('m1kit doctor', () => {
  it('reports the addon, SIMD path, threads, CUDA and a passing self-test', async () => {
    const r = await doctor();
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.command).toBe('doctor');
    expect(doc.result.node).toBe(process.version);
    expect(doc.result.native.loaded).toBe(info.loaded);
    expect(doc.result.native.simd).toBe(info.simd); // the best path, or the one M1KIT_SIMD forces
    expect(doc.result.native.cuda.deviceCount).toBe(info.cuda.deviceCount);
    expect(doc.result.native.cuda.compiled).toBe(info.cuda.compiled);
    expect(doc.result.selfTest.map((t: { kernel: string }) => t.kernel)).toEqual([
      'lightning prefill', 'lightning decode', 'softmax attention', 'gemm (bf16 weights)', 'convert bf16/fp16',
      'fp8 block quantize', 'int8 / int4 quantize', 'sha256 lanes',
    ]);
    for (const t of doc.result.selfTest) expect(t.ok).toBe(true);
  });

  it.runIf(info.loaded)('honours M1KIT_SIMD for every available path and --threads', async () => {
    for (const simd of info.simdAvailable) {
      const doc = JSON.parse((await doctor({ M1KIT_SIMD: simd }, ['--no-self-test', '--threads', '1'])).stdout);
      expect(doc.result.native.simd).toBe(simd);
      expect(doc.result.native.threads).toBe(1);
    }
  });

  it.runIf(info.loaded)('fails with exit code 5 for an unknown SIMD path', async () => {
    const r = await doctor({ M1KIT_SIMD: 'sse9' });
    expect(r.exitCode).toBe(5);
    expect(JSON.parse(r.stdout).error.code).toBe('E_SIMD_UNKNOWN');
  });

  it('falls back to the TypeScript reference with M1KIT_NO_NATIVE=1 and says why', async () => {
    const r = await doctor({ M1KIT_NO_NATIVE: '1' });
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.result.native.loaded).toBe(false);
    expect(doc.result.native.simd).toBe('none');
    expect(doc.result.native.reason).toMatch(/M1KIT_NO_NATIVE/);
    for (const t of doc.result.selfTest) expect(t.ok).toBe(true);
  });
});
