// Host emulation of the tensor-core lightning prefill (lightning_tc.cu), compiled into the addon with
// the host compiler so that the decomposition the GPU runs is testable on any CPU. It walks the same
// segments and chunks, in the same three phases, with the same decay table, the same bf16 rounding
// points and the same order of the state scan (lightning_tc_plan.h). Each mma.m16n8k16 is emulated as
// an fp32 fused multiply-add chain in increasing k; the hardware may sum a k-step in another order,
// which is the only difference a GPU run can show against this emulation.
#include "lightning_tc_emu.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "lightning_tc_plan.h"

namespace m1kc {
namespace tc {
namespace {

struct Dims {
  int h, d, dp;
  int64_t ld;  // row stride of q, k, v, o: h·d
};

// Phase 1: U = Σ_s bf16(λ^{m−1−s} k_s)ᵀ v_s for one chunk of one head, fp32 [d][d].
void chunk_state(const float* k, const float* v, const float* pw, int m, const Dims& g, int j, float* U) {
  std::vector<float> kd(static_cast<size_t>(kChunk) * g.dp, 0.f), vv(static_cast<size_t>(kChunk) * g.dp, 0.f);
  for (int s = 0; s < m; ++s)
    for (int a = 0; a < g.d; ++a) {
      kd[s * g.dp + a] = round_bf16(pw[m - 1 - s] * k[s * g.ld + int64_t{j} * g.d + a]);
      vv[s * g.dp + a] = v[s * g.ld + int64_t{j} * g.d + a];
    }
  for (int a = 0; a < g.d; ++a)
    for (int e = 0; e < g.d; ++e) {
      float acc = 0.f;
      for (int s = 0; s < kChunk; ++s) acc = std::fma(kd[s * g.dp + a], vv[s * g.dp + e], acc);
      U[a * g.d + e] = acc;
    }
}

// Phase 3: o for one chunk of one head from its incoming state Sc (fp32, rounded to bf16 for the product).
void chunk_out(const float* q, const float* k, const float* v, const float* pw, const float* Sc, int m, const Dims& g, int j,
               float* o) {
  std::vector<float> P(static_cast<size_t>(kChunk) * kChunk, 0.f), Sb(static_cast<size_t>(g.d) * g.d);
  for (size_t i = 0; i < Sb.size(); ++i) Sb[i] = round_bf16(Sc[i]);
  const int64_t off = int64_t{j} * g.d;
  for (int r = 0; r < m; ++r)
    for (int s = 0; s <= r; ++s) {
      float acc = 0.f;
      for (int a = 0; a < g.d; ++a) acc = std::fma(q[r * g.ld + off + a], k[s * g.ld + off + a], acc);
      P[r * kChunk + s] = round_bf16(acc * pw[r - s]);
    }
  for (int r = 0; r < m; ++r)
    for (int e = 0; e < g.d; ++e) {
      float inter = 0.f, intra = 0.f;
      for (int a = 0; a < g.d; ++a) inter = std::fma(q[r * g.ld + off + a], Sb[a * g.d + e], inter);
      for (int s = 0; s < kChunk; ++s) intra = std::fma(P[r * kChunk + s], s < m ? v[s * g.ld + off + e] : 0.f, intra);
      o[r * g.ld + off + e] = std::fma(pw[r + 1], inter, intra);
    }
}

}  // namespace

int emulate_prefill(const float* q_in, const float* k_in, const float* v_in, float* o, float* state, const float* slopes,
                    int64_t n, int h, int d, int64_t seg, char* err, int errlen) {
  if (d < 1 || d > kMaxD || h < 1 || n < 0) {
    std::snprintf(err, errlen, "unsupported shape: need 1 ≤ d ≤ %d, h ≥ 1 (got d=%d, h=%d)", kMaxD, d, h);
    return 1;
  }
  if (seg <= 0) seg = segment_tokens(n, h, d);
  if (seg % kChunk != 0) {
    std::snprintf(err, errlen, "segment length %lld is not a multiple of %d", static_cast<long long>(seg), kChunk);
    return 1;
  }
  const Dims g{h, d, padded_d(d), int64_t{h} * d};
  // The device holds q, k, v as bf16: round once, as the upload does.
  const int64_t nhd = n * g.ld;
  std::vector<float> q(static_cast<size_t>(nhd)), k(static_cast<size_t>(nhd)), v(static_cast<size_t>(nhd));
  for (int64_t i = 0; i < nhd; ++i) q[i] = round_bf16(q_in[i]), k[i] = round_bf16(k_in[i]), v[i] = round_bf16(v_in[i]);
  std::vector<float> table(static_cast<size_t>(h) * (kChunk + 1));
  decay_table(slopes, h, table.data());
  const int64_t dd = int64_t{d} * d;
  for (int64_t t0 = 0; t0 < n; t0 += seg) {
    const int64_t len = std::min(seg, n - t0), chunks = chunks_of(len);
    std::vector<float> U(static_cast<size_t>(chunks * h * dd));  // per-chunk increments, then incoming states
    for (int64_t c = 0; c < chunks; ++c) {  // phase 1
      const int m = static_cast<int>(std::min<int64_t>(kChunk, len - c * kChunk));
      const int64_t row = t0 + c * kChunk;
      for (int j = 0; j < h; ++j)
        chunk_state(&k[row * g.ld], &v[row * g.ld], &table[j * (kChunk + 1)], m, g, j, &U[(c * h + j) * dd]);
    }
    for (int j = 0; j < h; ++j)  // phase 2: the scan, chunk after chunk
      for (int64_t i = 0; i < dd; ++i) {
        float S = state[j * dd + i];
        for (int64_t c = 0; c < chunks; ++c) {
          const int m = static_cast<int>(std::min<int64_t>(kChunk, len - c * kChunk));
          float& u = U[(c * h + j) * dd + i];
          const float inc = u;
          u = S;
          S = std::fma(table[j * (kChunk + 1) + m], S, inc);
        }
        state[j * dd + i] = S;
      }
    for (int64_t c = 0; c < chunks; ++c) {  // phase 3
      const int m = static_cast<int>(std::min<int64_t>(kChunk, len - c * kChunk));
      const int64_t row = t0 + c * kChunk;
      for (int j = 0; j < h; ++j)
        chunk_out(&q[row * g.ld], &k[row * g.ld], &v[row * g.ld], &table[j * (kChunk + 1)], &U[(c * h + j) * dd], m, g, j,
                  &o[row * g.ld]);
    }
  }
  return 0;
}

}  // namespace tc
}  // namespace m1kc
