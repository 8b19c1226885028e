// y[m, nOut] = x[m, k] · W[nOut, k]ᵀ with fp32 accumulation; W is bf16 (widened on load, exact) or fp32.
//
// Two strategies, chosen by the number of activation rows m:
// - few rows (m < kPackMinRows, decode and routed experts): dot-product tiles of 4 x-rows × 4 W-rows
//   straight from W (both operands contiguous along k); W is read once, so this is bandwidth-bound;
// - many rows: packed and cache-blocked. For each KC-slice of k and each NC-block of outputs, W is
//   packed (transposed, widened) into KC×NR micro-panels that stay in L1, x into MR×KC panels held
//   in L2, and an MR×NR register tile accumulates KC rank-1 updates (broadcast x, FMA against NR/VW
//   vectors of packed W). Threads split the outputs (or the rows when there are few outputs).
// gemm_bf16 (the bf16 numerics: x rounded to bf16, W bf16, products exact in fp32, fp32 sums) is the
// same code on a bf16-rounded copy of x here; levels with vdpbf16ps override it (gemm_bf16_impl.h).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include "../common/parallel.h"
#include "kernels.h"
#include "vec.h"

namespace m1k {
namespace M1K_ISA_NS {

static inline float w_at(const GemmArgs& a, int64_t n, int64_t k) {
  if (a.wBf16) {
    uint32_t u = static_cast<uint32_t>(static_cast<const uint16_t*>(a.w)[n * a.k + k]) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  return static_cast<const float*>(a.w)[n * a.k + k];
}

static inline vf w_vec(const GemmArgs& a, int64_t n, int64_t k) {
  return a.wBf16 ? vload_bf16(static_cast<const uint16_t*>(a.w) + n * a.k + k)
                 : vload(static_cast<const float*>(a.w) + n * a.k + k);
}

// ---- few rows: dot-product tiles -------------------------------------------------------------------

template <int MX, int NW>
static inline void dot_tile(const GemmArgs& a, int64_t i0, int64_t n0) {
  vf acc[MX][NW];
  for (int i = 0; i < MX; ++i)
    for (int w = 0; w < NW; ++w) acc[i][w] = vzero();
  int64_t kk = 0;
  for (; kk + VW <= a.k; kk += VW) {
    vf wv[NW];
    for (int w = 0; w < NW; ++w) wv[w] = w_vec(a, n0 + w, kk);
    for (int i = 0; i < MX; ++i) {
      vf xv = vload(a.x + (i0 + i) * a.k + kk);
      for (int w = 0; w < NW; ++w) acc[i][w] = vfma(xv, wv[w], acc[i][w]);
    }
  }
  for (int i = 0; i < MX; ++i) {
    for (int w = 0; w < NW; ++w) {
      float s = vsum(acc[i][w]);
      for (int64_t k = kk; k < a.k; ++k) s += a.x[(i0 + i) * a.k + k] * w_at(a, n0 + w, k);
      a.y[(i0 + i) * a.nOut + n0 + w] = s;
    }
  }
}

template <int NW>
static inline void rows_tile(const GemmArgs& a, int64_t n0) {
  int64_t i = 0;
  for (; i + 4 <= a.m; i += 4) dot_tile<4, NW>(a, i, n0);
  for (; i < a.m; ++i) dot_tile<1, NW>(a, i, n0);
}

// Output columns [n0, n1) of every row, W streamed once.
static void gemm_dot_cols(const GemmArgs& a, int64_t n0, int64_t n1) {
  int64_t n = n0;
  for (; n + 4 <= n1; n += 4) rows_tile<4>(a, n);
  for (; n < n1; ++n) rows_tile<1>(a, n);
}

// ---- many rows: packed, cache-blocked ---------------------------------------------------------------

#if defined(M1K_ISA_AVX512)
constexpr int kGMR = 12, kGNV = 2;  // 24 accumulators + 2 W vectors of 32 zmm
#elif defined(M1K_ISA_AVX2)
constexpr int kGMR = 6, kGNV = 2;   // 12 accumulators + 2 W vectors of 16 ymm
#else
constexpr int kGMR = 4, kGNV = 4;
#endif
constexpr int kGNR = kGNV * VW;
constexpr int64_t kGKC = 256;       // KC·NR·4 B of packed W per micro-panel (32 KiB at NR 32): L1
constexpr int64_t kGMC = 16 * kGMR;  // MC·KC·4 B of packed x (192 KiB at MR 12): L2
constexpr int64_t kGNC = 64 * kGNR;  // KC·NC·4 B of packed W per block (2 MiB at NR 32): L2/L3
constexpr int64_t kPackMinRows = 16;

// W rows [n0, n0 + nc) × k [k0, k0 + kc) → ceil(nc/NR) panels of kc×NR (zero padded).
static void pack_w(const GemmArgs& a, int64_t n0, int64_t nc, int64_t k0, int64_t kc, float* dst) {
  for (int64_t jp = 0; jp < nc; jp += kGNR) {
    float* P = dst + jp * kc;
    const int64_t w = std::min<int64_t>(kGNR, nc - jp);
    for (int64_t j = 0; j < w; ++j) {
      const int64_t n = n0 + jp + j;
      if (a.wBf16) {
        const uint16_t* src = static_cast<const uint16_t*>(a.w) + n * a.k + k0;
        for (int64_t p = 0; p < kc; ++p) {
          const uint32_t u = static_cast<uint32_t>(src[p]) << 16;
          std::memcpy(P + p * kGNR + j, &u, 4);
        }
      } else {
        const float* src = static_cast<const float*>(a.w) + n * a.k + k0;
        for (int64_t p = 0; p < kc; ++p) P[p * kGNR + j] = src[p];
      }
    }
    for (int64_t j = w; j < kGNR; ++j)
      for (int64_t p = 0; p < kc; ++p) P[p * kGNR + j] = 0.f;
  }
}

// x rows [i0, i0 + mc) × k [k0, k0 + kc) → ceil(mc/MR) panels of kc×MR (zero padded).
static void pack_x(const GemmArgs& a, int64_t i0, int64_t mc, int64_t k0, int64_t kc, float* dst) {
  for (int64_t ip = 0; ip < mc; ip += kGMR) {
    float* P = dst + ip * kc;
    const int64_t h = std::min<int64_t>(kGMR, mc - ip);
    for (int64_t i = 0; i < h; ++i) {
      const float* src = a.x + (i0 + ip + i) * a.k + k0;
      for (int64_t p = 0; p < kc; ++p) P[p * kGMR + i] = src[p];
    }
    for (int64_t i = h; i < kGMR; ++i)
      for (int64_t p = 0; p < kc; ++p) P[p * kGMR + i] = 0.f;
  }
}

// C[MR, NR] (+)= Ap[kc, MR]ᵀ-panel · Bp[kc, NR]; a partial tile (mr × nr) goes through a local tile.
static inline void micro(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, bool acc, int64_t mr,
                         int64_t nr) {
  vf c[kGMR][kGNV];
  for (int i = 0; i < kGMR; ++i)
    for (int v = 0; v < kGNV; ++v) c[i][v] = vzero();
  for (int64_t p = 0; p < kc; ++p) {
    vf b[kGNV];
    for (int v = 0; v < kGNV; ++v) b[v] = vload(Bp + p * kGNR + v * VW);
    const float* ap = Ap + p * kGMR;
    for (int i = 0; i < kGMR; ++i) {
      const vf x = vset1(ap[i]);
      for (int v = 0; v < kGNV; ++v) c[i][v] = vfma(x, b[v], c[i][v]);
    }
  }
  if (mr == kGMR && nr == kGNR) {
    for (int i = 0; i < kGMR; ++i)
      for (int v = 0; v < kGNV; ++v) {
        float* cp = C + i * ldc + v * VW;
        vstore(cp, acc ? vfma(vset1(1.f), vload(cp), c[i][v]) : c[i][v]);
      }
    return;
  }
  alignas(64) float t[kGMR * kGNR];
  for (int i = 0; i < kGMR; ++i)
    for (int v = 0; v < kGNV; ++v) vstore(t + i * kGNR + v * VW, c[i][v]);
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nr; ++j) C[i * ldc + j] = acc ? C[i * ldc + j] + t[i * kGNR + j] : t[i * kGNR + j];
}

// Rows [m0, m1) × outputs [n0, n1), packed.
static void gemm_packed(const GemmArgs& a, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  Buf<float> wb, xb;
  float* Wp = wb.get(static_cast<size_t>(kGKC * (kGNC + kGNR)));
  float* Xp = xb.get(static_cast<size_t>(kGKC * (kGMC + kGMR)));
  if (!Wp || !Xp) return;
  for (int64_t jc = n0; jc < n1; jc += kGNC) {
    const int64_t nc = std::min<int64_t>(kGNC, n1 - jc);
    for (int64_t pc = 0; pc < a.k; pc += kGKC) {
      const int64_t kc = std::min<int64_t>(kGKC, a.k - pc);
      pack_w(a, jc, nc, pc, kc, Wp);
      for (int64_t ic = m0; ic < m1; ic += kGMC) {
        const int64_t mc = std::min<int64_t>(kGMC, m1 - ic);
        pack_x(a, ic, mc, pc, kc, Xp);
        for (int64_t jr = 0; jr < nc; jr += kGNR)
          for (int64_t ir = 0; ir < mc; ir += kGMR)
            micro(kc, Xp + ir * kc, Wp + jr * kc, a.y + (ic + ir) * a.nOut + jc + jr, a.nOut, pc > 0,
                  std::min<int64_t>(kGMR, mc - ir), std::min<int64_t>(kGNR, nc - jr));
      }
    }
  }
}

// Splits a packed GEMM over the threads: by NR-wide output panels when there are enough of them
// (each thread packs its own W once), else by MR-row groups (each thread packs all of W).
// block(m0, m1, n0, n1) computes that part of y.
template <class Block>
static void split_packed(const GemmArgs& a, int64_t MR, int64_t NR, int64_t MC, Block&& block) {
  const int64_t panels = (a.nOut + NR - 1) / NR;
  if (panels >= 4 * a.threads || a.m < 2 * MC) {
    parallel_for(panels, a.threads, [&](int64_t b, int64_t e) { block(0, a.m, b * NR, std::min(a.nOut, e * NR)); });
  } else {
    const int64_t rb = (a.m + MR - 1) / MR;
    parallel_for(rb, a.threads, [&](int64_t b, int64_t e) { block(b * MR, std::min(a.m, e * MR), 0, a.nOut); });
  }
}

static void gemm_run(const GemmArgs& a) {
  if (a.m == 0 || a.nOut == 0) return;
  if (a.k == 0) {
    for (int64_t i = 0; i < a.m * a.nOut; ++i) a.y[i] = 0.f;
    return;
  }
  if (a.m < kPackMinRows) {
    const int64_t tiles = (a.nOut + 3) / 4;
    parallel_for(tiles, a.threads, [&](int64_t b, int64_t e) { gemm_dot_cols(a, b * 4, std::min(a.nOut, e * 4)); });
    return;
  }
  split_packed(a, kGMR, kGNR, kGMC, [&](int64_t m0, int64_t m1, int64_t n0, int64_t n1) { gemm_packed(a, m0, m1, n0, n1); });
}

static void gemm(const GemmArgs& a) {
  FlushDenormals ftz;
  gemm_run(a);
}

// Generic bf16 numerics: the fp32 kernel on a bf16-rounded copy of x (W bf16 or fp32).
static void gemm_bf16(const GemmArgs& a) {
  FlushDenormals ftz;
  Buf<float> xr;
  float* x = xr.get(static_cast<size_t>(std::max<int64_t>(1, a.m * a.k)));
  if (!x) return;
  parallel_for((a.m * a.k + 65535) / 65536, a.threads, [&](int64_t b, int64_t e) {
    for (int64_t i = b * 65536, i1 = std::min(a.m * a.k, e * 65536); i < i1; ++i) x[i] = round_bf16(a.x[i]);
  });
  GemmArgs r = a;
  r.x = x;
  gemm_run(r);
}

// Experts with few rows each: (expert, 64-output tile) work items spread over the threads, each W_e
// streamed once; an expert with many rows runs the packed path with every thread.
static void gemm_grouped(const GroupedGemmArgs& g) {
  FlushDenormals ftz;
  Buf<float> xr;
  const float* x = g.x;
  int64_t total = 0;
  for (int64_t e = 0; e < g.experts; ++e) total = std::max(total, g.offset[e] + g.rows[e]);
  if (g.bf16) {
    float* r = xr.get(static_cast<size_t>(std::max<int64_t>(1, total * g.k)));
    if (!r) return;
    parallel_for((total * g.k + 65535) / 65536, g.threads, [&](int64_t b, int64_t e) {
      for (int64_t i = b * 65536, i1 = std::min(total * g.k, e * 65536); i < i1; ++i) r[i] = round_bf16(g.x[i]);
    });
    x = r;
  }
  const size_t wsize = g.wBf16 ? 2 : 4;
  auto expert = [&](int64_t e) {
    GemmArgs a{};
    a.x = x + g.offset[e] * g.k;
    a.w = static_cast<const char*>(g.w) + static_cast<size_t>(e * g.nOut * g.k) * wsize;
    a.wBf16 = g.wBf16;
    a.y = g.y + g.offset[e] * g.nOut;
    a.m = g.rows[e];
    a.k = g.k;
    a.nOut = g.nOut;
    a.threads = g.threads;
    return a;
  };
  constexpr int64_t kTile = 64;
  const int64_t tiles = (g.nOut + kTile - 1) / kTile;
  for (int64_t e = 0; e < g.experts; ++e)
    if (g.rows[e] >= kPackMinRows) gemm_run(expert(e));
  parallel_for(g.experts * tiles, g.threads, [&](int64_t b, int64_t end) {
    for (int64_t it = b; it < end; ++it) {
      const int64_t e = it / tiles, t = it % tiles;
      if (g.rows[e] == 0 || g.rows[e] >= kPackMinRows) continue;
      const GemmArgs a = expert(e);
      if (g.k == 0) {
        for (int64_t i = 0; i < a.m; ++i)
          for (int64_t n = t * kTile; n < std::min(g.nOut, (t + 1) * kTile); ++n) a.y[i * g.nOut + n] = 0.f;
        continue;
      }
      gemm_dot_cols(a, t * kTile, std::min(g.nOut, (t + 1) * kTile));
    }
  });
}

}  // namespace M1K_ISA_NS
}  // namespace m1k
