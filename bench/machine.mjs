/**
 * What the I/O benchmarks print about the machine they ran on: the CPU model and the sha256 rates
 * measured on it in the same run (node's sha256 on one stream; m1kit's SHA-extension lanes on one and
 * on four interleaved streams, when the CPU has them). Figures from different CPUs are then never
 * compared as if they came from one.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { cpus } from 'node:os';
import { compressLanes, sha256LanesAvailable, SHA256_IV } from '../dist/core/ops/sha256.js';

const GB = 1e9;
/** Bytes hashed per measurement: far beyond the caches, a fraction of a second per rate. */
const HASH_BYTES = 256 << 20;

/** "AMD EPYC 9R45 (2 vCPUs)" */
export function cpuModel() {
  const c = cpus();
  return `${(c[0]?.model ?? 'unknown CPU').trim()} (${c.length} vCPU${c.length === 1 ? '' : 's'})`;
}

const seconds = (f) => {
  const t0 = performance.now();
  f();
  return (performance.now() - t0) / 1000;
};

/** sha256 rates of this machine, GB/s per core: node (one stream), lanes ×1 and ×4 (undefined without SHA extensions). */
export function hashRates() {
  const buf = Buffer.allocUnsafe(HASH_BYTES);
  randomFillSync(buf);
  const node = buf.length / GB / seconds(() => createHash('sha256').update(buf).digest());
  if (!sha256LanesAvailable()) return { node };
  const lanes = (n) => {
    const part = Math.floor(buf.length / n / 64) * 64;
    const data = Array.from({ length: n }, (_, i) => buf.subarray(i * part, (i + 1) * part));
    const states = data.map(() => Uint32Array.from(SHA256_IV));
    return (n * part) / GB / seconds(() => compressLanes(states, data));
  };
  return { node, lanes1: lanes(1), lanes4: lanes(4) };
}

/** The machine line every I/O benchmark prints first. */
export function machineLine(rates) {
  const lanes = rates.lanes1 === undefined ? 'no SHA extensions' : `SHA-ext lanes ${rates.lanes1.toFixed(2)} GB/s one stream, ${rates.lanes4.toFixed(2)} GB/s four interleaved`;
  return `machine: ${cpuModel()}; sha256 per core: node ${rates.node.toFixed(2)} GB/s, ${lanes}`;
}
