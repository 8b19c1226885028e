/**
 * What the kernels run on: native addon loaded (or why not), SIMD path, threads, CUDA status.
 */
import { cudaStatus, nativeStatus, selectSimdPath, type CudaStatus } from '../../native/index.js';

export { selectSimdPath };
import { defaultThreads } from './common.js';

export interface NativeInfo {
  loaded: boolean;
  reason?: string;
  hints: string[];
  addonPath: string;
  simd: 'avx512' | 'avx2' | 'scalar' | 'none';
  simdAvailable: string[];
  simdError?: string;
  threads: number;
  compiler?: string;
  napiVersion?: number;
  cuda: CudaStatus;
}

/** @example const { loaded, simd, cuda } = nativeInfo(); */
export function nativeInfo(): NativeInfo {
  const n = nativeStatus();
  const out: NativeInfo = {
    loaded: n.loaded, hints: n.hints, addonPath: n.addonPath, simd: n.simd, simdAvailable: n.simdAvailable,
    threads: defaultThreads(), cuda: cudaStatus(),
  };
  if (n.reason !== undefined) out.reason = n.reason;
  if (n.simdError !== undefined) out.simdError = n.simdError;
  if (n.compiler !== undefined) out.compiler = n.compiler;
  if (n.napiVersion !== undefined) out.napiVersion = n.napiVersion;
  return out;
}
