// Tile decomposition of the tensor-core lightning prefill (docs/architecture.md §3.3.4), shared by the
// CUDA kernels (lightning_tc.cu) and their host emulation (lightning_tc_emu.cc), so that what the
// emulation checks on the CPU is the decomposition the GPU runs: the same chunk length, the same
// segments, the same decay table, the same rounding points and the same order of the state scan.
//
// Per head j with decay λ = exp(−s_j), the sequence is cut into segments of `seg` tokens (the state is
// carried from one segment to the next on the device) and each segment into chunks of kChunk rows.
// For chunk c with m ≤ kChunk rows, rows r, s ∈ [0, m) and incoming state S_c:
//   phase 1 (grid chunk × head):  U_c = Σ_s bf16(λ^{m−1−s} k_s)ᵀ v_s            fp32 accumulate
//   phase 2 (grid head × tile):   S_{c+1} = λ^m S_c + U_c, in chunk order        fp32, S_c kept for phase 3
//   phase 3 (grid chunk × head):  P[r,s] = bf16(λ^{r−s} · q_r·k_s) for s ≤ r, else 0
//                                 o_r = λ^{r+1} · (q_r · bf16(S_c)) + Σ_s P[r,s] v_s
// Every product is bf16 × bf16 with fp32 accumulation (mma.m16n8k16 on sm_80 and later), taken in
// k-steps of kMmaK in increasing k. q, k, v are bf16 on the device (rounded once on upload).
// The state S stays fp32 throughout; only its use in the output product is rounded, as the official
// decode path does (§3.3.3).
#pragma once
#include <cmath>
#include <cstdint>

#include "../common/bits.h"

namespace m1kc {
namespace tc {

constexpr int kChunk = 64;   // rows of one chunk: 4 warps × 16 rows of an m16n8k16 tile
constexpr int kMmaM = 16, kMmaN = 8, kMmaK = 16;
constexpr int kMaxD = 128;   // head_dim of MiniMax-M1; shared memory is sized for it
constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
/** Decay powers below this are 0, exactly as in the CPU kernels and the TypeScript references. */
constexpr double kDecayFloor = 1.0 / 1152921504606846976.0;  // 2^-60
/**
 * Upper bound on the bf16 q/k/v bytes of one segment held on the device at a time (three tensors,
 * double-buffered when streaming from the host). 1 GiB keeps a 1M-token, 64-head call at 16 segments
 * while leaving most of an 80 GiB card free; the per-chunk states of a segment add seg/64 · h · d² · 4 B.
 */
constexpr int64_t kSegmentInputBytes = int64_t{1} << 30;

/** d rounded up to a whole number of k-steps (zero columns are inert in every product). */
M1K_HD inline int padded_d(int d) { return (d + kMmaK - 1) / kMmaK * kMmaK; }

M1K_HD inline int64_t chunks_of(int64_t n) { return (n + kChunk - 1) / kChunk; }

/** Tokens per segment: a multiple of kChunk, at most n rounded up to one, bounded by the input bytes. */
inline int64_t segment_tokens(int64_t n, int h, int d, int64_t input_bytes = kSegmentInputBytes) {
  const int64_t per_token = int64_t{3} * h * d * 2;
  int64_t seg = input_bytes / (per_token > 0 ? per_token : 1);
  seg = seg / kChunk * kChunk;
  if (seg < kChunk) seg = kChunk;
  const int64_t whole = chunks_of(n) * kChunk;
  return seg < whole ? seg : (whole > 0 ? whole : kChunk);
}

/** exp(−s·p) in double rounded to fp32, or 0 below kDecayFloor (the CPU kernels' decay_pow). */
inline float decay_pow(double s, double p) {
  const double e = std::exp(-s * p);
  return e < kDecayFloor ? 0.f : static_cast<float>(e);
}

/** Per-head decay table λ^p for p = 0 … kChunk, [h][kChunk + 1], computed on the host and uploaded. */
inline void decay_table(const float* slopes, int h, float* table) {
  for (int j = 0; j < h; ++j)
    for (int p = 0; p <= kChunk; ++p) table[j * (kChunk + 1) + p] = decay_pow(slopes[j], p);
}

/** fp32 → bf16 → fp32 with the rounding of __float2bfloat16_rn (common/bits.h). */
using m1k::round_bf16;

/** Bytes of device workspace for one segment: per-chunk states U_c / S_c, fp32 [chunks][h][d][d]. */
inline int64_t state_workspace_floats(int64_t seg, int h, int d) { return chunks_of(seg) * h * int64_t{d} * d; }

}  // namespace tc
}  // namespace m1kc
