/**
 * Sampling one token from a row of logits: temperature, nucleus (top-p) truncation and a mask of
 * allowed ids, with a seeded PRNG so a run is reproducible. All arithmetic in float64.
 *
 * Rule (documented): with temperature T > 0 the distribution is softmax(logits / T) over the allowed
 * ids; top-p keeps the smallest set of most likely ids whose probabilities sum to ≥ p (ties: lower id
 * first), renormalised, and the token is drawn from it. T = 0 is greedy (the most likely allowed id,
 * lower id on ties). The reported probability of the drawn token is its probability under
 * softmax(logits / T) before the top-p cut (T = 1 when greedy): what the early-truncation guard counts.
 */

export interface SamplerOptions {
  /** 0: greedy; > 0: softmax temperature (default 1). */
  temperature?: number;
  /** Nucleus mass in (0, 1] (default 1: no cut). */
  topP?: number;
  /** Ids that may be drawn (default all). */
  allowed?: (id: number) => boolean;
}

export interface Sampled {
  id: number;
  /** Probability of `id` under softmax(logits / T) over the allowed ids (T = 1 when greedy). */
  p: number;
}

/**
 * Draw one token from `row` with the uniform source `rand` (values in [0, 1)).
 * @example sample(new Float32Array([0, 3, 1]), Math.random, { temperature: 0 }) // { id: 1, p: … }
 */
export function sample(row: ArrayLike<number>, rand: () => number, o: SamplerOptions = {}): Sampled {
  const T = o.temperature ?? 1;
  const topP = o.topP ?? 1;
  if (!(T >= 0 && Number.isFinite(T))) throw new RangeError(`temperature must be a finite number ≥ 0, got ${T}`);
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`top-p must lie in (0, 1], got ${topP}`);
  const V = row.length;
  const ok = o.allowed ?? (() => true);
  const tt = T === 0 ? 1 : T;
  let max = -Infinity;
  let best = -1;
  for (let i = 0; i < V; i++) {
    if (!ok(i)) continue;
    if (row[i]! > max) { max = row[i]!; best = i; }
  }
  if (best < 0) throw new RangeError('no token is allowed');
  const e = new Float64Array(V);
  let sum = 0;
  for (let i = 0; i < V; i++) {
    if (!ok(i)) continue;
    e[i] = Math.exp((row[i]! - max) / tt);
    sum += e[i]!;
  }
  if (T === 0) return { id: best, p: e[best]! / sum };
  let ids: number[];
  if (topP < 1) {
    const order = [...Array(V).keys()].filter((i) => e[i]! > 0).sort((a, b) => e[b]! - e[a]! || a - b);
    ids = [];
    let mass = 0;
    for (const i of order) {
      ids.push(i);
      mass += e[i]! / sum;
      if (mass >= topP) break;
    }
  } else {
    ids = [...Array(V).keys()].filter((i) => e[i]! > 0);
  }
  let kept = 0;
  for (const i of ids) kept += e[i]!;
  const u = rand() * kept;
  let acc = 0;
  let id = ids[ids.length - 1]!;
  for (const i of ids) {
    acc += e[i]!;
    if (u < acc) { id = i; break; }
  }
  return { id, p: e[id]! / sum };
}
