// y[m, nOut] = x[m, k] · W[nOut, k]ᵀ with fp32 accumulation; W is bf16 (widened on load, exact) or
// fp32. Both operands are contiguous along k, so a tile of 4 x-rows × 4 W-rows keeps 16 vector
// accumulators over k and reduces them at the end. Threads split the output columns (W rows).
#pragma once
#include <cstdint>
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

static void gemm(const GemmArgs& a) {
  FlushDenormals ftz;
  const int64_t tiles = (a.nOut + 3) / 4;
  parallel_for(tiles, a.threads, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t n0 = t * 4;
      if (n0 + 4 <= a.nOut) {
        rows_tile<4>(a, n0);
      } else {
        for (int64_t n = n0; n < a.nOut; ++n) rows_tile<1>(a, n);
      }
    }
  });
}

}  // namespace M1K_ISA_NS
}  // namespace m1k
