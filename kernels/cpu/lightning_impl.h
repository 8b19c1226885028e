// Lightning attention (decayed linear attention, docs/architecture.md §3.3), fp32 throughout.
//   prefill: block form of §3.3.4 with block B; per block (m ≤ B rows, incoming state S):
//     O  = diag(λ^{r+1}) · (Q·S)                       inter-block term
//     O += ((Q·Kᵀ) ⊙ M) · V,  M[r,c] = λ^{r−c} (c ≤ r)   intra-block term (upper triangle skipped)
//     S  = λ^m · S + (diag(λ^{m−1−c}) · K)ᵀ · V          state carried to the next block
//   decode: per token S = λ·S + kᵀv, o = q·S (inclusive), one pass over S per token.
// Decay powers are exp(−s·p) evaluated in double and rounded to fp32, identical on every ISA; a power
// below kDecayFloor (2^-60, far under fp32 resolution of any sum it joins) is 0, as in the TypeScript
// references (lightning-ref.ts), so steep heads never produce subnormal decay factors.
// Threads split the heads, or (few heads) the blocks: per-block states, a scan, then the inter term.
#pragma once
#include <cmath>
#include <cstdint>
#include "../common/parallel.h"
#include "gemm_impl.h"
#include "gemm_tile.h"
#include "kernels.h"

namespace m1k {
namespace M1K_ISA_NS {

// Scratch of one thread for one head's blocks. Row strides are padded by 16 floats (64 B) so the
// rows of a block never share L1 sets the way 1 KiB power-of-two strides do; Buf is 64-byte aligned.
struct BlockView;
struct BlockScratch;
using IntraFn = void (*)(const BlockView&, BlockScratch&, bool);

struct BlockScratch {
  int64_t B, d, ldP, ldKt, ldKd, ldQ;
  float *P, *Kt, *Kd, *Qs, *pw, *Qb, *Kb, *Vb;
  bool bf16 = false;  // stage q, k, v rounded to bf16 (the bf16 numerics)
  IntraFn intra = nullptr;  // the intra-block term (fp32 FMA, or vdpbf16ps on levels that have it)
  Buf<uint32_t> pairs;      // bf16 pair operands of a vdpbf16ps intra term
  bool init(Buf<float>& buf, int64_t block, int64_t dim, bool round_bf16_inputs) {
    B = block;
    d = dim;
    bf16 = round_bf16_inputs;
    ldP = B + 16;
    ldKt = B + 16;
    ldKd = d + 16;
    ldQ = d + 16;
    P = buf.get(static_cast<size_t>(B * ldP + d * ldKt + B * ldKd + 4 * B * ldQ + B + 17));
    if (!P) return false;
    Kt = P + B * ldP;    // [d, B] Kᵀ of the block
    Kd = Kt + d * ldKt;  // [B, d] decayed K
    Qs = Kd + B * ldKd;  // [B, d] decayed Q
    Qb = Qs + B * ldQ;   // [B, d] the block's q, k, v rows, staged contiguous with padded stride
    Kb = Qb + B * ldQ;
    Vb = Kb + B * ldQ;
    pw = Vb + B * ldQ;   // λ^p, p = 0..B
    return true;
  }
  void powers(double slope) {
    for (int64_t p = 0; p <= B; ++p) pw[p] = decay_pow(slope, static_cast<double>(p));
  }
};

struct BlockView {
  const float *Q, *K, *V;  // staged rows, stride ld
  float* O;                // output rows, stride ldo
  int64_t m, ld, ldo;
};

// The block's q, k, v rows of head j copied (bf16-rounded in the bf16 numerics) into the scratch:
// contiguous, padded stride, hot in L1/L2 for the block's four products.
static inline BlockView block_of(const LightningArgs& a, int64_t j, int64_t t0, BlockScratch& w) {
  const int64_t ld = int64_t{a.h} * a.d, d = a.d, m = std::min<int64_t>(a.block, a.n - t0);
  const float *q = a.q + t0 * ld + j * d, *k = a.k + t0 * ld + j * d, *v = a.v + t0 * ld + j * d;
  for (int64_t r = 0; r < m; ++r) {
    float *qd = w.Qb + r * w.ldQ, *kd = w.Kb + r * w.ldQ, *vd = w.Vb + r * w.ldQ;
    const float *qs = q + r * ld, *ks = k + r * ld, *vs = v + r * ld;
    if (w.bf16) {
      for (int64_t e = 0; e < d; ++e) {
        qd[e] = round_bf16(qs[e]);
        kd[e] = round_bf16(ks[e]);
        vd[e] = round_bf16(vs[e]);
      }
    } else {
      std::memcpy(qd, qs, static_cast<size_t>(d) * 4);
      std::memcpy(kd, ks, static_cast<size_t>(d) * 4);
      std::memcpy(vd, vs, static_cast<size_t>(d) * 4);
    }
  }
  return {w.Qb, w.Kb, w.Vb, a.o + t0 * ld + j * d, m, w.ldQ, ld};
}

// O (+)= ((Q·Kᵀ) ⊙ M) · V over the lower triangle, in row chunks of 64.
static void block_intra(const BlockView& b, BlockScratch& w, bool acc) {
  const int64_t d = w.d, m = b.m;
  for (int64_t c = 0; c < m; ++c)
    for (int64_t e = 0; e < d; ++e) w.Kt[e * w.ldKt + c] = b.K[c * b.ld + e];
  for (int64_t r0 = 0; r0 < m; r0 += 64) {
    const int64_t r1 = std::min<int64_t>(m, r0 + 64), cols = r1;  // keys 0 … r1−1
    gemm_nn(r1 - r0, cols, d, b.Q + r0 * b.ld, b.ld, 1, w.Kt, w.ldKt, w.P + r0 * w.ldP, w.ldP, false);
    for (int64_t r = r0; r < r1; ++r) {
      float* pr = w.P + r * w.ldP;
      for (int64_t c = 0; c <= r; ++c) pr[c] *= w.pw[r - c];
      for (int64_t c = r + 1; c < cols; ++c) pr[c] = 0.f;
    }
    gemm_nn(r1 - r0, d, cols, w.P + r0 * w.ldP, w.ldP, 1, b.V, b.ld, b.O + r0 * b.ldo, b.ldo, acc);
  }
}

// O (+)= diag(λ^{r+1}) · Q · S.
static void block_inter(const BlockView& b, BlockScratch& w, const float* S, bool acc) {
  const int64_t d = w.d;
  for (int64_t r = 0; r < b.m; ++r) {
    const float f = w.pw[r + 1];
    for (int64_t e = 0; e < d; ++e) w.Qs[r * w.ldQ + e] = b.Q[r * b.ld + e] * f;
  }
  gemm_nn(b.m, d, d, w.Qs, w.ldQ, 1, S, d, b.O, b.ldo, acc);
}

// T (+)= (diag(λ^{m−1−c}) · K)ᵀ · V, the block's contribution to the carried state.
static void block_state(const BlockView& b, BlockScratch& w, float* T, bool acc) {
  const int64_t d = w.d;
  for (int64_t c = 0; c < b.m; ++c) {
    const float f = w.pw[b.m - 1 - c];
    for (int64_t e = 0; e < d; ++e) w.Kd[c * w.ldKd + e] = b.K[c * b.ld + e] * f;
  }
  gemm_nn(d, d, b.m, w.Kd, 1, w.ldKd, b.V, b.ld, T, d, acc);
}

// One head, block after block, the state carried in place.
static void lightning_prefill_head(const LightningArgs& a, int64_t j, BlockScratch& w) {
  const int64_t d = a.d;
  w.powers(a.slopes[j]);
  float* S = a.state + j * d * d;
  for (int64_t t0 = 0; t0 < a.n; t0 += a.block) {
    const BlockView b = block_of(a, j, t0, w);
    block_inter(b, w, S, false);
    w.intra(b, w, true);
    const float bd = w.pw[b.m];
    for (int64_t i = 0; i < d * d; ++i) S[i] *= bd;
    block_state(b, w, S, true);
  }
}

// Few heads for many threads: every (head, block) pair is a work item.
//   1. per block, in parallel: O = intra term, T_b = the block's state contribution;
//   2. a short scan per head (split over state elements): T_b ← state entering block b,
//      S ← λ^{m_b} S + T_b;
//   3. per block, in parallel: O += diag(λ^{r+1}) Q · S_in(b).
// Same products as the sequential form; one head keeps every core busy. Needs h·nb·d² floats.
static bool lightning_prefill_blocks(const LightningArgs& a, bool bf16, IntraFn intra) {
  const int64_t d = a.d, B = a.block, nb = (a.n + B - 1) / B, dd = d * d, items = int64_t{a.h} * nb;
  Buf<float> tbuf;
  float* T = tbuf.get(static_cast<size_t>(items * dd));
  if (!T) return false;
  // f(block view, scratch, item) on every (head, block) item, spread over the threads
  auto each_block = [&](auto&& f) {
    parallel_for(items, a.threads, [&](int64_t i0, int64_t i1) {
      Buf<float> sb;
      BlockScratch w;
      if (!w.init(sb, B, d, bf16)) return;
      w.intra = intra;
      int64_t have = -1;
      for (int64_t it = i0; it < i1; ++it) {
        const int64_t j = it / nb, blk = it % nb;
        if (j != have) w.powers(a.slopes[j]), have = j;
        f(block_of(a, j, blk * B, w), w, it);
      }
    });
  };
  each_block([&](const BlockView& b, BlockScratch& w, int64_t it) {
    w.intra(b, w, false);
    block_state(b, w, T + it * dd, false);
  });
  constexpr int64_t kChunk = 1024;
  const int64_t chunks = (dd + kChunk - 1) / kChunk;
  parallel_for(int64_t{a.h} * chunks, a.threads, [&](int64_t i0, int64_t i1) {
    for (int64_t it = i0; it < i1; ++it) {
      const int64_t j = it / chunks, e0 = (it % chunks) * kChunk, e1 = std::min(dd, e0 + kChunk);
      float* S = a.state + j * dd;
      const float full = decay_pow(a.slopes[j], static_cast<double>(B));
      const float last = decay_pow(a.slopes[j], static_cast<double>(a.n - (nb - 1) * B));
      for (int64_t blk = 0; blk < nb; ++blk) {
        float* Tb = T + (j * nb + blk) * dd;
        const float f = blk + 1 < nb ? full : last;
        for (int64_t e = e0; e < e1; ++e) {
          const float in = S[e];
          S[e] = f * in + Tb[e];
          Tb[e] = in;
        }
      }
    }
  });
  each_block([&](const BlockView& b, BlockScratch& w, int64_t it) { block_inter(b, w, T + it * dd, true); });
  return true;
}

// Heads split over threads when there are enough of them (no extra memory); otherwise blocks.
static void lightning_prefill_run(const LightningArgs& a, bool bf16, IntraFn intra = block_intra) {
  FlushDenormals ftz;
  if (a.n == 0) return;
  const bool by_blocks = a.threads > 1 && a.h < 2 * a.threads && a.n > a.block;
  if (by_blocks && lightning_prefill_blocks(a, bf16, intra)) return;
  parallel_for(a.h, a.threads, [&](int64_t j0, int64_t j1) {
    Buf<float> sb;
    BlockScratch w;
    if (!w.init(sb, a.block, a.d, bf16)) return;  // allocation failure: output left untouched
    w.intra = intra;
    for (int64_t j = j0; j < j1; ++j) lightning_prefill_head(a, j, w);
  });
}

static void lightning_prefill(const LightningArgs& a) { lightning_prefill_run(a, false); }

// bf16 numerics of the prefill (generic levels): q, k, v rounded to bf16 as each block is staged,
// then fp32 products, sums and state.
static void lightning_prefill_bf16(const LightningArgs& a) { lightning_prefill_run(a, true); }

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
