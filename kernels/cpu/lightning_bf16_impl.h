// Lightning prefill in the bf16 numerics on AVX512-BF16: the intra-block term, two thirds of the
// block-form FLOPs, runs on vdpbf16ps. Per 64-row chunk of a block (q, k, v staged already rounded):
//   P = Q·Kᵀ       A = q rows as k-pairs along d, B = Kᵀ as pairs (K[c][2p], K[c][2p+1]) per key c
//   P ⊙= decay mask (fp32), then P rounded to bf16
//   O (+)= P·V     A = P rows as pairs of consecutive keys, B = pairs (V[2q][e], V[2q+1][e])
// Keys are zero padded to a multiple of 32. The inter-block term and the state stay fp32 (lightning_impl.h).
// Needs d a multiple of 16; other d use the fp32-FMA intra term.
#pragma once
#include "gemm_bf16_impl.h"
#include "lightning_impl.h"

namespace m1k {
namespace M1K_ISA_NS {

static inline uint32_t hi16(float f) { return f32_bits(f) >> 16; }  // exact: f is already a bf16 value

// C[M, N] (+)= A[M, Kp] · B[Kp, N] over bf16 pairs (uint32 words), N a multiple of 16.
template <int MR, int NV>
static inline void dp_tile(int64_t Kp, const uint32_t* A, int64_t lda, const uint32_t* B, int64_t ldb, float* C,
                           int64_t ldc, bool acc) {
  __m512 c[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) c[i][v] = acc ? _mm512_loadu_ps(C + i * ldc + v * 16) : _mm512_setzero_ps();
  for (int64_t p = 0; p < Kp; ++p) {
    __m512i b[NV];
    for (int v = 0; v < NV; ++v) b[v] = _mm512_loadu_si512(B + p * ldb + v * 16);
    for (int i = 0; i < MR; ++i) {
      const __m512i a = _mm512_set1_epi32(static_cast<int>(A[i * lda + p]));
      for (int v = 0; v < NV; ++v) c[i][v] = dp(c[i][v], a, b[v]);
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(C + i * ldc + v * 16, c[i][v]);
}

template <int NV>
static inline void dp_rows(int64_t M, int64_t Kp, const uint32_t* A, int64_t lda, const uint32_t* B, int64_t ldb,
                           float* C, int64_t ldc, bool acc) {
  int64_t i = 0;
  for (; i + 6 <= M; i += 6) dp_tile<6, NV>(Kp, A + i * lda, lda, B, ldb, C + i * ldc, ldc, acc);
  for (; i + 2 <= M; i += 2) dp_tile<2, NV>(Kp, A + i * lda, lda, B, ldb, C + i * ldc, ldc, acc);
  for (; i < M; ++i) dp_tile<1, NV>(Kp, A + i * lda, lda, B, ldb, C + i * ldc, ldc, acc);
}

static void dp_gemm(int64_t M, int64_t N, int64_t Kp, const uint32_t* A, int64_t lda, const uint32_t* B, int64_t ldb,
                    float* C, int64_t ldc, bool acc) {
  int64_t j = 0;
  for (; j + 64 <= N; j += 64) dp_rows<4>(M, Kp, A, lda, B + j, ldb, C + j, ldc, acc);
  for (; j + 16 <= N; j += 16) dp_rows<1>(M, Kp, A, lda, B + j, ldb, C + j, ldc, acc);
}

static void block_intra_dp(const BlockView& b, BlockScratch& w, bool acc) {
  const int64_t d = w.d, m = b.m, mp = (m + 31) / 32 * 32, dp2 = d / 2;
  if (d % 16 != 0) {
    block_intra(b, w, acc);
    return;
  }
  const int64_t ldk = mp + 16;  // KT row stride in words (padded)
  const int64_t ldpp = mp / 2 + 16;  // P-pair row stride
  const int64_t ldv = d + 16;
  uint32_t* KT = w.pairs.get(static_cast<size_t>(dp2 * ldk + 64 * ldpp + (mp / 2) * ldv + m * (dp2 + 16)));
  if (!KT) {
    block_intra(b, w, acc);
    return;
  }
  uint32_t* PP = KT + dp2 * ldk;        // [64, mp/2]
  uint32_t* VP = PP + 64 * ldpp;        // [mp/2, d]
  uint32_t* QP = VP + (mp / 2) * ldv;   // [m, d/2]
  const int64_t ldq = dp2 + 16;
  for (int64_t c = 0; c < mp; ++c)
    for (int64_t p = 0; p < dp2; ++p)
      KT[p * ldk + c] = c < m ? (hi16(b.K[c * b.ld + 2 * p]) | (hi16(b.K[c * b.ld + 2 * p + 1]) << 16)) : 0u;
  for (int64_t q = 0; q < mp / 2; ++q)
    for (int64_t e = 0; e < d; ++e) {
      const uint32_t lo = 2 * q < m ? hi16(b.V[2 * q * b.ld + e]) : 0u, hi = 2 * q + 1 < m ? hi16(b.V[(2 * q + 1) * b.ld + e]) : 0u;
      VP[q * ldv + e] = lo | (hi << 16);
    }
  for (int64_t r = 0; r < m; ++r)
    for (int64_t p = 0; p < dp2; ++p) QP[r * ldq + p] = hi16(b.Q[r * b.ld + 2 * p]) | (hi16(b.Q[r * b.ld + 2 * p + 1]) << 16);
  for (int64_t r0 = 0; r0 < m; r0 += 64) {
    const int64_t r1 = std::min<int64_t>(m, r0 + 64), cols = (r1 + 31) / 32 * 32;  // keys 0 … r1−1, padded
    dp_gemm(r1 - r0, cols, dp2, QP + r0 * ldq, ldq, KT, ldk, w.P + r0 * w.ldP, w.ldP, false);
    for (int64_t r = r0; r < r1; ++r) {
      const float* pr = w.P + r * w.ldP;
      uint32_t* pp = PP + (r - r0) * ldpp;
      for (int64_t q = 0; q < cols / 2; ++q) {
        const int64_t c0 = 2 * q, c1 = 2 * q + 1;
        const float f0 = c0 <= r ? pr[c0] * w.pw[r - c0] : 0.f, f1 = c1 <= r ? pr[c1] * w.pw[r - c1] : 0.f;
        pp[q] = static_cast<uint32_t>(bf16_of_bits(f32_bits(f0))) | (static_cast<uint32_t>(bf16_of_bits(f32_bits(f1))) << 16);
      }
    }
    dp_gemm(r1 - r0, d, cols / 2, PP, ldpp, VP, ldv, b.O + r0 * b.ldo, b.ldo, acc);
  }
}

static void lightning_prefill_bf16_dp(const LightningArgs& a) { lightning_prefill_run(a, true, block_intra_dp); }

}  // namespace M1K_ISA_NS
}  // namespace m1k
