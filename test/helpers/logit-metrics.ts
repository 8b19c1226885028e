/** Test helper: naive float64 comparison of two [n, V] logit arrays (reference first). */
export interface LogitComparison {
  maxKld: number;
  meanKld: number;
  top1: number; // fraction of positions with the same argmax
  maxAbsDiff: number;
  maxAbsRef: number;
}

function logSoftmax(z: Float32Array): Float64Array {
  let m = -Infinity;
  for (const v of z) m = Math.max(m, v);
  let s = 0;
  for (const v of z) s += Math.exp(v - m);
  const lse = m + Math.log(s);
  return Float64Array.from(z, (v) => v - lse);
}

const argmax = (z: Float32Array): number => z.reduce((best, v, i) => (v > z[best]! ? i : best), 0);

export function compareLogits(ref: Float32Array, test: Float32Array, V: number): LogitComparison {
  if (ref.length !== test.length) throw new Error(`logit arrays differ in length: ${ref.length} vs ${test.length}`);
  const n = ref.length / V;
  let maxKld = 0, sumKld = 0, same = 0, maxAbsDiff = 0, maxAbsRef = 0;
  for (let i = 0; i < n; i++) {
    const a = ref.subarray(i * V, (i + 1) * V), b = test.subarray(i * V, (i + 1) * V);
    const la = logSoftmax(a), lb = logSoftmax(b);
    let kld = 0;
    for (let j = 0; j < V; j++) {
      kld += Math.exp(la[j]!) * (la[j]! - lb[j]!);
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[j]! - b[j]!));
      maxAbsRef = Math.max(maxAbsRef, Math.abs(a[j]!));
    }
    maxKld = Math.max(maxKld, kld);
    sumKld += kld;
    if (argmax(a) === argmax(b)) same++;
  }
  return { maxKld, meanKld: sumKld / n, top1: same / n, maxAbsDiff, maxAbsRef };
}
