/** Seeded randomness for the verification experiments: a small PRNG, random prompts, temperature sampling. */

/** mulberry32: deterministic uniform floats in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` token ids uniform in [0, vocab). */
export function randomTokens(rand: () => number, n: number, vocab: number): number[] {
  return Array.from({ length: n }, () => Math.floor(rand() * vocab));
}

/**
 * Sample a token from logits at temperature T (float64 softmax); returns the token and its probability
 * under that softmax.
 */
export function sampleToken(logits: ArrayLike<number>, rand: () => number, temperature = 1, from = 0, vocab = logits.length - from): { token: number; p: number } {
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) max = Math.max(max, logits[from + i]!);
  const e = new Float64Array(vocab);
  let sum = 0;
  for (let i = 0; i < vocab; i++) {
    e[i] = Math.exp((logits[from + i]! - max) / temperature);
    sum += e[i]!;
  }
  const u = rand() * sum;
  let acc = 0;
  let token = vocab - 1;
  for (let i = 0; i < vocab; i++) {
    acc += e[i]!;
    if (u < acc) {
      token = i;
      break;
    }
  }
  return { token, p: e[token]! / sum };
}

/** Probability of `token` under softmax(logits / T) (float64). */
export function tokenProbability(logits: ArrayLike<number>, token: number, temperature = 1, from = 0, vocab = logits.length - from): number {
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) max = Math.max(max, logits[from + i]!);
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += Math.exp((logits[from + i]! - max) / temperature);
  return Math.exp((logits[from + token]! - max) / temperature) / sum;
}
