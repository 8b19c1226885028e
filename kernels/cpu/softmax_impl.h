// Causal softmax attention with GQA (ARCHITECTURE §3.4), flash-style: per (query head, tile of TQ
// queries) the keys are visited in tiles of TK with an online max/sum, so scores never exceed
// TQ×TK floats. Query i sits at absolute key position nk − n + i and sees keys 0 … that position.
// RoPE is applied by the caller. Threads split (head, query tile) pairs.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include "../common/parallel.h"
#include "gemm_tile.h"
#include "kernels.h"

namespace m1k {
namespace M1K_ISA_NS {

constexpr int64_t kTQ = 64, kTK = 64;

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
    for (int64_t r = 0; r < rows; ++r) {
      float* sr = Sc + r * kTK;
      const int64_t lim = std::min<int64_t>(cols, off + i0 + r - c0 + 1);  // keys visible to this row
      if (lim <= 0) {
        for (int64_t c = 0; c < cols; ++c) sr[c] = 0.f;
        continue;
      }
      float m = mx[r];
      for (int64_t c = 0; c < lim; ++c) {
        sr[c] *= a.scale;
        if (sr[c] > m) m = sr[c];
      }
      const float corr = mx[r] == ninf ? 0.f : std::exp(mx[r] - m);
      float s = 0.f;
      for (int64_t c = 0; c < lim; ++c) {
        sr[c] = std::exp(sr[c] - m);
        s += sr[c];
      }
      for (int64_t c = lim; c < cols; ++c) sr[c] = 0.f;
      sum[r] = sum[r] * corr + s;
      mx[r] = m;
      if (corr != 1.f)
        for (int64_t c = 0; c < d; ++c) acc[r * d + c] *= corr;
    }
    gemm_nn(rows, d, cols, Sc, kTK, 1, V, ldk, acc, d, true);
  }
  float* O = a.o + i0 * ldq + jq * d;
  for (int64_t r = 0; r < rows; ++r) {
    const float inv = 1.f / sum[r];
    for (int64_t c = 0; c < d; ++c) O[r * ldq + c] = acc[r * d + c] * inv;
  }
}

static void softmax_attention(const SoftmaxArgs& a) {
  const int64_t tiles = (a.n + kTQ - 1) / kTQ, total = tiles * a.hq;
  parallel_for(total, a.threads, [&](int64_t b, int64_t e) {
    Buf<float> scratch;
    for (int64_t t = b; t < e; ++t) softmax_tile(a, t / tiles, (t % tiles) * kTQ, scratch);
  });
}

}  // namespace M1K_ISA_NS
}  // namespace m1k
