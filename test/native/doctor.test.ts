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
    if (info.loaded) {
      // every slot is filled by a level this CPU runs, at or below the selected one
      const levels = ['amx', 'avx512bf16', 'avx512', 'avx2', 'scalar'];
      const top = levels.indexOf(doc.result.native.simd);
      for (const slot of ['lightning_prefill', 'lightning_prefill_bf16', 'lightning_decode', 'softmax_attention', 'gemm', 'gemm_bf16', 'gemm_grouped', 'quant_fp8', 'fma_peak', 'stream']) {
        const lv = doc.result.native.slots[slot];
        expect(info.simdAvailable).toContain(lv);
        expect(levels.indexOf(lv)).toBeGreaterThanOrEqual(top);
      }
    }
  });

  it.runIf(info.loaded)('shows which level fills each slot; slots fall back level by level', async () => {
    const r = await execa('node', ['bin/m1kit.js', 'doctor', '--no-self-test'], { cwd: root, reject: false, env: { NO_COLOR: '1' } });
    expect(r.stdout).toMatch(/lightning_prefill/);
    if (info.simdAvailable.includes('avx512bf16')) {
      const doc = JSON.parse((await doctor({ M1KIT_SIMD: 'avx512bf16' }, ['--no-self-test'])).stdout);
      expect(doc.result.native.slots.gemm_bf16).toBe('avx512bf16'); // vdpbf16ps
      expect(doc.result.native.slots.lightning_decode).toBe('avx512'); // no bf16 decode: the level below
      const low = JSON.parse((await doctor({ M1KIT_SIMD: 'avx512' }, ['--no-self-test'])).stdout);
      expect(low.result.native.slots.gemm_bf16).toBe('avx512');
      expect(low.result.native.slots.bf16_peak).toBe(null);
    }
  });

  it.runIf(info.loaded && !info.simdAvailable.includes('amx'))('M1KIT_SIMD=amx on a CPU without AMX fails with exit code 5', async () => {
    const r = await doctor({ M1KIT_SIMD: 'amx' });
    expect(r.exitCode).toBe(5);
    expect(JSON.parse(r.stdout).error.code).toBe('E_SIMD_UNSUPPORTED');
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
