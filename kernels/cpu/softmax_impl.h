// Causal softmax attention with GQA (docs/architecture.md §3.4), flash-style: per (query head, tile of TQ
// queries) the keys are visited in tiles of TK with an online max/sum, so scores never exceed
// TQ×TK floats. Query i sits at absolute key position nk − n + i and sees keys 0 … that position.
// RoPE is applied by the caller. Threads split (head, query tile) pairs.
// Decode (few queries): all query heads of one KV group form the rows of one tile, so K/V are read
// once per group, and the keys are split into chunks across threads (flash-decoding); each chunk keeps
// per-row max, sum and an unnormalised accumulator, merged at the end by the usual rescaling.
#pragma once
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include "../common/parallel.h"
#include "gemm_tile.h"
#include "kernels.h"

namespace m1k {
namespace M1K_ISA_NS {

constexpr int64_t kTQ = 64, kTK = 64;

// The two ends of an online-softmax row update, shared by online_row and online_row_v.
// Begin: scales sr[0, lim) and returns the new running max m (from mxr) and the factor corr that
// rescales the old sum and accumulators; a row with no visible column (lim <= 0) is zeroed, false.
static inline bool online_row_begin(float* sr, int64_t lim, int64_t cols, float scale, float mxr, float& m, float& corr) {
  if (lim <= 0) {
    for (int64_t c = 0; c < cols; ++c) sr[c] = 0.f;
    return false;
  }
  m = mxr;
  for (int64_t c = 0; c < lim; ++c) {
    sr[c] *= scale;
    m = sr[c] > m ? sr[c] : m;  // the select form, which the compiler vectorises as a max
  }
  corr = mxr == -std::numeric_limits<float>::infinity() ? 0.f : std::exp(mxr - m);
  return true;
}

// End: zeroes sr[lim, cols), folds the row's exponential sum s into sumr, stores m and rescales acc[0, d).
static inline void online_row_end(float* sr, int64_t lim, int64_t cols, float s, float m, float corr, float& mxr,
                                  float& sumr, float* accr, int64_t d) {
  for (int64_t c = lim; c < cols; ++c) sr[c] = 0.f;
  sumr = sumr * corr + s;
  mxr = m;
  if (corr != 1.f)
    for (int64_t c = 0; c < d; ++c) accr[c] *= corr;
}

// Online-softmax update of one row's scores sr[0, lim) (zeroing sr[lim, cols)); rescales acc[0, d).
static inline void online_row(float* sr, int64_t lim, int64_t cols, float scale, float& mxr, float& sumr,
                              float* accr, int64_t d) {
  float m, corr;
  if (!online_row_begin(sr, lim, cols, scale, mxr, m, corr)) return;
  float s = 0.f;
  for (int64_t c = 0; c < lim; ++c) {
    sr[c] = std::exp(sr[c] - m);
    s += sr[c];
  }
  online_row_end(sr, lim, cols, s, m, corr, mxr, sumr, accr, d);
}

// e^x for x ≤ 0 (scores minus their running max), VW lanes: Cephes expf reduction x = n·ln2 + r with
// a degree-6 polynomial on |r| ≤ ln2/2 (≈1 ulp); x below −87.3 is clamped (e^x < 2^−126 there,
// negligible against a row sum ≥ 1). The scalar build keeps std::exp.
#if defined(M1K_ISA_AVX512) || defined(M1K_ISA_AVX2)
// e^r ≈ p on the reduced argument, with n = round(x·log2 e) so that e^x = p·2^n.
static inline vf exp_poly(vf x, vf& n) {
  x = vmax(x, vset1(-87.3365f));
  n = vround(vmul(x, vset1(1.44269504088896341f)));
  const vf r = vfnmadd(n, vset1(-2.12194440e-4f), vfnmadd(n, vset1(0.693359375f), x));
  vf p = vset1(1.9875691500e-4f);
  p = vfma(p, r, vset1(1.3981999507e-3f));
  p = vfma(p, r, vset1(8.3334519073e-3f));
  p = vfma(p, r, vset1(4.1665795894e-2f));
  p = vfma(p, r, vset1(1.6666665459e-1f));
  p = vfma(p, r, vset1(5.0000001201e-1f));
  return vadd(vfma(p, vmul(r, r), r), vset1(1.f));
}
static inline vf vexp(vf x) {
  vf n;
  const vf p = exp_poly(x, n);
#if defined(M1K_ISA_AVX512)
  return {_mm512_scalef_ps(p.v, n.v)};
#else
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n.v), _mm256_set1_epi32(127)), 23);
  return {_mm256_mul_ps(p.v, _mm256_castsi256_ps(e))};
#endif
}
#else
static inline vf vexp(vf x) { return {std::exp(x.v)}; }
#endif

// online_row for the decode path: the same update with the exponentials vectorised.
static inline void online_row_v(float* sr, int64_t lim, int64_t cols, float scale, float& mxr, float& sumr,
                                float* accr, int64_t d) {
  float m, corr;
  if (!online_row_begin(sr, lim, cols, scale, mxr, m, corr)) return;
  const vf one = vset1(1.f), negm = vset1(-m);  // fma(x, 1, y) is x + y rounded once
  vf vs = vzero();
  int64_t c = 0;
  for (; c + VW <= lim; c += VW) {
    const vf p = vexp(vfma(vload(sr + c), one, negm));
    vstore(sr + c, p);
    vs = vfma(p, one, vs);
  }
  float s = vsum(vs);
  for (; c < lim; ++c) {
    sr[c] = std::exp(sr[c] - m);
    s += sr[c];
  }
  online_row_end(sr, lim, cols, s, m, corr, mxr, sumr, accr, d);
}

static void softmax_tile(const SoftmaxArgs& a, int64_t jq, int64_t i0, Buf<float>& scratch) {
  const int64_t d = a.d, ldq = static_cast<int64_t>(a.hq) * d, ldk = static_cast<int64_t>(a.hkv) * d;
  const int64_t jk = jq / (a.hq / a.hkv);
  const int64_t i1 = std::min<int64_t>(a.n, i0 + kTQ), rows = i1 - i0, off = a.nk - a.n;
  float* Sc = scratch.get(static_cast<size_t>(kTQ * kTK + kTK * d + kTQ * d + 2 * kTQ));
  if (!Sc) return;     // [TQ, TK]
  float* Kt = Sc + kTQ * kTK;     // [d, TK]
  float* acc = Kt + kTK * d;      // [TQ, d]
  float* mx = acc + kTQ * d;      // running max per row
  float* sum = mx + kTQ;          // running sum per row
  const float ninf = -std::numeric_limits<float>::infinity();
  for (int64_t r = 0; r < rows; ++r) {
    mx[r] = ninf;
    sum[r] = 0.f;
    for (int64_t c = 0; c < d; ++c) acc[r * d + c] = 0.f;
  }
  const float* Q = a.q + i0 * ldq + jq * d;
  const int64_t last = off + i1 - 1;  // last key any row of the tile may see
  for (int64_t c0 = 0; c0 <= last; c0 += kTK) {
    const int64_t cols = std::min<int64_t>(kTK, last + 1 - c0);
    const float* K = a.k + c0 * ldk + jk * d;
    const float* V = a.v + c0 * ldk + jk * d;
    for (int64_t c = 0; c < cols; ++c)
      for (int64_t e = 0; e < d; ++e) Kt[e * kTK + c] = K[c * ldk + e];
    gemm_nn(rows, cols, d, Q, ldq, 1, Kt, kTK, Sc, kTK, false);
    for (int64_t r = 0; r < rows; ++r)  // keys visible to row r: up to its absolute position
      online_row(Sc + r * kTK, std::min<int64_t>(cols, off + i0 + r - c0 + 1), cols, a.scale, mx[r], sum[r], acc + r * d, d);
    gemm_nn(rows, d, cols, Sc, kTK, 1, V, ldk, acc, d, true);
  }
  float* O = a.o + i0 * ldq + jq * d;
  for (int64_t r = 0; r < rows; ++r) {
    const float inv = 1.f / sum[r];
    for (int64_t c = 0; c < d; ++c) O[r * ldq + c] = acc[r * d + c] * inv;
  }
}

// Prefetch hint (a no-op where the compiler has none); callers keep addresses inside their arrays.
static inline void prefetch(const float* p) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 0, 3);
#else
  (void)p;
#endif
}
constexpr int64_t kPrefetchKeys = 16;  // keys ahead of the K row being read
constexpr int64_t kRowsNt = 16;        // decode rows up to which scores are dot products over contiguous K

// Dot products S[r, c] = q_r · k_c for `rows` query rows (pointers qr) and `cols` contiguous K rows
// (stride ldk), vectorised over d; four rows share each K load. `ahead` keys of K may be prefetched.
static inline void scores_nt(int64_t rows, int64_t cols, int64_t ahead, int64_t d, const float* const* qr,
                             const float* K, const float* V, int64_t ldk, float* S, int64_t lds) {
  const int64_t dv = d / VW * VW;
  for (int64_t c = 0; c < cols; ++c) {
    const float* kc = K + c * ldk;
    const bool pk = c + kPrefetchKeys < ahead;
    for (int64_t e = 0; e < d; e += 16) {  // memory-bound: request K ahead and this tile's V rows now
      if (pk) prefetch(kc + kPrefetchKeys * ldk + e);
      prefetch(V + c * ldk + e);
    }
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) {
      const float *q0 = qr[r], *q1 = qr[r + 1], *q2 = qr[r + 2], *q3 = qr[r + 3];
      vf a0 = vzero(), a1 = vzero(), a2 = vzero(), a3 = vzero();
      for (int64_t e = 0; e < dv; e += VW) {
        const vf kv = vload(kc + e);
        a0 = vfma(vload(q0 + e), kv, a0);
        a1 = vfma(vload(q1 + e), kv, a1);
        a2 = vfma(vload(q2 + e), kv, a2);
        a3 = vfma(vload(q3 + e), kv, a3);
      }
      float s0 = vsum(a0), s1 = vsum(a1), s2 = vsum(a2), s3 = vsum(a3);
      for (int64_t e = dv; e < d; ++e) {
        s0 += q0[e] * kc[e];
        s1 += q1[e] * kc[e];
        s2 += q2[e] * kc[e];
        s3 += q3[e] * kc[e];
      }
      S[r * lds + c] = s0;
      S[(r + 1) * lds + c] = s1;
      S[(r + 2) * lds + c] = s2;
      S[(r + 3) * lds + c] = s3;
    }
    for (; r < rows; ++r) {
      const float* q0 = qr[r];
      vf a0 = vzero();
      for (int64_t e = 0; e < dv; e += VW) a0 = vfma(vload(q0 + e), vload(kc + e), a0);
      float s0 = vsum(a0);
      for (int64_t e = dv; e < d; ++e) s0 += q0[e] * kc[e];
      S[r * lds + c] = s0;
    }
  }
}

// One decode chunk: KV head jk, keys [k0, k1), all n × g rows (row = query·g + head in group).
// Writes the chunk's unnormalised accumulator [rows, d], then max [rows] and sum [rows] to part;
// false when its scratch cannot be allocated.
static bool decode_chunk(const SoftmaxArgs& a, int64_t jk, int64_t k0, int64_t k1, float* part, Buf<float>& scratch) {
  const int64_t d = a.d, g = a.hq / a.hkv, rows = a.n * g, off = a.nk - a.n;
  const int64_t ldq = static_cast<int64_t>(a.hq) * d, ldk = static_cast<int64_t>(a.hkv) * d;
  float* Sc = scratch.get(static_cast<size_t>(kTQ * kTK + kTK * d));  // [TQ, TK]
  float* Kt = Sc ? Sc + kTQ * kTK : nullptr;                            // [d, TK]
  float* acc = part;
  float* mx = acc + rows * d;
  float* sum = mx + rows;
  const float ninf = -std::numeric_limits<float>::infinity();
  const float* qr[kTQ];
  for (int64_t r = 0; r < rows; ++r) {
    qr[r] = a.q + (r / g) * ldq + (jk * g + r % g) * d;
    mx[r] = ninf;
    sum[r] = 0.f;
    for (int64_t c = 0; c < d; ++c) acc[r * d + c] = 0.f;
  }
  if (!Sc) return false;
  for (int64_t c0 = k0; c0 < k1; c0 += kTK) {
    const int64_t cols = std::min<int64_t>(kTK, k1 - c0);
    const float* K = a.k + c0 * ldk + jk * d;
    const float* V = a.v + c0 * ldk + jk * d;
    if (rows <= kRowsNt) {
      scores_nt(rows, cols, k1 - c0, d, qr, K, V, ldk, Sc, kTK);
    } else {  // enough rows to amortise a transposed K tile: the register-blocked GEMM is faster
      for (int64_t c = 0; c < cols; ++c)
        for (int64_t e = 0; e < d; ++e) Kt[e * kTK + c] = K[c * ldk + e];
      if (g == 1)  // rows are queries, stride ldq
        gemm_nn(rows, cols, d, qr[0], ldq, 1, Kt, kTK, Sc, kTK, false);
      else  // per query, its g heads are contiguous rows of stride d
        for (int64_t r = 0; r < rows; r += g) gemm_nn(g, cols, d, qr[r], d, 1, Kt, kTK, Sc + r * kTK, kTK, false);
    }
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t lim = std::min<int64_t>(cols, off + r / g - c0 + 1);
      online_row_v(Sc + r * kTK, lim, cols, a.scale, mx[r], sum[r], acc + r * d, d);
    }
    gemm_nn(rows, d, cols, Sc, kTK, 1, V, ldk, acc, d, true);
  }
  return true;
}

// Decode path; returns false (nothing written) when its buffers cannot be allocated.
static bool softmax_decode(const SoftmaxArgs& a) {
  const int64_t d = a.d, g = a.hq / a.hkv, rows = a.n * g, ldq = static_cast<int64_t>(a.hq) * d;
  constexpr int64_t kMinChunk = 512;  // keys per chunk below which splitting costs more than it saves
  const int64_t want = (std::max<int64_t>(1, a.threads) + a.hkv - 1) / a.hkv;
  const int64_t nch = std::max<int64_t>(1, std::min<int64_t>(want, a.nk / kMinChunk));
  const int64_t stride = rows * (d + 2);
  Buf<float> parts;
  float* P = parts.get(static_cast<size_t>(a.hkv * nch * stride));
  if (!P) return false;
  std::atomic<bool> ok{true};
  parallel_for(a.hkv * nch, a.threads, [&](int64_t b, int64_t e) {
    Buf<float> scratch;
    for (int64_t t = b; t < e; ++t) {
      const int64_t jk = t / nch, ci = t % nch;
      if (!decode_chunk(a, jk, a.nk * ci / nch, a.nk * (ci + 1) / nch, P + t * stride, scratch)) ok = false;
    }
  });
  if (!ok) return false;
  const float ninf = -std::numeric_limits<float>::infinity();
  for (int64_t jk = 0; jk < a.hkv; ++jk) {
    const float* base = P + jk * nch * stride;
    for (int64_t r = 0; r < rows; ++r) {
      float m = ninf;
      for (int64_t ci = 0; ci < nch; ++ci) m = std::max(m, base[ci * stride + rows * d + r]);
      float* O = a.o + (r / g) * ldq + (jk * g + r % g) * d;
      float s = 0.f;
      for (int64_t c = 0; c < d; ++c) O[c] = 0.f;
      for (int64_t ci = 0; ci < nch; ++ci) {
        const float* pc = base + ci * stride;
        const float mc = pc[rows * d + r];
        if (mc == ninf) continue;  // chunk entirely in this row's future
        const float w = std::exp(mc - m);
        s += pc[rows * d + rows + r] * w;
        for (int64_t c = 0; c < d; ++c) O[c] += pc[r * d + c] * w;
      }
      const float inv = 1.f / s;
      for (int64_t c = 0; c < d; ++c) O[c] *= inv;
    }
  }
  return true;
}

static void softmax_attention(const SoftmaxArgs& a) {
  FlushDenormals ftz;
  if (a.n * (a.hq / a.hkv) <= kTQ && softmax_decode(a)) return;
  const int64_t tiles = (a.n + kTQ - 1) / kTQ, total = tiles * a.hq;
  parallel_for(total, a.threads, [&](int64_t b, int64_t e) {
    Buf<float> scratch;
    for (int64_t t = b; t < e; ++t) softmax_tile(a, t / tiles, (t % tiles) * kTQ, scratch);
  });
}

}  // namespace M1K_ISA_NS
}  // namespace m1k
