// Lightning attention on CUDA tensor cores (docs/architecture.md §3.3), sm_80 and later.
//   prefill: the chunked form of lightning_tc_plan.h in three launches per segment, parallel over
//            (chunk, head): per-chunk state increments on mma.m16n8k16 (bf16 in, fp32 accumulate), a
//            scan of the chunk states over the chunks (fp32), then the intra-chunk (QKᵀ ∘ decay)·V and
//            inter-chunk Q·S terms on mma. Segments of the sequence are streamed with the state carried
//            on the device; host inputs go through pinned staging buffers on a copy stream, overlapped
//            with the compute of the previous segment.
//   decode:  batched over heads (and sequences stacked as heads): one warp per (head, 32 columns of S),
//            S read and written once per token in fp32 — bandwidth-bound.
// lightning_tc_emu.cc runs the same decomposition on the host for tests on machines without a GPU.
#include <algorithm>
#include <cmath>
#include <vector>

#include "api.h"
#include "common.cuh"
#include "lightning_tc.cuh"
#include "lightning_tc_plan.h"

namespace m1kc {
using namespace tc;

namespace {

constexpr int kLdPad = 8;  // bf16 elements of padding per shared row: rows shift by 4 banks

__device__ __forceinline__ uint32_t word(const __nv_bfloat16* base, int row, int ld, int col) {
  return *reinterpret_cast<const uint32_t*>(base + row * ld + col);
}

// D += A·B for one m16n8k16 tile. A [16 × 16] row-major at (r0, k0) of `a` (leading dim lda);
// B given transposed, Bt [8 × 16] row-major at (n0, k0) of `bt` (B[k][n] = Bt[n][k]).
__device__ __forceinline__ void mma_tile(float c[4], const __nv_bfloat16* a, int lda, int r0, const __nv_bfloat16* bt, int ldb,
                                         int n0, int k0) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const uint32_t a0 = word(a, r0 + g, lda, k0 + 2 * t), a1 = word(a, r0 + g + 8, lda, k0 + 2 * t);
  const uint32_t a2 = word(a, r0 + g, lda, k0 + 2 * t + 8), a3 = word(a, r0 + g + 8, lda, k0 + 2 * t + 8);
  const uint32_t b0 = word(bt, n0 + g, ldb, k0 + 2 * t), b1 = word(bt, n0 + g, ldb, k0 + 2 * t + 8);
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

__device__ __forceinline__ __nv_bfloat16 bzero() { return __float2bfloat16_rn(0.f); }

// Phase 1, grid (chunks, h): U_c = Σ_s bf16(λ^{m−1−s} k_s)ᵀ v_s, fp32 [d][d] per (chunk, head).
__global__ void __launch_bounds__(kThreads) chunk_state_kernel(const __nv_bfloat16* __restrict__ k,
                                                                const __nv_bfloat16* __restrict__ v,
                                                                const float* __restrict__ table, float* __restrict__ U,
                                                                int64_t len, int h, int d) {
  extern __shared__ __align__(16) unsigned char smem[];
  const int dp = padded_d(d), ldc = kChunk + kLdPad;
  __nv_bfloat16* Kdt = reinterpret_cast<__nv_bfloat16*>(smem);  // [dp][ldc]: (a, s) decayed, transposed
  __nv_bfloat16* Vt = Kdt + dp * ldc;                             // [dp][ldc]: (e, s)
  const int64_t c = blockIdx.x;
  const int j = blockIdx.y;
  const int m = static_cast<int>(imin(kChunk, len - c * kChunk));
  const float* pw = table + j * (kChunk + 1);
  const int64_t ld = static_cast<int64_t>(h) * d, row0 = c * kChunk;
  for (int i = threadIdx.x; i < kChunk * dp; i += blockDim.x) {
    const int s = i / dp, a = i % dp;
    __nv_bfloat16 kd = bzero(), vv = bzero();
    if (s < m && a < d) {
      const int64_t gi = (row0 + s) * ld + static_cast<int64_t>(j) * d + a;
      kd = __float2bfloat16_rn(pw[m - 1 - s] * __bfloat162float(k[gi]));
      vv = v[gi];
    }
    Kdt[a * ldc + s] = kd;
    Vt[a * ldc + s] = vv;
  }
  __syncthreads();
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  float* Uc = U + (c * h + j) * static_cast<int64_t>(d) * d;
  for (int mt = warp; mt < dp / kMmaM; mt += kWarps)
    for (int nt = 0; nt < dp / kMmaN; ++nt) {
      float acc[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
      for (int ks = 0; ks < kChunk / kMmaK; ++ks) mma_tile(acc, Kdt, ldc, mt * kMmaM, Vt, ldc, nt * kMmaN, ks * kMmaK);
      const int a0 = mt * kMmaM + g, e0 = nt * kMmaN + 2 * t;
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const int a = a0 + (q >> 1) * 8, e = e0 + (q & 1);
        if (a < d && e < d) Uc[a * d + e] = acc[q];
      }
    }
}

// Phase 2, grid (h, ⌈d²/256⌉): in chunk order, U_c ← S_c (the state entering chunk c) and
// S ← λ^{m_c}·S + U_c; the carried state is read from and written back to `state`.
__global__ void scan_kernel(float* __restrict__ U, float* __restrict__ state, const float* __restrict__ table, int64_t len,
                            int h, int d) {
  const int j = blockIdx.x;
  const int64_t dd = static_cast<int64_t>(d) * d, i = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x;
  if (i >= dd) return;
  const int64_t chunks = chunks_of(len);
  const float full = table[j * (kChunk + 1) + kChunk];
  float S = state[j * dd + i];
  for (int64_t c = 0; c < chunks; ++c) {
    const int m = static_cast<int>(imin(kChunk, len - c * kChunk));
    float* u = U + (c * h + j) * dd + i;
    const float inc = *u;
    *u = S;
    S = fmaf(m == kChunk ? full : table[j * (kChunk + 1) + m], S, inc);
  }
  state[j * dd + i] = S;
}

// Phase 3, grid (chunks, h): o_r = λ^{r+1}·(q_r · bf16(S_c)) + Σ_{s≤r} bf16(λ^{r−s} q_r·k_s) v_s.
// Warp w owns rows [16w, 16w + 16) of the chunk; it reads only its own rows of P, so P needs no
// block-wide barrier between the score and output products.
__global__ void __launch_bounds__(kThreads) chunk_out_kernel(const __nv_bfloat16* __restrict__ q,
                                                              const __nv_bfloat16* __restrict__ k,
                                                              const __nv_bfloat16* __restrict__ v,
                                                              const float* __restrict__ Sc, const float* __restrict__ table,
                                                              float* __restrict__ o, int64_t len, int h, int d) {
  extern __shared__ __align__(16) unsigned char smem[];
  const int dp = padded_d(d), ldr = dp + kLdPad, ldc = kChunk + kLdPad;
  __nv_bfloat16* Qs = reinterpret_cast<__nv_bfloat16*>(smem);  // [kChunk][ldr]
  __nv_bfloat16* Ks = Qs + kChunk * ldr;                         // [kChunk][ldr]
  __nv_bfloat16* St = Ks + kChunk * ldr;                         // [dp][ldr]: (e, a) = bf16(S[a][e])
  __nv_bfloat16* Vt = St + dp * ldr;                             // [dp][ldc]: (e, s)
  __nv_bfloat16* Ps = Vt + dp * ldc;                             // [kChunk][ldc]
  const int64_t c = blockIdx.x;
  const int j = blockIdx.y;
  const int m = static_cast<int>(imin(kChunk, len - c * kChunk));
  const float* pw = table + j * (kChunk + 1);
  const int64_t ld = static_cast<int64_t>(h) * d, row0 = c * kChunk;
  const float* S = Sc + (c * h + j) * static_cast<int64_t>(d) * d;
  for (int i = threadIdx.x; i < kChunk * dp; i += blockDim.x) {
    const int r = i / dp, a = i % dp;
    const bool in = r < m && a < d;
    const int64_t gi = (row0 + r) * ld + static_cast<int64_t>(j) * d + a;
    Qs[r * ldr + a] = in ? q[gi] : bzero();
    Ks[r * ldr + a] = in ? k[gi] : bzero();
    Vt[a * ldc + r] = in ? v[gi] : bzero();
  }
  for (int i = threadIdx.x; i < dp * dp; i += blockDim.x) {
    const int a = i / dp, e = i % dp;
    St[e * ldr + a] = (a < d && e < d) ? __float2bfloat16_rn(S[a * d + e]) : bzero();
  }
  __syncthreads();
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int r0 = warp * kMmaM;
  // Scores of rows r0…r0+15 against columns s ≤ r (n-tiles past the diagonal are skipped).
  for (int nt = 0; nt * kMmaN <= r0 + kMmaM - 1; ++nt) {
    float acc[4] = {0.f, 0.f, 0.f, 0.f};
    for (int ks = 0; ks < dp / kMmaK; ++ks) mma_tile(acc, Qs, ldr, r0, Ks, ldr, nt * kMmaN, ks * kMmaK);
#pragma unroll
    for (int qd = 0; qd < 4; ++qd) {
      const int r = r0 + g + (qd >> 1) * 8, s = nt * kMmaN + 2 * t + (qd & 1);
      Ps[r * ldc + s] = (s <= r && r < m) ? __float2bfloat16_rn(acc[qd] * pw[r - s]) : bzero();
    }
  }
  for (int nt = (r0 + kMmaM) / kMmaN; nt < kChunk / kMmaN; ++nt)  // above the diagonal: zeros
#pragma unroll
    for (int qd = 0; qd < 4; ++qd) Ps[(r0 + g + (qd >> 1) * 8) * ldc + nt * kMmaN + 2 * t + (qd & 1)] = bzero();
  __syncwarp();
  // Output columns in groups of 4 n-tiles: inter (k over a) and intra (k over s ≤ r0 + 15).
  for (int n0 = 0; n0 < dp / kMmaN; n0 += 4) {
    float inter[4][4] = {}, intra[4][4] = {};
    for (int ks = 0; ks < dp / kMmaK; ++ks)
#pragma unroll
      for (int u = 0; u < 4; ++u)
        if (n0 + u < dp / kMmaN) mma_tile(inter[u], Qs, ldr, r0, St, ldr, (n0 + u) * kMmaN, ks * kMmaK);
    for (int ks = 0; ks * kMmaK <= r0; ++ks)
#pragma unroll
      for (int u = 0; u < 4; ++u)
        if (n0 + u < dp / kMmaN) mma_tile(intra[u], Ps, ldc, r0, Vt, ldc, (n0 + u) * kMmaN, ks * kMmaK);
#pragma unroll
    for (int u = 0; u < 4; ++u)
#pragma unroll
      for (int qd = 0; qd < 4; ++qd) {
        const int r = r0 + g + (qd >> 1) * 8, e = (n0 + u) * kMmaN + 2 * t + (qd & 1);
        if (r < m && e < d) o[(row0 + r) * ld + static_cast<int64_t>(j) * d + e] = fmaf(pw[r + 1], inter[u][qd], intra[u][qd]);
      }
  }
}

// Decode, grid (h, ⌈d/32⌉), one warp each: thread e updates column e of S token by token
// (S ← λS + kᵀv, o = q·S) with q, k of the token staged in shared memory.
__global__ void decode_kernel(const __nv_bfloat16* __restrict__ q, const __nv_bfloat16* __restrict__ k,
                              const __nv_bfloat16* __restrict__ v, float* __restrict__ o, float* __restrict__ state,
                              const float* __restrict__ lambda, int64_t n, int h, int d) {
  __shared__ float qs[kMaxD], ks[kMaxD];
  const int j = blockIdx.x, e = blockIdx.y * 32 + threadIdx.x;
  const int64_t ld = static_cast<int64_t>(h) * d;
  float* S = state + static_cast<int64_t>(j) * d * d;
  const float lam = lambda[j];
  for (int64_t t = 0; t < n; ++t) {
    const int64_t b = t * ld + static_cast<int64_t>(j) * d;
    __syncwarp();
    for (int a = threadIdx.x; a < d; a += 32) qs[a] = __bfloat162float(q[b + a]), ks[a] = __bfloat162float(k[b + a]);
    __syncwarp();
    if (e < d) {
      const float ve = __bfloat162float(v[b + e]);
      float acc = 0.f;
#pragma unroll 8
      for (int a = 0; a < d; ++a) {
        const float s = fmaf(lam, S[a * d + e], ks[a] * ve);
        S[a * d + e] = s;
        acc = fmaf(qs[a], s, acc);
      }
      o[b + e] = acc;
    }
  }
}

size_t state_smem(int d) { return 2 * static_cast<size_t>(padded_d(d)) * (kChunk + kLdPad) * 2; }
size_t out_smem(int d) {
  const size_t dp = padded_d(d), ldr = dp + kLdPad, ldc = kChunk + kLdPad;
  return (2 * kChunk * ldr + dp * ldr + dp * ldc + kChunk * ldc) * 2;
}

}  // namespace

int prefill_segment(const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v, float* o, float* state,
                    const float* table, float* U, int64_t len, int h, int d, cudaStream_t st, char* err, int errlen) {
  M1K_CUDA_TRY(cudaFuncSetAttribute(chunk_state_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(state_smem(kMaxD))));
  M1K_CUDA_TRY(cudaFuncSetAttribute(chunk_out_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(out_smem(kMaxD))));
  const int64_t chunks = chunks_of(len);
  if (chunks == 0) return 0;
  const dim3 grid(static_cast<unsigned>(chunks), static_cast<unsigned>(h));
  chunk_state_kernel<<<grid, kThreads, state_smem(d), st>>>(k, v, table, U, len, h, d);
  const int64_t dd = static_cast<int64_t>(d) * d;
  scan_kernel<<<dim3(static_cast<unsigned>(h), static_cast<unsigned>((dd + 255) / 256)), 256, 0, st>>>(U, state, table, len, h, d);
  chunk_out_kernel<<<grid, kThreads, out_smem(d), st>>>(q, k, v, U, table, o, len, h, d);
  M1K_CUDA_TRY(cudaGetLastError());
  return 0;
}

int decode_steps(const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v, float* o, float* state,
                 const float* lambda, int64_t n, int h, int d, cudaStream_t st, char* err, int errlen) {
  decode_kernel<<<dim3(static_cast<unsigned>(h), static_cast<unsigned>((d + 31) / 32)), 32, 0, st>>>(q, k, v, o, state, lambda, n, h, d);
  M1K_CUDA_TRY(cudaGetLastError());
  return 0;
}

namespace {

struct Stream {
  cudaStream_t s = nullptr;
  ~Stream() {
    if (s) cudaStreamDestroy(s);
  }
};
struct Event {
  cudaEvent_t e = nullptr;
  ~Event() {
    if (e) cudaEventDestroy(e);
  }
};
struct Pinned {
  float* p = nullptr;
  ~Pinned() {
    if (p) cudaFreeHost(p);
  }
};

/** Bytes of bf16 q/k/v per segment when streaming from the host (double-buffered fp32 staging). */
constexpr int64_t kHostSegmentInputBytes = int64_t{96} << 20;

int check_shape(int64_t n, int h, int d, char* err, int errlen) {
  if (d < 1 || d > kMaxD || h < 1 || n < 0) {
    std::snprintf(err, errlen, "unsupported shape: need 1 ≤ d ≤ %d, h ≥ 1, n ≥ 0 (got n=%lld, h=%d, d=%d)", kMaxD,
                  static_cast<long long>(n), h, d);
    return 1;
  }
  return 0;
}

// Host fp32 arrays in and out; segments double-buffered: while segment i computes on `compute`, the
// inputs of segment i+1 are staged (CPU copy into pinned memory) and uploaded on `copy`, and the
// output of segment i−1 is downloaded.
int prefill_host(const float* q, const float* k, const float* v, float* o, float* state, const float* slopes, int64_t n,
                 int h, int d, char* err, int errlen) {
  if (int rc = check_shape(n, h, d, err, errlen)) return rc;
  const int64_t seg = segment_tokens(n, h, d, kHostSegmentInputBytes), ld = static_cast<int64_t>(h) * d;
  const int64_t segElems = seg * ld, dd = static_cast<int64_t>(d) * d;
  std::vector<float> table(static_cast<size_t>(h) * (kChunk + 1));
  decay_table(slopes, h, table.data());
  DevBuf<float> dTable, dState, dU, dStage[2], dO[2];
  DevBuf<__nv_bfloat16> dIn[2];
  Pinned pin[2], pout[2];
  Stream compute, copy;
  Event ready[2], done[2], fetched[2];
  M1K_CUDA_TRY(cudaStreamCreateWithFlags(&compute.s, cudaStreamNonBlocking));
  M1K_CUDA_TRY(cudaStreamCreateWithFlags(&copy.s, cudaStreamNonBlocking));
  M1K_CUDA_TRY(dTable.alloc(table.size()));
  M1K_CUDA_TRY(dState.alloc(h * dd));
  M1K_CUDA_TRY(dU.alloc(state_workspace_floats(seg, h, d)));
  for (int b = 0; b < 2; ++b) {
    M1K_CUDA_TRY(dStage[b].alloc(3 * segElems));
    M1K_CUDA_TRY(dIn[b].alloc(3 * segElems));
    M1K_CUDA_TRY(dO[b].alloc(segElems));
    M1K_CUDA_TRY(cudaHostAlloc(reinterpret_cast<void**>(&pin[b].p), 3 * segElems * sizeof(float), cudaHostAllocDefault));
    M1K_CUDA_TRY(cudaHostAlloc(reinterpret_cast<void**>(&pout[b].p), segElems * sizeof(float), cudaHostAllocDefault));
    M1K_CUDA_TRY(cudaEventCreateWithFlags(&ready[b].e, cudaEventDisableTiming));
    M1K_CUDA_TRY(cudaEventCreateWithFlags(&done[b].e, cudaEventDisableTiming));
    M1K_CUDA_TRY(cudaEventCreateWithFlags(&fetched[b].e, cudaEventDisableTiming));
  }
  M1K_CUDA_TRY(cudaMemcpy(dTable.p, table.data(), table.size() * sizeof(float), cudaMemcpyHostToDevice));
  M1K_CUDA_TRY(cudaMemcpy(dState.p, state, h * dd * sizeof(float), cudaMemcpyHostToDevice));
  const int64_t segs = n == 0 ? 0 : (n + seg - 1) / seg;
  auto len_of = [&](int64_t i) { return std::min(seg, n - i * seg); };
  auto finish = [&](int64_t i) -> int {  // copy segment i's output to the caller's array
    const int b = static_cast<int>(i & 1);
    M1K_CUDA_TRY(cudaEventSynchronize(fetched[b].e));
    std::copy(pout[b].p, pout[b].p + len_of(i) * ld, o + i * seg * ld);
    return 0;
  };
  for (int64_t i = 0; i < segs; ++i) {
    const int b = static_cast<int>(i & 1);
    const int64_t len = len_of(i), elems = len * ld, t0 = i * seg;
    if (i >= 2) {
      if (int rc = finish(i - 2)) return rc;  // also frees pin[b] and pout[b]: their transfers are done
    }
    std::copy(q + t0 * ld, q + t0 * ld + elems, pin[b].p);
    std::copy(k + t0 * ld, k + t0 * ld + elems, pin[b].p + segElems);
    std::copy(v + t0 * ld, v + t0 * ld + elems, pin[b].p + 2 * segElems);
    M1K_CUDA_TRY(cudaMemcpyAsync(dStage[b].p, pin[b].p, 3 * segElems * sizeof(float), cudaMemcpyHostToDevice, copy.s));
    to_bf16_kernel<<<1024, 256, 0, copy.s>>>(dStage[b].p, dIn[b].p, 3 * segElems);
    M1K_CUDA_TRY(cudaGetLastError());
    M1K_CUDA_TRY(cudaEventRecord(ready[b].e, copy.s));
    M1K_CUDA_TRY(cudaStreamWaitEvent(compute.s, ready[b].e, 0));
    if (int rc = prefill_segment(dIn[b].p, dIn[b].p + segElems, dIn[b].p + 2 * segElems, dO[b].p, dState.p, dTable.p, dU.p, len,
                                 h, d, compute.s, err, errlen))
      return rc;
    M1K_CUDA_TRY(cudaEventRecord(done[b].e, compute.s));
    M1K_CUDA_TRY(cudaStreamWaitEvent(copy.s, done[b].e, 0));
    M1K_CUDA_TRY(cudaMemcpyAsync(pout[b].p, dO[b].p, elems * sizeof(float), cudaMemcpyDeviceToHost, copy.s));
    M1K_CUDA_TRY(cudaEventRecord(fetched[b].e, copy.s));
  }
  for (int64_t i = std::max<int64_t>(0, segs - 2); i < segs; ++i)
    if (int rc = finish(i)) return rc;
  M1K_CUDA_TRY(cudaStreamSynchronize(compute.s));
  M1K_CUDA_TRY(cudaMemcpy(state, dState.p, h * dd * sizeof(float), cudaMemcpyDeviceToHost));
  return 0;
}

int decode_host(const float* q, const float* k, const float* v, float* o, float* state, const float* slopes, int64_t n, int h,
                int d, char* err, int errlen) {
  if (int rc = check_shape(n, h, d, err, errlen)) return rc;
  const int64_t nhd = n * h * d, dd = static_cast<int64_t>(d) * d;
  std::vector<float> lambda(static_cast<size_t>(h));
  for (int j = 0; j < h; ++j) lambda[j] = decay_pow(slopes[j], 1);
  DevBuf<float> tmp, dO, dS, dL;
  DevBuf<__nv_bfloat16> dQ, dK, dV;
  M1K_CUDA_TRY(tmp.alloc(nhd));
  M1K_CUDA_TRY(dQ.alloc(nhd));
  M1K_CUDA_TRY(dK.alloc(nhd));
  M1K_CUDA_TRY(dV.alloc(nhd));
  M1K_CUDA_TRY(dO.alloc(nhd));
  M1K_CUDA_TRY(dS.alloc(h * dd));
  M1K_CUDA_TRY(dL.alloc(h));
  if (int rc = upload_bf16(q, tmp.p, dQ.p, nhd, err, errlen)) return rc;
  if (int rc = upload_bf16(k, tmp.p, dK.p, nhd, err, errlen)) return rc;
  if (int rc = upload_bf16(v, tmp.p, dV.p, nhd, err, errlen)) return rc;
  M1K_CUDA_TRY(cudaMemcpy(dS.p, state, h * dd * sizeof(float), cudaMemcpyHostToDevice));
  M1K_CUDA_TRY(cudaMemcpy(dL.p, lambda.data(), h * sizeof(float), cudaMemcpyHostToDevice));
  if (int rc = decode_steps(dQ.p, dK.p, dV.p, dO.p, dS.p, dL.p, n, h, d, nullptr, err, errlen)) return rc;
  M1K_CUDA_TRY(cudaDeviceSynchronize());
  M1K_CUDA_TRY(cudaMemcpy(o, dO.p, nhd * sizeof(float), cudaMemcpyDeviceToHost));
  M1K_CUDA_TRY(cudaMemcpy(state, dS.p, h * dd * sizeof(float), cudaMemcpyDeviceToHost));
  return 0;
}

}  // namespace
}  // namespace m1kc

extern "C" {

__attribute__((visibility("default"))) int m1k_cuda_lightning_prefill(const float* q, const float* k, const float* v, float* o,
                                                                      float* state, const float* slopes, int64_t n, int h, int d,
                                                                      int block, char* err, int errlen) {
  (void)block;  // the block form is exact for any block length; the kernels use chunks of 64 rows
  return m1kc::prefill_host(q, k, v, o, state, slopes, n, h, d, err, errlen);
}

__attribute__((visibility("default"))) int m1k_cuda_lightning_decode(const float* q, const float* k, const float* v, float* o,
                                                                     float* state, const float* slopes, int64_t n, int h, int d,
                                                                     char* err, int errlen) {
  return m1kc::decode_host(q, k, v, o, state, slopes, n, h, d, err, errlen);
}

}  // extern "C"
