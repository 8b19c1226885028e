/**
 * Test helpers: an in-memory MiniMax-M1-shaped WeightSource with seeded random bf16 weights, and a
 * float64 naive reference forward pass written directly from the spec formulas (O(n²) decayed
 * attention, no blocks, no caches) to check the runtime against.
 */
import { parseConfig, type M1Config } from '../../../src/core/checkpoint/config.js';
import { expectedTensors } from '../../../src/core/checkpoint/layout.js';
import type { DType } from '../../../src/core/dtype/dtypes.js';
import type { WeightSource } from '../../../src/core/model/source.js';

/** mulberry32: small seeded PRNG for test data (the same generator the verify experiments use). */
import { mulberry32 as prng } from '../../../src/core/generation/sampling.js';

export { prng };

export function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** A small raw config (override anything). head_dim ≠ hidden/heads on purpose. */
export function smallRawConfig(o: Record<string, unknown> = {}): Record<string, unknown> {
  const L = (o.num_hidden_layers as number | undefined) ?? 3;
  return {
    architectures: ['MiniMaxM1ForCausalLM'],
    vocab_size: 40,
    hidden_size: 24,
    num_hidden_layers: L,
    attn_type_list: [0, 1, 0].slice(0, L),
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 8,
    rotary_dim: 4,
    rope_theta: 10000000,
    intermediate_size: 16,
    num_local_experts: 4,
    num_experts_per_tok: 2,
    shared_intermediate_size: 0,
    postnorm: true,
    layernorm_linear_attention_alpha: (2 * L) ** 0.25,
    layernorm_linear_attention_beta: 1,
    layernorm_full_attention_alpha: (2 * L) ** 0.25,
    layernorm_full_attention_beta: 1,
    layernorm_mlp_alpha: (2 * L) ** 0.25,
    layernorm_mlp_beta: 1,
    rms_norm_eps: 1e-5,
    tie_word_embeddings: false,
    ...o,
  };
}

const toBf16Bits = (x: number): number => {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
};

export interface MemorySource extends WeightSource {
  /** The config.json object the source was built from. */
  raw: Record<string, unknown>;
  /** Weights as float64 (the exact values the bytes hold). */
  values: Map<string, Float64Array>;
  shapes: Map<string, number[]>;
}

/** In-memory checkpoint: weights N(0, std²) rounded to bf16, norms 1 + N(0, 0.05²), routers F32 N(0, routerStd²). */
export function memorySource(raw: Record<string, unknown>, seed = 1, std = 0.2, routerStd = 0.5): MemorySource {
  const config: M1Config = parseConfig(raw, 'test-config');
  const rand = prng(seed);
  const bytes = new Map<string, Uint8Array>();
  const meta = new Map<string, { dtype: DType; shape: number[] }>();
  const values = new Map<string, Float64Array>();
  const shapes = new Map<string, number[]>();
  for (const s of expectedTensors(config)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const isNorm = s.name.endsWith('norm.weight');
    const router = s.dtype === 'F32';
    const vals = new Float64Array(n);
    const buf = new Uint8Array(n * (router ? 4 : 2));
    const dv = new DataView(buf.buffer);
    for (let i = 0; i < n; i++) {
      const g = gaussian(rand);
      if (router) {
        const v = Math.fround(g * routerStd);
        dv.setFloat32(4 * i, v, true);
        vals[i] = v;
      } else {
        const bits = toBf16Bits(isNorm ? 1 + 0.05 * g : g * std);
        dv.setUint16(2 * i, bits, true);
        vals[i] = new Float32Array(new Uint32Array([bits << 16]).buffer)[0]!;
      }
    }
    bytes.set(s.name, buf);
    meta.set(s.name, { dtype: s.dtype, shape: s.shape });
    values.set(s.name, vals);
    shapes.set(s.name, s.shape);
  }
  return {
    config,
    raw,
    values,
    shapes,
    has: (n) => meta.has(n),
    info: (n) => {
      const m = meta.get(n);
      if (!m) throw new Error(`no tensor ${n}`);
      return m;
    },
    read: async (n, off = 0, len) => {
      const b = bytes.get(n);
      if (!b) throw new Error(`no tensor ${n}`);
      return b.subarray(off, len === undefined ? undefined : off + len);
    },
  };
}

/** Max |a − b| and max |b| over two arrays. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { maxAbs: number; maxRef: number } {
  let maxAbs = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(a[i]! - b[i]!));
    maxRef = Math.max(maxRef, Math.abs(b[i]!));
  }
  return { maxAbs, maxRef };
}

export function randomTokens(n: number, vocab: number, seed: number): number[] {
  const r = prng(seed);
  return Array.from({ length: n }, () => Math.floor(r() * vocab));
}
