/**
 * Pick the kernels the benchmark times: the native CPU kernels (through core/ops, which fall back to the
 * TypeScript reference when the addon is missing — then the run says so), or CUDA when a device exists.
 */
import { cudaStatus, nativeAvailable, nativeStatus } from '../../native/index.js';
import { lightningDecode, lightningPrefill } from '../ops/lightning.js';
import { softmaxAttention } from '../ops/softmax-attention.js';
import { UnavailableError } from '../errors.js';
import type { KernelBackend } from './backend.js';

export type DeviceChoice = 'cpu' | 'cuda' | 'auto';

function cpuBackend(): KernelBackend {
  const native = nativeAvailable();
  const st = nativeStatus();
  const name = native ? `native cpu (${st.simd})` : 'TypeScript reference (native addon not loaded)';
  return {
    name,
    device: 'cpu',
    info: { ...st },
    lightningPrefill: (p) => lightningPrefill({ ...p }),
    ...(native ? { lightningPrefillBf16: (p: Parameters<KernelBackend['lightningPrefill']>[0]) => lightningPrefill({ ...p, precision: 'bf16' }) } : {}),
    // the benchmark carries one state through every step: update it in place instead of copying 4 MiB per token
    lightningDecode: (p) => lightningDecode({ ...p, n: 1, inPlace: true }),
    softmaxAttention: (p) => softmaxAttention({ ...p }),
  };
}

function cudaBackend(devices: string[]): KernelBackend {
  const cpu = cpuBackend();
  return {
    name: `cuda (${devices[0] ?? 'device 0'}); softmax on ${cpu.name}`,
    device: 'cuda',
    info: { ...cpu.info, cuda: devices },
    lightningPrefill: (p) => lightningPrefill({ ...p, backend: 'cuda' }),
    lightningDecode: (p) => lightningDecode({ ...p, n: 1, backend: 'cuda' }),
    softmaxAttention: cpu.softmaxAttention,
  };
}

/**
 * @example const backend = await loadBackend('auto');
 */
export async function loadBackend(device: DeviceChoice): Promise<KernelBackend> {
  if (device === 'cpu') return cpuBackend();
  const c = cudaStatus();
  const usable = c.loaded && c.deviceCount > 0;
  if (usable) return cudaBackend(c.devices);
  if (device === 'cuda') {
    throw new UnavailableError('E_CUDA_UNAVAILABLE', `--device cuda: ${c.reason ?? (c.deviceCount === 0 ? 'no CUDA device' : 'CUDA library not loaded')}`, { hint: 'use --device cpu or --device auto' });
  }
  return cpuBackend();
}
