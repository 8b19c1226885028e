// gemm_bf16 on AVX512-BF16: y = bf16(x) · Wᵀ with W bf16 as stored, products exact in fp32, sums in
// fp32, using vdpbf16ps (each 32-bit lane: acc += a₀·b₀ + a₁·b₁ over a pair of consecutive k).
// Same two strategies as gemm_impl.h:
// - few rows: x rounded once to bf16 rows, then 4×4 dot tiles over 32 k per step straight from W;
// - many rows: W packed into KC/2 × NR micro-panels of k-pairs (one 32-bit word per output column,
//   the pair W[n][k], W[n][k+1] as it lies in memory), x into KC/2 × MR pair panels (rounded while
//   packing); an MR×NR register tile of fp32 accumulators takes one vdpbf16ps per vector per pair.
// Requires the translation unit to be built with -mavx512bf16 (isa_avx512bf16.cc).
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include "../common/parallel.h"
#include "chain_probe.h"
#include "convert_impl.h"
#include "gemm_impl.h"
#include "kernels.h"

namespace m1k {
namespace M1K_ISA_NS {

static inline __m512 dp(__m512 acc, __m512i a, __m512i b) {
  return _mm512_dpbf16_ps(acc, reinterpret_cast<__m512bh>(a), reinterpret_cast<__m512bh>(b));
}

// ---- few rows ----------------------------------------------------------------------------------------

template <int MX, int NW>
static inline void bf_dot_tile(const uint16_t* xb, int64_t ldx, const uint16_t* w, int64_t k, float* y, int64_t ldy) {
  __m512 acc[MX][NW];
  for (int i = 0; i < MX; ++i)
    for (int j = 0; j < NW; ++j) acc[i][j] = _mm512_setzero_ps();
  for (int64_t kk = 0; kk < k; kk += 32) {
    const __mmask32 m = kk + 32 <= k ? ~__mmask32{0} : static_cast<__mmask32>((uint64_t{1} << (k - kk)) - 1);
    __m512i wv[NW];
    for (int j = 0; j < NW; ++j) wv[j] = _mm512_maskz_loadu_epi16(m, w + j * k + kk);
    for (int i = 0; i < MX; ++i) {
      const __m512i xv = _mm512_maskz_loadu_epi16(m, xb + i * ldx + kk);
      for (int j = 0; j < NW; ++j) acc[i][j] = dp(acc[i][j], xv, wv[j]);
    }
  }
  for (int i = 0; i < MX; ++i)
    for (int j = 0; j < NW; ++j) y[i * ldy + j] = _mm512_reduce_add_ps(acc[i][j]);
}

// Columns [n0, n1) of all m rows of xb (bf16 [m, k]).
static void bf_dot_cols(const uint16_t* xb, const uint16_t* w, float* y, int64_t m, int64_t k, int64_t ldy, int64_t n0,
                        int64_t n1) {
  for (int64_t n = n0; n < n1;) {
    const bool four = n + 4 <= n1;
    int64_t i = 0;
    for (; i + 4 <= m; i += 4) {
      if (four) bf_dot_tile<4, 4>(xb + i * k, k, w + n * k, k, y + i * ldy + n, ldy);
      else bf_dot_tile<4, 1>(xb + i * k, k, w + n * k, k, y + i * ldy + n, ldy);
    }
    for (; i < m; ++i) {
      if (four) bf_dot_tile<1, 4>(xb + i * k, k, w + n * k, k, y + i * ldy + n, ldy);
      else bf_dot_tile<1, 1>(xb + i * k, k, w + n * k, k, y + i * ldy + n, ldy);
    }
    n += four ? 4 : 1;
  }
}

static void round_rows_bf16(const float* x, uint16_t* xb, int64_t count, int threads) {
  parallel_for((count + 65535) / 65536, threads, [&](int64_t b, int64_t e) {
    for (int64_t i = b * 65536, i1 = std::min(count, e * 65536); i < i1; ++i) xb[i] = bf16_of_bits(f32_bits(x[i]));
  });
}

// ---- many rows: packed pairs -------------------------------------------------------------------------

constexpr int kBMR = 12, kBNV = 2, kBNR = kBNV * 16;
constexpr int64_t kBKC = 512;        // k per slice = 256 pairs: 256·32·4 B = 32 KiB of packed W (L1)
constexpr int64_t kBMC = 16 * kBMR;  // 192 rows × 256 pairs × 4 B = 192 KiB of packed x (L2)
constexpr int64_t kBNC = 64 * kBNR;  // 2048 outputs × 256 pairs × 4 B = 2 MiB of packed W

static inline uint32_t pair_at(const uint16_t* row, int64_t k, int64_t kk) {
  const uint32_t lo = row[kk], hi = kk + 1 < k ? row[kk + 1] : 0;
  return lo | (hi << 16);
}

// Packs `count` rows of kp k-pairs into panels of R rows: pair p of panel row j at P[p·R + j], the panels
// one after another, the rows past `count` in the last panel zero. row(r, P, j) writes row r = rp + j.
template <int64_t R, class Row>
static inline void pack_pair_panels(int64_t count, int64_t kp, uint32_t* dst, Row&& row) {
  for (int64_t rp = 0; rp < count; rp += R) {
    uint32_t* P = dst + rp * kp;
    const int64_t rows = std::min<int64_t>(R, count - rp);
    for (int64_t j = 0; j < rows; ++j) row(rp + j, P, j);
    for (int64_t j = rows; j < R; ++j)
      for (int64_t p = 0; p < kp; ++p) P[p * R + j] = 0;
  }
}

static void bf_pack_w(const uint16_t* w, int64_t k, int64_t n0, int64_t nc, int64_t k0, int64_t kc, uint32_t* dst) {
  const int64_t kp = (kc + 1) / 2;
  pack_pair_panels<kBNR>(nc, kp, dst, [&](int64_t r, uint32_t* P, int64_t j) {
    const uint16_t* row = w + (n0 + r) * k;
    if ((k0 + kc <= k - (k & 1)) && ((reinterpret_cast<uintptr_t>(row + k0) & 3) == 0)) {
      const uint32_t* r32 = reinterpret_cast<const uint32_t*>(row + k0);
      for (int64_t p = 0; p < kp; ++p) P[p * kBNR + j] = r32[p];
    } else {
      for (int64_t p = 0; p < kp; ++p) P[p * kBNR + j] = pair_at(row, std::min(k, k0 + kc), k0 + 2 * p);
    }
  });
}

static void bf_pack_x(const float* x, int64_t k, int64_t i0, int64_t mc, int64_t k0, int64_t kc, uint32_t* dst) {
  const int64_t kp = (kc + 1) / 2;
  pack_pair_panels<kBMR>(mc, kp, dst, [&](int64_t r, uint32_t* P, int64_t i) {
    const float* src = x + (i0 + r) * k + k0;
    for (int64_t p = 0; p < kp; ++p) {
      const uint32_t lo = bf16_of_bits(f32_bits(src[2 * p]));
      const uint32_t hi = 2 * p + 1 < kc ? bf16_of_bits(f32_bits(src[2 * p + 1])) : 0;
      P[p * kBMR + i] = lo | (hi << 16);
    }
  });
}

static inline void bf_micro(int64_t kp, const uint32_t* Ap, const uint32_t* Bp, float* C, int64_t ldc, bool acc,
                            int64_t mr, int64_t nr) {
  __m512 c[kBMR][kBNV];
  for (int i = 0; i < kBMR; ++i)
    for (int v = 0; v < kBNV; ++v) c[i][v] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kp; ++p) {
    __m512i b[kBNV];
    for (int v = 0; v < kBNV; ++v) b[v] = _mm512_loadu_si512(Bp + p * kBNR + v * 16);
    const uint32_t* ap = Ap + p * kBMR;
    for (int i = 0; i < kBMR; ++i) {
      const __m512i a = _mm512_set1_epi32(static_cast<int>(ap[i]));
      for (int v = 0; v < kBNV; ++v) c[i][v] = dp(c[i][v], a, b[v]);
    }
  }
  if (mr == kBMR && nr == kBNR) {
    for (int i = 0; i < kBMR; ++i)
      for (int v = 0; v < kBNV; ++v) {
        float* cp = C + i * ldc + v * 16;
        _mm512_storeu_ps(cp, acc ? _mm512_add_ps(_mm512_loadu_ps(cp), c[i][v]) : c[i][v]);
      }
    return;
  }
  alignas(64) float t[kBMR * kBNR];
  for (int i = 0; i < kBMR; ++i)
    for (int v = 0; v < kBNV; ++v) _mm512_store_ps(t + i * kBNR + v * 16, c[i][v]);
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nr; ++j) C[i * ldc + j] = acc ? C[i * ldc + j] + t[i * kBNR + j] : t[i * kBNR + j];
}

static void bf_gemm_packed(const GemmArgs& a, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  const uint16_t* w = static_cast<const uint16_t*>(a.w);
  Buf<uint32_t> wb, xb;
  uint32_t* Wp = wb.get(static_cast<size_t>(kBKC / 2 * (kBNC + kBNR)));
  uint32_t* Xp = xb.get(static_cast<size_t>(kBKC / 2 * (kBMC + kBMR)));
  if (!Wp || !Xp) return;
  for (int64_t jc = n0; jc < n1; jc += kBNC) {
    const int64_t nc = std::min<int64_t>(kBNC, n1 - jc);
    for (int64_t pc = 0; pc < a.k; pc += kBKC) {
      const int64_t kc = std::min<int64_t>(kBKC, a.k - pc), kp = (kc + 1) / 2;
      bf_pack_w(w, a.k, jc, nc, pc, kc, Wp);
      for (int64_t ic = m0; ic < m1; ic += kBMC) {
        const int64_t mc = std::min<int64_t>(kBMC, m1 - ic);
        bf_pack_x(a.x, a.k, ic, mc, pc, kc, Xp);
        for (int64_t jr = 0; jr < nc; jr += kBNR)
          for (int64_t ir = 0; ir < mc; ir += kBMR)
            bf_micro(kp, Xp + ir * kp, Wp + jr * kp, a.y + (ic + ir) * a.nOut + jc + jr, a.nOut, pc > 0,
                     std::min<int64_t>(kBMR, mc - ir), std::min<int64_t>(kBNR, nc - jr));
      }
    }
  }
}

// x·Wᵀ in the bf16 numerics for a bf16 W and k > 0 (gemm_bf16_dp sends the other calls to gemm_bf16).
static void gemm_bf16_dp_run(const GemmArgs& a) {
  if (a.m == 0 || a.nOut == 0) return;
  if (a.m < kPackMinRows) {
    Buf<uint16_t> xbuf;
    uint16_t* xb = xbuf.get(static_cast<size_t>(a.m * a.k));
    if (!xb) return;
    round_rows_bf16(a.x, xb, a.m * a.k, 1);
    const int64_t tiles = (a.nOut + 3) / 4;
    parallel_for(tiles, a.threads, [&](int64_t b, int64_t e) {
      bf_dot_cols(xb, static_cast<const uint16_t*>(a.w), a.y, a.m, a.k, a.nOut, b * 4, std::min(a.nOut, e * 4));
    });
    return;
  }
  split_packed(a, kBMR, kBNR, kBMC, [&](int64_t m0, int64_t m1, int64_t n0, int64_t n1) { bf_gemm_packed(a, m0, m1, n0, n1); });
}

// An fp32 W (or k = 0) takes the generic bf16 numerics: rounded x, fp32 W, fp32 products.
static void gemm_bf16_dp(const GemmArgs& a) {
  if (!a.wBf16 || a.k == 0) return gemm_bf16(a);
  FlushDenormals ftz;
  gemm_bf16_dp_run(a);
}

// Grouped experts in the bf16 numerics: (expert, 64-output tile) items with vdpbf16ps dot tiles.
static void gemm_grouped_dp(const GroupedGemmArgs& g) {
  if (!g.bf16 || !g.wBf16 || g.k == 0) {
    gemm_grouped(g);
    return;
  }
  FlushDenormals ftz;
  int64_t total = 0;
  for (int64_t e = 0; e < g.experts; ++e) total = std::max(total, g.offset[e] + g.rows[e]);
  Buf<uint16_t> xbuf;
  uint16_t* xb = xbuf.get(static_cast<size_t>(std::max<int64_t>(1, total * g.k)));
  if (!xb) return;
  round_rows_bf16(g.x, xb, total * g.k, g.threads);
  const uint16_t* w = static_cast<const uint16_t*>(g.w);
  for (int64_t e = 0; e < g.experts; ++e) {
    if (g.rows[e] < kPackMinRows) continue;
    GemmArgs a{};
    a.x = g.x + g.offset[e] * g.k;
    a.w = w + e * g.nOut * g.k;
    a.wBf16 = true;
    a.y = g.y + g.offset[e] * g.nOut;
    a.m = g.rows[e];
    a.k = g.k;
    a.nOut = g.nOut;
    a.threads = g.threads;
    gemm_bf16_dp_run(a);
  }
  constexpr int64_t kTile = 64;
  const int64_t tiles = (g.nOut + kTile - 1) / kTile;
  parallel_for(g.experts * tiles, g.threads, [&](int64_t b, int64_t end) {
    for (int64_t it = b; it < end; ++it) {
      const int64_t e = it / tiles, t = it % tiles;
      if (g.rows[e] == 0 || g.rows[e] >= kPackMinRows) continue;
      bf_dot_cols(xb + g.offset[e] * g.k, w + e * g.nOut * g.k, g.y + g.offset[e] * g.nOut, g.rows[e], g.k, g.nOut,
                  t * kTile, std::min(g.nOut, (t + 1) * kTile));
    }
  });
}

// vdpbf16ps throughput probe: 12 independent accumulator chains per thread; 64 FLOPs per instruction.
// Returns the FLOPs executed (the checksum of the chains is folded in as 0 so nothing is optimised out).
static double bf16_peak(int64_t iters, int threads) {
  // each step: acc += (1, 1) · (1e-7, 1e-7) per lane
  const double s = chain_probe<__m512>(
      iters, threads, [](int i) { return _mm512_set1_ps(static_cast<float>(i) * 1e-3f); },
      [](__m512 acc) { return dp(acc, _mm512_set1_epi32(0x3f803f80), _mm512_set1_epi32(0x33d633d6)); },
      [](__m512 acc) { return _mm512_reduce_add_ps(acc); });
  return static_cast<double>(threads) * static_cast<double>(iters) * kChains * 64 + (s == -1.0 ? 1 : 0);
}

}  // namespace M1K_ISA_NS
}  // namespace m1k
