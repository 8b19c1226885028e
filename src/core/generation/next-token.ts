/**
 * The next-token distribution of one row of logits: the k most likely tokens with their logits and
 * probabilities (softmax at temperature 1 over the whole vocabulary, in float64).
 */

export interface NextToken {
  id: number;
  logit: number;
  /** softmax(logits)[id]. */
  p: number;
}

/** log Σ exp(x_i) over `row` (float64, shifted by the maximum). */
export function logSumExp(row: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i]! - max);
  return max + Math.log(s);
}

/**
 * The `k` most likely tokens of `row`, most likely first (ties: lower id first).
 * @example topK(new Float32Array([0, 2, 1]), 2) // [{ id: 1, … }, { id: 2, … }]
 */
export function topK(row: ArrayLike<number>, k: number): NextToken[] {
  const n = Math.min(k, row.length);
  const lse = logSumExp(row);
  // a sorted list of the best n; k is small (≤ a few hundred) next to the vocabulary
  const best: number[] = [];
  const better = (a: number, b: number) => row[a]! > row[b]! || (row[a]! === row[b]! && a < b);
  for (let i = 0; i < row.length; i++) {
    if (best.length === n && !better(i, best[n - 1]!)) continue;
    let j = Math.min(best.length, n - 1);
    if (best.length < n) best.push(i);
    else best[j] = i;
    while (j > 0 && better(best[j]!, best[j - 1]!)) {
      [best[j], best[j - 1]] = [best[j - 1]!, best[j]!];
      j--;
    }
  }
  return best.map((id) => ({ id, logit: row[id]!, p: Math.exp(row[id]! - lse) }));
}
