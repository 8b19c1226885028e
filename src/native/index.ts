/**
 * The native facade: the only module that knows the addon exists. Core code calls one typed function per
 * kernel (kernels.ts, re-exported here) and asks `nativeAvailable()` / `assertNative(op)` before choosing
 * it; the addon object itself never leaves src/native. Native failures come back as typed m1kit errors.
 */
import { UnavailableError } from '../core/errors.js';
import { addonPath, cudaLibPath, loadAddon, readBuildInfo, type SimdLevel } from './binding.js';
import { callSync, nativeError } from './guard.js';
import type { RawCudaInfo } from './raw.js';

export { assertNative, nativeAvailable } from './guard.js';
export { SIMD_LEVELS, type SimdLevel } from './binding.js';
export * from './kernels.js';

/**
 * Switch the SIMD path at run time ('auto' | 'amx' | 'avx512bf16' | 'avx512' | 'avx2' | 'scalar'), as M1KIT_SIMD does at
 * load time; used by tests and benchmarks to run every path in one process. Returns the path in use.
 */
export function selectSimdPath(name: string): string {
  const s = loadAddon();
  if (!s.addon) throw new UnavailableError('E_NATIVE_UNAVAILABLE', `selectSimdPath: native kernels unavailable: ${s.reason}`, { hint: s.hints.join('; ') });
  try {
    const chosen = s.addon.selectSimd(name);
    delete s.simdError;
    return chosen;
  } catch (e) {
    throw nativeError('selectSimdPath', e);
  }
}

/** Floating-point mode of the compute kernels: flush-to-zero / denormals-are-zero on every worker, caller's mode restored. */
export interface FpModeReport {
  /** Every worker thread ran with FTZ and DAZ set. */
  workersFlush: boolean;
  workers: number;
  /** The calling thread's MXCSR after the region equals the one before it. */
  callerRestored: boolean;
  /** The calling thread itself was not flushing before (the default IEEE mode). */
  callerFlushedBefore: boolean;
}

/** Probe the compute kernels' FTZ/DAZ region on `threads` workers (synchronous). */
export function fpModeReport(threads: number): FpModeReport {
  const r = callSync('fpModeReport', (x) => x.fpModeProbe({ threads }));
  const both = r.ftzBit | r.dazBit;
  return {
    workersFlush: r.workers.every((m) => (m & both) === both),
    workers: r.workers.length,
    callerRestored: r.after === r.before,
    callerFlushedBefore: (r.before & both) !== 0,
  };
}

export interface NativeStatus {
  loaded: boolean;
  reason?: string;
  hints: string[];
  addonPath: string;
  simd: SimdLevel | 'none';
  simdAvailable: string[];
  /** Kernel slot → the level filling it ("lightning_prefill": "avx512", "gemm_bf16": "avx512bf16", …). */
  slots: Record<string, string | null>;
  /** Why a level the CPU advertises is not used (e.g. AMX tile permission refused by the OS). */
  simdNote?: string;
  simdError?: string;
  hardwareThreads?: number;
  napiVersion?: number;
  compiler?: string;
}

export function nativeStatus(): NativeStatus {
  const s = loadAddon();
  if (!s.addon) return { loaded: false, reason: s.reason ?? 'unknown', hints: s.hints, addonPath, simd: 'none', simdAvailable: [], slots: {} };
  const i = s.addon.info();
  const out: NativeStatus = {
    loaded: true, hints: [], addonPath, simd: i.simd as NativeStatus['simd'], simdAvailable: i.simdAvailable, slots: i.slots,
    hardwareThreads: i.hardwareThreads, napiVersion: i.napiVersion,
  };
  if (i.simdNote !== undefined) out.simdNote = i.simdNote;
  if (i.compiler !== undefined) out.compiler = i.compiler;
  if (s.simdError) out.simdError = s.simdError.message;
  return out;
}

export interface CudaStatus {
  compiled: boolean;
  libraryPath?: string;
  nvcc?: string;
  deviceCount: number;
  devices: string[];
  loaded: boolean;
  reason?: string;
}

/** Probe CUDA: was the library built, is there a device, did the library load (only if so). */
export function cudaStatus(): CudaStatus {
  const bi = readBuildInfo();
  const compiled = bi?.cuda?.compiled === true;
  const base: CudaStatus = { compiled, deviceCount: 0, devices: [], loaded: false };
  if (compiled) base.libraryPath = cudaLibPath;
  if (bi?.nvcc) base.nvcc = bi.nvcc.version;
  const s = loadAddon();
  if (!s.addon) return { ...base, reason: `native addon not loaded: ${s.reason}` };
  const c: RawCudaInfo = s.addon.cudaInfo(compiled ? cudaLibPath : '');
  const out: CudaStatus = { ...base, deviceCount: c.deviceCount, devices: c.devices, loaded: c.loaded };
  const reason = c.reason ?? (compiled ? undefined : `CUDA library not compiled: ${bi?.cuda?.reason ?? 'no build info'}`);
  if (reason !== undefined) out.reason = reason;
  return out;
}

/** The addon's SIMD levels, best first, and the fp32 lanes of each level's vectors; undefined without the addon. */
export function simdLevelInfo(): { levels: string[]; lanes: Record<string, number> } | undefined {
  const i = loadAddon().addon?.info();
  return i && { levels: i.simdLevels, lanes: i.simdLanes };
}
