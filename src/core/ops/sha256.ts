/**
 * SHA-256 block compression over several independent streams ("lanes") at once: the native kernel
 * interleaves up to four streams on the x86 SHA extensions (about 1.45× one stream's throughput per core
 * for two lanes, 1.75× for four), and a TypeScript reference of FIPS 180-4 §6.2.2 sits beside it
 * (sha256.ref.ts). Each lane is a state of 8 words (a…h) and whole 64-byte blocks; padding and digests
 * are up to the caller (core/ops/lane-sha256.ts). Synchronous: the caller owns the hashes on its thread.
 */
import { InputError } from '../errors.js';
import * as native from '../../native/index.js';
import { compressRef } from './sha256.ref.js';
import type { CpuBackend } from './common.js';

/** Initial hash value H(0) (FIPS 180-4 §5.3.3). */
export const SHA256_IV: readonly number[] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

let niAvailable: boolean | undefined;

/** True when the native lanes run here (addon loaded, CPU with the SHA extensions). */
export function sha256LanesAvailable(): boolean {
  if (niAvailable === undefined) niAvailable = native.nativeAvailable() && native.sha256NiAvailable();
  return niAvailable;
}

/**
 * Compress data[l] (whole 64-byte blocks) into states[l] for every lane: natively when available (or
 * `backend: 'native'` is asked), else with the reference.
 * @example const s = Uint32Array.from(SHA256_IV); compressLanes([s], [block64])
 */
export function compressLanes(states: Uint32Array[], data: Uint8Array[], o: { backend?: CpuBackend } = {}): void {
  if (states.length !== data.length) throw new InputError('E_SHA_LANES', `compressLanes: ${states.length} states for ${data.length} data arrays`);
  for (const d of data) if (d.length % 64 !== 0) throw new InputError('E_SHA_LANES', `compressLanes: ${d.length} bytes is not whole 64-byte blocks`);
  const backend = o.backend ?? 'auto';
  if (backend === 'native' || (backend === 'auto' && sha256LanesAvailable())) {
    native.assertNative('sha256Lanes');
    for (let i = 0; i < states.length; i += 64) native.sha256Lanes(states.slice(i, i + 64), data.slice(i, i + 64));
    return;
  }
  for (let l = 0; l < states.length; l++) compressRef(states[l]!, data[l]!);
}
