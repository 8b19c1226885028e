/**
 * Without a CUDA device (this build machine) the CUDA entry points fail cleanly with
 * UnavailableError (exit code 5) and `npm run test:cuda` exits 0 after printing why.
 * On a machine with a device the same tests check that the library loaded and named a device.
 */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { nativeInfo } from '../../../src/core/ops/info.js';
import { cudaQuantizeFp8Blocks } from '../../../src/core/ops/cuda.js';
import { lightningDecode, lightningPrefill } from '../../../src/core/ops/lightning.js';

const info = nativeInfo();

describe('CUDA availability is reported truthfully', () => {
  it.runIf(info.cuda.deviceCount === 0)('no device: CUDA ops throw UnavailableError with the reason', async () => {
    expect(info.cuda.loaded).toBe(false);
    expect(typeof info.cuda.reason).toBe('string');
    await expect(cudaQuantizeFp8Blocks(new Float32Array(4), 2, 2)).rejects.toMatchObject({ code: 'E_CUDA_UNAVAILABLE', exitCode: 5 });
    const one = { q: new Float32Array(1), k: new Float32Array(1), v: new Float32Array(1), n: 1, h: 1, d: 1, slopes: new Float32Array(1), backend: 'cuda' as const };
    await expect(lightningPrefill(one)).rejects.toMatchObject({ code: 'E_CUDA_UNAVAILABLE', exitCode: 5 });
    await expect(lightningDecode(one)).rejects.toMatchObject({ code: 'E_CUDA_UNAVAILABLE', exitCode: 5 });
  });

  it('device present: library loaded and devices named', (ctx) => {
    if (info.cuda.deviceCount === 0 || !info.cuda.compiled) ctx.skip(`skipped: no CUDA device with the compiled library here (${info.cuda.reason ?? `${info.cuda.deviceCount} devices`})`);
    expect(info.cuda.loaded).toBe(true);
    expect(info.cuda.devices.length).toBe(info.cuda.deviceCount);
  });

  it.runIf(info.cuda.deviceCount === 0)('npm run test:cuda prints a reason and exits 0 without a device', async () => {
    // needs the TypeScript build (npm test runs tsc first)
    const r = await execa('node', ['test/native/cuda/run.mjs'], { cwd: new URL('../../..', import.meta.url).pathname, reject: false });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/test:cuda skipped: /);
  });
});
