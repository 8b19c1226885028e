/**
 * Locates and loads the native addon (kernels/build/Release/m1kit.node) once, selects its SIMD path
 * from M1KIT_SIMD (auto | amx | avx512bf16 | avx512 | avx2 | scalar) and remembers why loading failed, with possible
 * fixes, for `m1kit doctor`. M1KIT_NO_NATIVE=1 disables the addon (TypeScript reference only).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RawAddon } from './raw.js';

/**
 * The instruction-set levels of the kernels, best first, as kernels/cpu/isa_levels.h lists them (the
 * addon reports its own list as info().simdLevels; test/native/facade.test.ts checks the two agree).
 */
export const SIMD_LEVELS = ['amx', 'avx512bf16', 'avx512', 'avx2', 'scalar'] as const;
export type SimdLevel = (typeof SIMD_LEVELS)[number];

const here = path.dirname(fileURLToPath(import.meta.url));
/** Repository/package root: src/native and dist/native both sit two levels below it. */
export const packageRoot = path.resolve(here, '..', '..');
export const buildDir = path.join(packageRoot, 'kernels', 'build');
export const addonPath = path.join(buildDir, 'Release', 'm1kit.node');
export const cudaLibPath = path.join(buildDir, 'Release', 'libm1kit_cuda.so');

export interface LoadState {
  addon?: RawAddon;
  reason?: string;
  hints: string[];
  /** Error code when the requested SIMD path could not be used. */
  simdError?: { code: string; message: string };
}

let state: LoadState | undefined;

export interface BuildInfo {
  addon?: { built: boolean; reason?: string; path?: string };
  cuda?: { compiled: boolean; reason?: string; path?: string };
  nvcc?: { path: string; version: string };
  compiler?: string;
  builtAt?: string;
}

export function readBuildInfo(): BuildInfo | undefined {
  try {
    return JSON.parse(readFileSync(path.join(buildDir, 'build-info.json'), 'utf8')) as BuildInfo;
  } catch {
    return undefined;
  }
}

const REBUILD = 'rebuild it: npm run build:native (needs a C++17 compiler and Node headers)';

export function loadAddon(): LoadState {
  if (state) return state;
  if (process.env.M1KIT_NO_NATIVE === '1') return (state = { reason: 'disabled by M1KIT_NO_NATIVE=1', hints: ['unset M1KIT_NO_NATIVE'] });
  if (!existsSync(addonPath)) {
    const bi = readBuildInfo();
    const why = bi?.addon?.reason ? `the install-time build failed: ${bi.addon.reason}` : `${path.relative(packageRoot, addonPath)} not found`;
    return (state = { reason: why, hints: [REBUILD, 'install a compiler (e.g. apt-get install g++ make python3) and run npm ci again'] });
  }
  try {
    const addon = createRequire(import.meta.url)(addonPath) as RawAddon;
    state = { addon, hints: [] };
    const want = process.env.M1KIT_SIMD || 'auto';
    const note = addon.info().simdNote;
    if (note) process.emitWarning(`m1kit: ${note}`, { code: 'M1KIT_SIMD_FALLBACK' });
    {
      try {
        addon.selectSimd(want);
      } catch (e) {
        const err = e as { code?: string; message: string };
        state.simdError = { code: err.code ?? 'E_SIMD', message: `M1KIT_SIMD=${want}: ${err.message}` };
      }
    }
    return state;
  } catch (e) {
    return (state = {
      reason: `cannot load ${path.relative(packageRoot, addonPath)}: ${(e as Error).message.split('\n')[0]}`,
      hints: [REBUILD, 'check that it was built by this Node version (ABI) and architecture'],
    });
  }
}
