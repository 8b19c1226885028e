// Lightning attention (decayed linear attention, docs/architecture.md §3.3), fp32 throughout.
//   prefill: block form of §3.3.4 with block B; per block (m ≤ B rows, incoming state S):
//     O  = diag(λ^{r+1}) · (Q·S)                       inter-block term
//     O += ((Q·Kᵀ) ⊙ M) · V,  M[r,c] = λ^{r−c} (c ≤ r)   intra-block term (upper triangle skipped)
//     S  = λ^m · S + (diag(λ^{m−1−c}) · K)ᵀ · V          state carried to the next block
//   decode: per token S = λ·S + kᵀv, o = q·S (inclusive), one pass over S per token.
// Decay powers are exp(−s·p) evaluated in double and rounded to fp32, identical on every ISA; a power
// below kDecayFloor (2^-60, far under fp32 resolution of any sum it joins) is 0, as in the TypeScript
// references (lightning-ref.ts), so steep heads never produce subnormal decay factors.
// Threads split the heads.
#pragma once
#include <cmath>
#include <cstdint>
#include "../common/parallel.h"
#include "gemm_impl.h"
#include "gemm_tile.h"
#include "kernels.h"

namespace m1k {
namespace M1K_ISA_NS {

static void lightning_prefill_head(const LightningArgs& a, int j, Buf<float>& scratch) {
  const int64_t d = a.d, h = a.h, B = a.block, ld = h * d;
  const double s = a.slopes[j];
  float* P = scratch.get(static_cast<size_t>(B * B + 2 * B * d + 2 * (B + 1)));
  if (!P) return;  // allocation failure: output left untouched (callers pre-check sizes; never seen)   // [B, B] masked scores
  float* Kt = P + B * B;       // [d, B] Kᵀ of the block
  float* Kd = Kt + B * d;      // [B, d] decayed K
  float* pw = Kd + B * d;      // λ^p, p = 0..B
  for (int64_t p = 0; p <= B; ++p) pw[p] = decay_pow(s, static_cast<double>(p));
  float* S = a.state + static_cast<int64_t>(j) * d * d;
  for (int64_t t0 = 0; t0 < a.n; t0 += B) {
    const int64_t m = std::min<int64_t>(B, a.n - t0);
    const float* Q = a.q + t0 * ld + j * d;
    const float* K = a.k + t0 * ld + j * d;
    const float* V = a.v + t0 * ld + j * d;
    float* O = a.o + t0 * ld + j * d;
    // inter: O = λ^{r+1} (q_r · S)
    gemm_nn(m, d, d, Q, ld, 1, S, d, O, ld, false);
    for (int64_t r = 0; r < m; ++r) {
      const float f = pw[r + 1];
      for (int64_t c = 0; c < d; ++c) O[r * ld + c] *= f;
    }
    // intra: scores for the lower triangle, in row blocks of 64
    for (int64_t c = 0; c < m; ++c)
      for (int64_t e = 0; e < d; ++e) Kt[e * B + c] = K[c * ld + e];
    for (int64_t r0 = 0; r0 < m; r0 += 64) {
      const int64_t r1 = std::min<int64_t>(m, r0 + 64), cols = r1;  // keys 0 … r1−1
      gemm_nn(r1 - r0, cols, d, Q + r0 * ld, ld, 1, Kt, B, P + r0 * B, B, false);
      for (int64_t r = r0; r < r1; ++r) {
        float* pr = P + r * B;
        for (int64_t c = 0; c <= r; ++c) pr[c] *= pw[r - c];
        for (int64_t c = r + 1; c < cols; ++c) pr[c] = 0.f;
      }
      gemm_nn(r1 - r0, d, cols, P + r0 * B, B, 1, V, ld, O + r0 * ld, ld, true);
    }
    // state: S = λ^m S + (Λk ⊙ K)ᵀ V
    const float bd = pw[m];
    for (int64_t i = 0; i < d * d; ++i) S[i] *= bd;
    for (int64_t c = 0; c < m; ++c) {
      const float f = pw[m - 1 - c];
      for (int64_t e = 0; e < d; ++e) Kd[c * d + e] = K[c * ld + e] * f;
    }
    gemm_nn(d, d, m, Kd, 1, d, V, ld, S, d, true);
  }
}

static void lightning_prefill(const LightningArgs& a) {
  FlushDenormals ftz;
  parallel_for(a.h, a.threads, [&](int64_t j0, int64_t j1) {
    Buf<float> scratch;
    for (int64_t j = j0; j < j1; ++j) lightning_prefill_head(a, static_cast<int>(j), scratch);
  });
}

// bf16 numerics of the prefill (generic levels): q, k, v rounded to bf16, then the fp32 kernel (fp32
// products, sums and state). Levels with vdpbf16ps override this slot.
static void lightning_prefill_bf16(const LightningArgs& a) {
  FlushDenormals ftz;
  const int64_t nhd = a.n * a.h * a.d;
  Buf<float> qb, kb, vb;
  float* q = qb.get(static_cast<size_t>(std::max<int64_t>(1, nhd)));
  float* k = kb.get(static_cast<size_t>(std::max<int64_t>(1, nhd)));
  float* v = vb.get(static_cast<size_t>(std::max<int64_t>(1, nhd)));
  if (!q || !k || !v) return;
  parallel_for((nhd + 65535) / 65536, a.threads, [&](int64_t b, int64_t e) {
    for (int64_t i = b * 65536, i1 = std::min(nhd, e * 65536); i < i1; ++i) {
      q[i] = round_bf16(a.q[i]);
      k[i] = round_bf16(a.k[i]);
      v[i] = round_bf16(a.v[i]);
    }
  });
  LightningArgs r = a;
  r.q = q;
  r.k = k;
  r.v = v;
  lightning_prefill(r);
}

// One decode step of one head over columns [c0, c0 + NV·VW): v and the output stay in registers,
// each S row segment is read and written once.
template <int NV>
static inline void decode_cols(float* S, const float* q, const float* k, const float* v, float* o, int64_t d, int64_t c0,
                               vf vl) {
  vf vv[NV], acc[NV];
  for (int u = 0; u < NV; ++u) {
    vv[u] = vload(v + c0 + u * VW);
    acc[u] = vzero();
  }
  for (int64_t r = 0; r < d; ++r) {
    float* Sr = S + r * d + c0;
    const vf kr = vset1(k[r]), qr = vset1(q[r]);
    for (int u = 0; u < NV; ++u) {
      const vf sv = vfma(kr, vv[u], vmul(vl, vload(Sr + u * VW)));
      vstore(Sr + u * VW, sv);
      acc[u] = vfma(qr, sv, acc[u]);
    }
  }
  for (int u = 0; u < NV; ++u) vstore(o + c0 + u * VW, acc[u]);
}

static void lightning_decode(const LightningArgs& a) {
  FlushDenormals ftz;
  const int64_t d = a.d, h = a.h, ld = h * d;
  parallel_for(a.h, a.threads, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      const float lam = decay_pow(a.slopes[j], 1.0);
      const vf vl = vset1(lam);
      float* S = a.state + j * d * d;
      for (int64_t t = 0; t < a.n; ++t) {
        const float* q = a.q + t * ld + j * d;
        const float* k = a.k + t * ld + j * d;
        const float* v = a.v + t * ld + j * d;
        float* o = a.o + t * ld + j * d;
        int64_t c = 0;
        for (; c + 4 * VW <= d; c += 4 * VW) decode_cols<4>(S, q, k, v, o, d, c, vl);
        for (; c + VW <= d; c += VW) decode_cols<1>(S, q, k, v, o, d, c, vl);
        for (; c < d; ++c) {
          float acc = 0.f;
          for (int64_t r = 0; r < d; ++r) {
            const float sv = lam * S[r * d + c] + k[r] * v[c];
            S[r * d + c] = sv;
            acc += q[r] * sv;
          }
          o[c] = acc;
        }
      }
    }
  });
}

}  // namespace M1K_ISA_NS
}  // namespace m1k
