/**
 * A tiny WebAssembly module (built byte by byte here, no toolchain) whose exported `run(iters)` performs
 * `iters` × ACCUMULATORS independent f32x4 multiply-add steps (a = a·m + c): FLOPS_PER_ITER FLOPs per
 * iteration. It measures the fp32 multiply-add throughput reachable from portable SIMD-128 code — a
 * lower bound of the core's FMA peak, used only when the native addon offers no SGEMM/peak probe.
 */

/** Independent dependency chains: enough to cover mul+add latency on current x86 and Arm cores. */
export const ACCUMULATORS = 16;
/** 16 accumulators × 4 lanes × (1 mul + 1 add). */
export const FLOPS_PER_ITER = ACCUMULATORS * 4 * 2;

const SIMD = 0xfd;
const F32X4_SPLAT = [SIMD, 0x13];
const F32X4_EXTRACT = [SIMD, 0x1f, 0];
const F32X4_ADD = [SIMD, 0xe4, 0x01];
const F32X4_MUL = [SIMD, 0xe6, 0x01];
const V128 = 0x7b;

const f32 = (x: number): number[] => [0x43, ...new Uint8Array(new Float32Array([x]).buffer)];
const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/** The module's bytes. */
export function fmaModuleBytes(): Uint8Array {
  const M = ACCUMULATORS + 1; // local index of the multiplier
  const C = ACCUMULATORS + 2; // local index of the addend
  const body: number[] = [1, ...uleb(ACCUMULATORS + 2), V128]; // one local group: accumulators, m, c
  for (let i = 0; i < ACCUMULATORS; i++) body.push(...f32(1 + i / 64), ...F32X4_SPLAT, 0x21, ...uleb(1 + i));
  body.push(...f32(0.9999999), ...F32X4_SPLAT, 0x21, ...uleb(M));
  body.push(...f32(1e-7), ...F32X4_SPLAT, 0x21, ...uleb(C));
  body.push(0x03, 0x40); // loop (empty block type)
  for (let i = 0; i < ACCUMULATORS; i++) {
    body.push(0x20, ...uleb(1 + i), 0x20, ...uleb(M), ...F32X4_MUL, 0x20, ...uleb(C), ...F32X4_ADD, 0x21, ...uleb(1 + i));
  }
  body.push(0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b); // iters -= 1; br_if loop; end
  body.push(0x20, 1, ...F32X4_EXTRACT);
  for (let i = 1; i < ACCUMULATORS; i++) body.push(0x20, ...uleb(1 + i), ...F32X4_EXTRACT, 0x92); // f32.add
  body.push(0x0b);
  const code = [1, ...uleb(body.length), ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]), // type: (i32) -> f32
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(7, [1, 3, 0x72, 0x75, 0x6e, 0x00, 0]), // export "run"
    ...section(10, code),
  ]);
}
