/**
 * Tensor- and expert-parallel split rules (pure): which rectangle of each canonical tensor a rank holds.
 *
 * Ranks: world W = max(tp, ep) (the smaller must divide the larger). Rank r holds
 * - attention/embedding shard `r mod tp` (attention replicated W/tp times, like DP-attention);
 * - expert group `⌊r / (W/ep)⌋`, i.e. the contiguous expert range [g·E/ep, (g+1)·E/ep), and within it
 *   expert-TP shard `r mod (W/ep)` of each expert (W/ep = 1 when ep = tp: whole experts, DeepSeek-V3 /
 *   vLLM `--enable-expert-parallel`; ep = 1: every expert TP-sharded over all ranks, vLLM's default).
 *
 * | tensor | rule |
 * |---|---|
 * | `embed_tokens`, `lm_head` | rows (vocab) split in tp contiguous parts |
 * | `qkv_proj` | rows split by whole heads: shard t holds heads [t·h/tp, (t+1)·h/tp), i.e. rows [384·j0, 384·j1) — the per-head q/k/v interleave survives |
 * | `output_gate`, softmax `q_proj` | rows split by heads (d rows per head) |
 * | softmax `k_proj`, `v_proj` | rows split by KV heads; when tp > kv heads each KV head is replicated on tp/g consecutive shards |
 * | lightning `self_attn.norm` | split with its heads (vLLM's TP RMSNorm: variance all-reduced) |
 * | `out_proj`, `o_proj` | columns split by heads (row-parallel) |
 * | `experts.E.w1`, `experts.E.w3` | only on ranks of E's group; rows split by expert-TP |
 * | `experts.E.w2` | only on ranks of E's group; columns split by expert-TP |
 * | layer norms, final norm, router `block_sparse_moe.gate` | replicated |
 */
import { UsageError } from '../errors.js';
import type { M1Config } from '../checkpoint/config.js';
import type { NameInfo, Rect } from './geometry.js';

export interface Grid {
  tp: number;
  ep: number;
  world: number;
}

/** Validate tp/ep against the model and build the rank grid (throws UsageError naming the failing dimension). */
export function makeGrid(c: M1Config, tp: number, ep: number): Grid {
  for (const [k, v] of [['--tp', tp], ['--ep', ep]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`${k} must be a positive integer, got ${v}`);
  }
  const world = Math.max(tp, ep);
  if (world % tp !== 0 || world % ep !== 0) throw new UsageError(`--tp ${tp} and --ep ${ep}: the smaller must divide the larger`);
  const etp = world / ep;
  const checks: [boolean, string][] = [
    [c.numHeads % tp === 0, `num_attention_heads ${c.numHeads} is not divisible by --tp ${tp}`],
    [c.numKvHeads % tp === 0 || tp % c.numKvHeads === 0, `num_key_value_heads ${c.numKvHeads} and --tp ${tp}: one must divide the other`],
    [c.vocabSize % tp === 0, `vocab_size ${c.vocabSize} is not divisible by --tp ${tp}`],
    [c.numExperts % ep === 0, `num_local_experts ${c.numExperts} is not divisible by --ep ${ep}`],
    [c.intermediateSize % etp === 0, `intermediate_size ${c.intermediateSize} is not divisible by the expert tensor-parallel degree ${etp} (= max(tp, ep) / ep)`],
  ];
  for (const [ok, msg] of checks) if (!ok) throw new UsageError(msg);
  return { tp, ep, world };
}

export const attnShard = (g: Grid, r: number): number => r % g.tp;
export const expertTpDegree = (g: Grid): number => g.world / g.ep;
export const expertGroup = (g: Grid, r: number): number => Math.floor(r / expertTpDegree(g));

/** Experts [e0, e1) held by rank r. */
export function localExperts(c: M1Config, g: Grid, r: number): [number, number] {
  const per = c.numExperts / g.ep;
  const grp = expertGroup(g, r);
  return [grp * per, (grp + 1) * per];
}

const rows = (a: number, b: number, cols: number): Rect => ({ r0: a, r1: b, c0: 0, c1: cols });
const cols = (a: number, b: number, nRows: number): Rect => ({ r0: 0, r1: nRows, c0: a, c1: b });

/**
 * Rectangle (in the tensor's 2-D view) of canonical tensor `info` with 2-D view [R, C] held by rank r,
 * or null when the rank holds none of it.
 */
export function rankRect(c: M1Config, g: Grid, r: number, info: NameInfo, R: number, C: number): Rect | null {
  const t = attnShard(g, r);
  const d = c.headDim;
  const hpr = c.numHeads / g.tp;
  switch (info.role) {
    case 'embed':
    case 'lm_head': {
      const per = R / g.tp;
      return rows(t * per, (t + 1) * per, C);
    }
    case 'qkv':
      return rows(t * hpr * 3 * d, (t + 1) * hpr * 3 * d, C);
    case 'output_gate':
    case 'q':
      return rows(t * hpr * d, (t + 1) * hpr * d, C);
    case 'attn_norm':
      return cols(t * hpr * d, (t + 1) * hpr * d, R);
    case 'k':
    case 'v': {
      if (g.tp <= c.numKvHeads) {
        const kpr = c.numKvHeads / g.tp;
        return rows(t * kpr * d, (t + 1) * kpr * d, C);
      }
      const kh = Math.floor(t / (g.tp / c.numKvHeads));
      return rows(kh * d, (kh + 1) * d, C);
    }
    case 'out_proj':
    case 'o':
      return cols(t * hpr * d, (t + 1) * hpr * d, R);
    case 'w1':
    case 'w3':
    case 'w2': {
      const [e0, e1] = localExperts(c, g, r);
      if (info.expert === undefined || info.expert < e0 || info.expert >= e1) return null;
      const etp = expertTpDegree(g);
      const s = r % etp;
      if (info.role === 'w2') {
        const per = C / etp;
        return cols(s * per, (s + 1) * per, R);
      }
      const per = R / etp;
      return rows(s * per, (s + 1) * per, C);
    }
    default:
      return { r0: 0, r1: R, c0: 0, c1: C };
  }
}

/** `rank-00003-of-00008` (0-based, width ≥ 5, like shard names). */
export function rankDirName(r: number, world: number): string {
  const w = Math.max(5, String(world).length);
  return `rank-${String(r).padStart(w, '0')}-of-${String(world).padStart(w, '0')}`;
}
