/**
 * What the kernels run on: native addon loaded (or why not), SIMD path, threads, CUDA status.
 */
import { cudaStatus, fpModeReport, nativeStatus, selectSimdPath, type CudaStatus, type FpModeReport, type NativeStatus } from '../../native/index.js';

export { fpModeReport, selectSimdPath, type FpModeReport };
import { defaultThreads } from './common.js';

/** The addon's status (without the hardware thread count), plus the threads kernels use and CUDA. */
export interface NativeInfo extends Omit<NativeStatus, 'hardwareThreads'> {
  threads: number;
  cuda: CudaStatus;
}

/** @example const { loaded, simd, cuda } = nativeInfo(); */
export function nativeInfo(): NativeInfo {
  const { hardwareThreads: _, ...n } = nativeStatus();
  return { ...n, threads: defaultThreads(), cuda: cudaStatus() };
}
