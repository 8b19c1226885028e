/**
 * Independent float64 reference of the MiniMax-M1 forward pass, written from docs/architecture.md §1–§3 only.
 * Naive loops, no shared code with the runtime: config fields are read from the raw config.json object,
 * weights through `Checkpoint.readF32` (exact widening of bf16) or an in-memory set of values.
 * Lightning attention uses the recurrent definition (§3.3.3) for every row, so prefill and decode
 * have one meaning here.
 *
 * `Variant` switches in one deliberate deviation at a time; tests use them to show that the comparison
 * against the runtime would notice each kind of mistake.
 */
import type { Checkpoint } from '../../../src/core/checkpoint/checkpoint.js';

export type Variant =
  | 'none'
  | 'skip-from-x' // residual skip from the raw stream even when postnorm is true
  | 'exclusive-recurrence' // o_t = q_t·S_{t−1}
  | 'lightning-eps-rms' // inner norm uses rms_norm_eps
  | 'per-head-inner-norm' // inner norm over each head's d features
  | 'rope-interleaved' // pairs (2i, 2i+1) instead of rotate-half
  | 'rope-full-dim' // rotary over all head_dim dims
  | 'kv-modulo' // query head j uses kv head j mod g
  | 'no-renorm' // top-k weights not renormalised
  | 'ties-highest' // on equal router probabilities take the higher index
  | 'slopes-pow2-only' // non-power-of-two h: plain power-of-two formula with h
  | 'no-layer-factor' // s = slope_j (no per-layer factor)
  | 'gate-silu' // output gate SiLU instead of sigmoid
  | 'lm-head-bf16'; // not a deviation: [HF] LM head: bf16 input, fp32 accumulate, logits rounded to bf16 (§3.6)

interface Raw {
  V: number; H: number; L: number; types: number[]; h: number; g: number; d: number; rot: number; theta: number;
  E: number; k: number; postnorm: boolean; aLin: number; bLin: number; aFull: number; bFull: number; aMlp: number; bMlp: number;
  eps: number; lightEps: number; tied: boolean;
}

const field = (r: Record<string, unknown>, names: string[], fallback?: number): number => {
  for (const n of names) if (typeof r[n] === 'number') return r[n] as number;
  if (fallback === undefined) throw new Error(`reference: config lacks ${names[0]}`);
  return fallback;
};

/** Layer types from `attn_type_list` (0/1) or the HF-native `layer_types` strings (§1.1). */
function layerTypes(r: Record<string, unknown>): number[] {
  if (Array.isArray(r.attn_type_list)) return r.attn_type_list as number[];
  return (r.layer_types as string[]).map((t) => (t === 'full_attention' ? 1 : 0));
}

function readRaw(r: Record<string, unknown>): Raw {
  const H = field(r, ['hidden_size']);
  const h = field(r, ['num_attention_heads']);
  const d = field(r, ['head_dim'], H / h);
  return {
    V: field(r, ['vocab_size']), H, L: field(r, ['num_hidden_layers']), types: layerTypes(r), h, d,
    g: field(r, ['num_key_value_heads'], h), rot: field(r, ['rotary_dim'], d), theta: field(r, ['rope_theta'], 10000),
    E: field(r, ['num_local_experts']), k: field(r, ['num_experts_per_tok']), postnorm: r.postnorm === undefined ? true : Boolean(r.postnorm),
    aLin: field(r, ['layernorm_linear_attention_alpha', 'linear_attn_alpha_factor'], 1), bLin: field(r, ['layernorm_linear_attention_beta', 'linear_attn_beta_factor'], 1),
    aFull: field(r, ['layernorm_full_attention_alpha', 'full_attn_alpha_factor'], 1), bFull: field(r, ['layernorm_full_attention_beta', 'full_attn_beta_factor'], 1),
    aMlp: field(r, ['layernorm_mlp_alpha', 'mlp_alpha_factor'], 1), bMlp: field(r, ['layernorm_mlp_beta', 'mlp_beta_factor'], 1),
    eps: field(r, ['rms_norm_eps'], 1e-5), lightEps: field(r, ['lightning_norm_eps'], 1e-6), tied: Boolean(r.tie_word_embeddings),
  };
}

/** What the reference reads: the raw config.json object, and each tensor's shape and exact values. */
export interface ReferenceSource {
  configRaw: Record<string, unknown>;
  shape(name: string): number[];
  values(name: string): Promise<Float64Array>;
}

/** A checkpoint on disk as a reference source (bf16 and fp32 widen exactly). */
export const checkpointSource = (ck: Checkpoint): ReferenceSource => ({
  configRaw: ck.configRaw,
  shape: (n) => ck.info(n).info.shape,
  values: async (n) => Float64Array.from(await ck.readF32(n)),
});

type Mat = { name: string; rows: number; cols: number; w: Float64Array };

async function mat(ck: ReferenceSource, name: string): Promise<Mat> {
  const shape = ck.shape(name);
  return { name, rows: shape[0]!, cols: shape.length > 1 ? shape[1]! : 1, w: await ck.values(name) };
}

/** Sees the input row of every product during a referenceForward that was given an observer. */
let observer: ((weight: string, x: Float64Array) => void) | undefined;

/** y = x·Wᵀ for one row. */
function linear(x: Float64Array, m: Mat): Float64Array {
  if (x.length !== m.cols) throw new Error(`reference: linear in ${x.length} vs ${m.cols}`);
  observer?.(m.name, x);
  const y = new Float64Array(m.rows);
  for (let o = 0; o < m.rows; o++) {
    let s = 0;
    for (let i = 0; i < m.cols; i++) s += x[i]! * m.w[o * m.cols + i]!;
    y[o] = s;
  }
  return y;
}

function rmsNorm(x: Float64Array, gamma: Float64Array, eps: number, group = x.length): Float64Array {
  const y = new Float64Array(x.length);
  for (let g0 = 0; g0 < x.length; g0 += group) {
    let ss = 0;
    for (let i = g0; i < g0 + group; i++) ss += x[i]! * x[i]!;
    const r = 1 / Math.sqrt(ss / group + eps);
    for (let i = g0; i < g0 + group; i++) y[i] = gamma[i]! * x[i]! * r;
  }
  return y;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const silu = (z: number) => z * sigmoid(z);

/** ALiBi slope schedule for n heads (§3.3.2). */
export function slopes(n: number, variant: Variant = 'none'): number[] {
  const pow2 = (m: number) => {
    const start = 2 ** -(2 ** -(Math.log2(m) - 3));
    return Array.from({ length: m }, (_, j) => start ** (j + 1));
  };
  if (Number.isInteger(Math.log2(n)) || variant === 'slopes-pow2-only') return pow2(n);
  const p = 2 ** Math.floor(Math.log2(n));
  return [...pow2(p), ...slopes(2 * p).filter((_, i) => i % 2 === 0).slice(0, n - p)];
}

/** Per-layer decay factor 1 − l/(L−1) + 1e−5 (L ≤ 1: 1 + 1e−5). */
export const layerFactor = (l: number, L: number): number => (L <= 1 ? 1 + 1e-5 : 1 - l / (L - 1) + 1e-5);

/**
 * Logits [n, V] in float64 for tokens at positions 0..n−1, from a checkpoint or an in-memory weight
 * set. `observe` sees the input row of every matrix product (the weight's name and x), e.g. to sum an
 * importance matrix; `logitScale` multiplies the final-norm weight (as `forward --logit-scale`).
 */
export async function referenceForward(from: Checkpoint | ReferenceSource, tokens: number[], variant: Variant = 'none', observe?: (weight: string, x: Float64Array) => void, opts: { logitScale?: number } = {}): Promise<Float64Array> {
  const ck = 'readF32' in from ? checkpointSource(from) : from;
  observer = observe;
  try {
    return await forwardRows(ck, tokens, variant, opts.logitScale ?? 1);
  } finally {
    observer = undefined;
  }
}

async function forwardRows(ck: ReferenceSource, tokens: number[], variant: Variant, logitScale: number): Promise<Float64Array> {
  const c = readRaw(ck.configRaw);
  const n = tokens.length;
  const emb = await mat(ck, 'model.embed_tokens.weight');
  let xs: Float64Array[] = tokens.map((t) => emb.w.slice(t * c.H, (t + 1) * c.H));
  for (let l = 0; l < c.L; l++) {
    const p = `model.layers.${l}.`;
    const ln1 = (await mat(ck, p + 'input_layernorm.weight')).w;
    const ln2 = (await mat(ck, p + 'post_attention_layernorm.weight')).w;
    const us = xs.map((x) => rmsNorm(x, ln1, c.eps));
    const lightning = c.types[l] === 0;
    const att = lightning ? await lightningLayer(ck, p, c, l, us, variant) : await softmaxLayer(ck, p, c, us, variant);
    const [aA, bA] = lightning ? [c.aLin, c.bLin] : [c.aFull, c.bFull];
    const skipFromU = c.postnorm && variant !== 'skip-from-x';
    const x1 = xs.map((x, t) => {
      const skip = skipFromU ? us[t]! : x;
      return skip.map((s, i) => aA * s + bA * att[t]![i]!);
    });
    const vs = x1.map((x) => rmsNorm(x, ln2, c.eps));
    const router = await mat(ck, p + 'block_sparse_moe.gate.weight');
    const experts: Mat[][] = [];
    for (let e = 0; e < c.E; e++) {
      const q = `${p}block_sparse_moe.experts.${e}.`;
      experts.push([await mat(ck, q + 'w1.weight'), await mat(ck, q + 'w3.weight'), await mat(ck, q + 'w2.weight')]);
    }
    xs = x1.map((x, t) => {
      const m = moe(vs[t]!, router, experts, c.k, variant);
      const skip = skipFromU ? vs[t]! : x;
      return skip.map((s, i) => c.aMlp * s + c.bMlp * m[i]!);
    });
  }
  const fin = (await mat(ck, 'model.norm.weight')).w.map((v) => v * logitScale);
  const head = await mat(ck, c.tied ? 'model.embed_tokens.weight' : 'lm_head.weight');
  const out = new Float64Array(n * c.V);
  const bf = variant === 'lm-head-bf16';
  xs.forEach((x, t) => {
    const y = rmsNorm(x, fin, c.eps);
    const z = linear(bf ? y.map(toBf16) : y, head);
    out.set(bf ? z.map(toBf16) : z, t * c.V);
  });
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** Round to bfloat16 (via fp32, as the runtime's values are fp32), round-to-nearest-even. */
export function toBf16(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  u32[0] = ((b + 0x7fff + ((b >>> 16) & 1)) & 0xffff0000) >>> 0;
  return f32[0]!;
}

async function lightningLayer(ck: ReferenceSource, p: string, c: Raw, l: number, us: Float64Array[], variant: Variant): Promise<Float64Array[]> {
  const { h, d } = c;
  const qkv = await mat(ck, p + 'self_attn.qkv_proj.weight');
  const gate = await mat(ck, p + 'self_attn.output_gate.weight');
  const norm = (await mat(ck, p + 'self_attn.norm.weight')).w;
  const outP = await mat(ck, p + 'self_attn.out_proj.weight');
  const sl = slopes(h, variant);
  const lam = sl.map((s) => Math.exp(-(variant === 'no-layer-factor' ? s : s * layerFactor(l, c.L))));
  const S = Array.from({ length: h }, () => new Float64Array(d * d));
  return us.map((u) => {
    const P = linear(u, qkv).map(silu);
    const o = new Float64Array(h * d);
    for (let j = 0; j < h; j++) {
      const base = j * 3 * d;
      const q = P.subarray(base, base + d);
      const k = P.subarray(base + d, base + 2 * d);
      const v = P.subarray(base + 2 * d, base + 3 * d);
      const Sj = S[j]!;
      const readOut = () => {
        for (let b = 0; b < d; b++) {
          let s = 0;
          for (let a = 0; a < d; a++) s += q[a]! * Sj[a * d + b]!;
          o[j * d + b] = s;
        }
      };
      if (variant === 'exclusive-recurrence') readOut();
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) Sj[a * d + b] = lam[j]! * Sj[a * d + b]! + k[a]! * v[b]!;
      if (variant !== 'exclusive-recurrence') readOut();
    }
    const eps = variant === 'lightning-eps-rms' ? c.eps : c.lightEps;
    const on = rmsNorm(o, norm, eps, variant === 'per-head-inner-norm' ? d : h * d);
    const G = linear(u, gate).map(variant === 'gate-silu' ? silu : sigmoid);
    return linear(on.map((y, i) => y * G[i]!), outP);
  });
}

/** fp32 RoPE angle p·ω_i with ω_i = 1/θ^(2i/rot), each step rounded to fp32 as the spec prescribes. */
export function ropeAngle(pos: number, i: number, rot: number, theta: number): number {
  const e = Math.fround((2 * i) / rot);
  const omega = Math.fround(1 / Math.fround(theta ** e));
  return Math.fround(pos * omega);
}

function rope(x: Float64Array, pos: number, rot: number, theta: number, variant: Variant): Float64Array {
  const y = Float64Array.from(x);
  const r = variant === 'rope-full-dim' ? x.length : rot;
  const half = r / 2;
  for (let i = 0; i < half; i++) {
    const a = ropeAngle(pos, i, r, theta);
    const [cs, sn] = [Math.cos(a), Math.sin(a)];
    const [i0, i1] = variant === 'rope-interleaved' ? [2 * i, 2 * i + 1] : [i, i + half];
    y[i0] = x[i0]! * cs - x[i1]! * sn;
    y[i1] = x[i1]! * cs + x[i0]! * sn;
  }
  return y;
}

async function softmaxLayer(ck: ReferenceSource, p: string, c: Raw, us: Float64Array[], variant: Variant): Promise<Float64Array[]> {
  const { h, g, d } = c;
  const [Wq, Wk, Wv, Wo] = await Promise.all(['q_proj', 'k_proj', 'v_proj', 'o_proj'].map((n) => mat(ck, `${p}self_attn.${n}.weight`)));
  const head = (row: Float64Array, j: number) => row.subarray(j * d, (j + 1) * d);
  const Q = us.map((u, t) => { const r = linear(u, Wq!); const y = new Float64Array(h * d); for (let j = 0; j < h; j++) y.set(rope(head(r, j), t, c.rot, c.theta, variant), j * d); return y; });
  const K = us.map((u, t) => { const r = linear(u, Wk!); const y = new Float64Array(g * d); for (let j = 0; j < g; j++) y.set(rope(head(r, j), t, c.rot, c.theta, variant), j * d); return y; });
  const Vv = us.map((u) => linear(u, Wv!));
  const scale = 1 / Math.sqrt(d);
  return Q.map((q, t) => {
    const out = new Float64Array(h * d);
    for (let j = 0; j < h; j++) {
      const kv = variant === 'kv-modulo' ? j % g : Math.floor(j / (h / g));
      const z = new Float64Array(t + 1);
      let mx = -Infinity;
      for (let s = 0; s <= t; s++) {
        let dot = 0;
        for (let a = 0; a < d; a++) dot += q[j * d + a]! * K[s]![kv * d + a]!;
        z[s] = dot * scale;
        mx = Math.max(mx, z[s]!);
      }
      let sum = 0;
      for (let s = 0; s <= t; s++) sum += (z[s] = Math.exp(z[s]! - mx));
      for (let s = 0; s <= t; s++) for (let a = 0; a < d; a++) out[j * d + a] = out[j * d + a]! + (z[s]! / sum) * Vv[s]![kv * d + a]!;
    }
    return linear(out, Wo!);
  });
}

function moe(v: Float64Array, router: Mat, experts: Mat[][], k: number, variant: Variant): Float64Array {
  const r = linear(v, router);
  const mx = Math.max(...r);
  const e = r.map((z) => Math.exp(z - mx));
  const tot = e.reduce((a, b) => a + b, 0);
  const prob = e.map((z) => z / tot);
  const order = [...prob.keys()].sort((a, b) => prob[b]! - prob[a]! || (variant === 'ties-highest' ? b - a : a - b));
  const chosen = order.slice(0, k);
  const wsum = variant === 'no-renorm' ? 1 : chosen.reduce((a, i) => a + prob[i]!, 0);
  const m = new Float64Array(v.length);
  for (const i of chosen) {
    const [w1, w3, w2] = experts[i]!;
    const a = linear(v, w1!);
    const b = linear(v, w3!);
    const y = linear(a.map((z, q) => silu(z) * b[q]!), w2!);
    const w = prob[i]! / wsum;
    for (let q = 0; q < m.length; q++) m[q] = m[q]! + w * y[q]!;
  }
  return m;
}
