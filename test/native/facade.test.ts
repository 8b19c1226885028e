/**
 * The native facade: outside src/native nothing imports the loader, the raw addon types or the guard
 * that holds the addon, and no exported function hands the addon out; each typed entry point fails
 * with a typed error (E_NATIVE_UNAVAILABLE without the addon, E_NATIVE_ARGS on arguments the addon's own
 * checks reject) naming the caller's operation.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import * as native from '../../src/native/index.js';
import { gemm } from '../../src/core/ops/gemm.js';

const SRC = new URL('../../src/', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}
const imports = (text: string) => [...text.matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]!);

/** Which of `rel`'s imports reach into src/native other than through its index. */
export function privateNativeImports(rel: string, text: string): string[] {
  if (rel.startsWith('native/')) return [];
  return imports(text).filter((i) => /(^|\/)native\//.test(i) && !/(^|\/)native\/index\.js$/.test(i));
}

describe('native facade', () => {
  it('outside src/native only native/index.js is imported, and RawAddon is never named', () => {
    const bad: string[] = [];
    for (const p of files(SRC)) {
      const rel = relative(SRC, p);
      const text = readFileSync(p, 'utf8');
      for (const i of privateNativeImports(rel, text)) bad.push(`${rel} imports ${i}`);
      if (!rel.startsWith('native/') && /\bRawAddon\b/.test(text)) bad.push(`${rel} names RawAddon`);
    }
    expect(bad).toEqual([]);
  });

  it('the import check catches a reach past the index', () => {
    expect(privateNativeImports('core/ops/x.ts', "import { loadAddon } from '../../native/binding.js';")).toEqual(['../../native/binding.js']);
    expect(privateNativeImports('core/ops/x.ts', "import * as native from '../../native/index.js';")).toEqual([]);
  });

  it('an op without a CUDA kernel refuses backend \'cuda\' instead of running on the CPU', async () => {
    const a = { x: new Float32Array(2), w: new Float32Array(2), m: 1, k: 2, nOut: 1 };
    await expect(gemm({ ...a, backend: 'cuda' as never })).rejects.toMatchObject({ code: 'E_KERNEL_BACKEND', exitCode: 3, message: expect.stringMatching(/^gemm: backend 'cuda': no CUDA kernel for this op/) });
    await expect(gemm({ ...a, backend: 'gpu' as never })).rejects.toMatchObject({ code: 'E_KERNEL_BACKEND' });
    expect(Array.from(await gemm({ ...a, x: Float32Array.of(1, 2), w: Float32Array.of(3, 4), backend: 'ref' }))).toEqual([11]);
  });

  it('exports no way to the addon object', () => {
    for (const name of ['withNative', 'requireNative', 'addonFor', 'loadAddon', 'callAsync', 'callSync']) expect(native).not.toHaveProperty(name);
  });

  it.runIf(native.nativeAvailable())('the TypeScript list of SIMD levels is the addon\'s (kernels/cpu/isa_levels.h), with each level\'s vector width', () => {
    const info = native.simdLevelInfo()!;
    expect(info.levels).toEqual([...native.SIMD_LEVELS]);
    // fp32 lanes: 512-bit vectors hold 16, 256-bit 8, scalar code 1
    expect(info.lanes).toEqual({ amx: 16, avx512bf16: 16, avx512: 16, avx2: 8, scalar: 1 });
    expect(native.nativeStatus().simdAvailable.every((l) => info.levels.includes(l))).toBe(true);
  });

  it.runIf(native.nativeAvailable())('arguments the addon rejects come back as InputError E_NATIVE_ARGS naming the op', async () => {
    const bad = { x: new Float32Array(2), w: new Float32Array(2), y: new Float32Array(1), m: 1, k: 2, nOut: 1, threads: 0 };
    await expect(native.gemm(bad, 'someCaller')).rejects.toMatchObject({ code: 'E_NATIVE_ARGS', exitCode: 3, message: expect.stringMatching(/^someCaller: /) });
  });

  it('without the addon every entry point throws UnavailableError naming the op', async () => {
    const before = process.env.M1KIT_NO_NATIVE;
    process.env.M1KIT_NO_NATIVE = '1';
    vi.resetModules();
    try {
      const n = (await import('../../src/native/index.js')) as typeof native;
      expect(n.nativeAvailable()).toBe(false);
      const unavailable = { code: 'E_NATIVE_UNAVAILABLE', exitCode: 5, message: expect.stringMatching(/^probe: native kernels unavailable: disabled by M1KIT_NO_NATIVE=1/) };
      await expect(n.fmaPeak({ iters: 1, threads: 1 }, 'probe')).rejects.toMatchObject(unavailable);
      await expect(n.lightningPrefill({ q: new Float32Array(1), k: new Float32Array(1), v: new Float32Array(1), o: new Float32Array(1), state: new Float32Array(1), slopes: new Float32Array(1), n: 1, h: 1, d: 1, block: 1, threads: 1 }, 'probe'))
        .rejects.toMatchObject(unavailable);
      expect(() => n.sha256NiAvailable('probe')).toThrow(expect.objectContaining(unavailable));
      expect(() => n.assertNative('probe')).toThrow(expect.objectContaining(unavailable));
    } finally {
      if (before === undefined) delete process.env.M1KIT_NO_NATIVE;
      else process.env.M1KIT_NO_NATIVE = before;
      vi.resetModules();
    }
  });
});
