// Lightning attention on CUDA (docs/architecture.md §3.3): bf16 q/k/v, fp32 state and accumulation.
//   prefill: one CTA per head walks the sequence in 64-row tiles (the block form of §3.3.4 with
//            B = 64; any B gives the same result up to rounding). The fp32 state S [d, d] and the
//            bf16 Q/K/V tiles live in shared memory (d = 128: 64 KiB + 48 KiB + 16 KiB scores).
//   decode:  one CTA per head, one thread per output column, S kept in shared memory across steps.
// Host entry points copy fp32 inputs in, round them to bf16 on the device and copy o/state back.
#include "api.h"
#include "common.cuh"

#include <cmath>

namespace m1kc {

constexpr int kCT = 64;      // rows per tile
constexpr int kThreads = 256;

__global__ void prefill_kernel(const __nv_bfloat16* __restrict__ q, const __nv_bfloat16* __restrict__ k,
                               const __nv_bfloat16* __restrict__ v, float* __restrict__ o, float* __restrict__ state,
                               const float* __restrict__ slopes, int64_t n, int h, int d) {
  extern __shared__ float sm[];
  const int j = blockIdx.x;
  float* S = sm;                                   // [d, d]
  float* P = S + d * d;                            // [CT, CT]
  float* pw = P + kCT * kCT;                       // λ^p, p = 0 … CT
  __nv_bfloat16* Qs = reinterpret_cast<__nv_bfloat16*>(pw + kCT + 1);  // [CT, d]
  __nv_bfloat16* Ks = Qs + kCT * d;
  __nv_bfloat16* Vs = Ks + kCT * d;
  const int64_t ld = static_cast<int64_t>(h) * d;
  float* Sg = state + static_cast<int64_t>(j) * d * d;
  for (int i = threadIdx.x; i < d * d; i += blockDim.x) S[i] = Sg[i];
  for (int p = threadIdx.x; p <= kCT; p += blockDim.x) pw[p] = static_cast<float>(exp(-static_cast<double>(slopes[j]) * p));
  __syncthreads();
  for (int64_t t0 = 0; t0 < n; t0 += kCT) {
    const int m = static_cast<int>(imin(kCT, n - t0));
    for (int i = threadIdx.x; i < kCT * d; i += blockDim.x) {
      const int r = i / d, e = i % d;
      const bool in = r < m;
      const int64_t g = (t0 + r) * ld + static_cast<int64_t>(j) * d + e;
      Qs[i] = in ? q[g] : __float2bfloat16(0.f);
      Ks[i] = in ? k[g] : __float2bfloat16(0.f);
      Vs[i] = in ? v[g] : __float2bfloat16(0.f);
    }
    __syncthreads();
    for (int i = threadIdx.x; i < kCT * kCT; i += blockDim.x) {  // masked, decayed scores
      const int r = i / kCT, c = i % kCT;
      float acc = 0.f;
      if (c <= r && r < m) {
        for (int e = 0; e < d; ++e) acc += __bfloat162float(Qs[r * d + e]) * __bfloat162float(Ks[c * d + e]);
        acc *= pw[r - c];
      }
      P[i] = acc;
    }
    __syncthreads();
    for (int i = threadIdx.x; i < m * d; i += blockDim.x) {  // O = λ^{r+1} q·S + P·V
      const int r = i / d, e = i % d;
      float inter = 0.f, intra = 0.f;
      for (int a = 0; a < d; ++a) inter += __bfloat162float(Qs[r * d + a]) * S[a * d + e];
      for (int c = 0; c <= r; ++c) intra += P[r * kCT + c] * __bfloat162float(Vs[c * d + e]);
      o[(t0 + r) * ld + static_cast<int64_t>(j) * d + e] = pw[r + 1] * inter + intra;
    }
    __syncthreads();
    for (int i = threadIdx.x; i < d * d; i += blockDim.x) {  // S = λ^m S + (Λk ⊙ K)ᵀ V
      const int a = i / d, e = i % d;
      float acc = pw[m] * S[i];
      for (int c = 0; c < m; ++c) acc += pw[m - 1 - c] * __bfloat162float(Ks[c * d + a]) * __bfloat162float(Vs[c * d + e]);
      S[i] = acc;
    }
    __syncthreads();
  }
  for (int i = threadIdx.x; i < d * d; i += blockDim.x) Sg[i] = S[i];
}

__global__ void decode_kernel(const __nv_bfloat16* __restrict__ q, const __nv_bfloat16* __restrict__ k,
                              const __nv_bfloat16* __restrict__ v, float* __restrict__ o, float* __restrict__ state,
                              const float* __restrict__ slopes, int64_t n, int h, int d) {
  extern __shared__ float S[];  // [d, d]
  const int j = blockIdx.x, e = threadIdx.x;
  const int64_t ld = static_cast<int64_t>(h) * d;
  float* Sg = state + static_cast<int64_t>(j) * d * d;
  for (int i = threadIdx.x; i < d * d; i += blockDim.x) S[i] = Sg[i];
  __syncthreads();
  const float lam = static_cast<float>(exp(-static_cast<double>(slopes[j])));
  if (e < d) {
    for (int64_t t = 0; t < n; ++t) {
      const int64_t b = t * ld + static_cast<int64_t>(j) * d;
      const float ve = __bfloat162float(v[b + e]);
      float acc = 0.f;
      for (int a = 0; a < d; ++a) {  // thread e owns column e of S: no races
        const float s = lam * S[a * d + e] + __bfloat162float(k[b + a]) * ve;
        S[a * d + e] = s;
        acc += __bfloat162float(q[b + a]) * s;
      }
      o[b + e] = acc;
    }
  }
  __syncthreads();
  for (int i = threadIdx.x; i < d * d; i += blockDim.x) Sg[i] = S[i];
}

static int run(bool decode, const float* q, const float* k, const float* v, float* o, float* state, const float* slopes,
               int64_t n, int h, int d, char* err, int errlen) {
  if (d < 1 || d > 128 || h < 1 || n < 0) {
    std::snprintf(err, errlen, "unsupported shape: need 1 ≤ d ≤ 128, h ≥ 1 (got d=%d, h=%d)", d, h);
    return 1;
  }
  const int64_t nhd = n * h * d, hdd = static_cast<int64_t>(h) * d * d;
  DevBuf<float> tmp, dO, dS, dSl;
  DevBuf<__nv_bfloat16> dQ, dK, dV;
  M1K_CUDA_TRY(tmp.alloc(nhd));
  M1K_CUDA_TRY(dQ.alloc(nhd));
  M1K_CUDA_TRY(dK.alloc(nhd));
  M1K_CUDA_TRY(dV.alloc(nhd));
  M1K_CUDA_TRY(dO.alloc(nhd));
  M1K_CUDA_TRY(dS.alloc(hdd));
  M1K_CUDA_TRY(dSl.alloc(h));
  if (int rc = upload_bf16(q, tmp.p, dQ.p, nhd, err, errlen)) return rc;
  if (int rc = upload_bf16(k, tmp.p, dK.p, nhd, err, errlen)) return rc;
  if (int rc = upload_bf16(v, tmp.p, dV.p, nhd, err, errlen)) return rc;
  M1K_CUDA_TRY(cudaMemcpy(dS.p, state, hdd * sizeof(float), cudaMemcpyHostToDevice));
  M1K_CUDA_TRY(cudaMemcpy(dSl.p, slopes, h * sizeof(float), cudaMemcpyHostToDevice));
  if (decode) {
    const size_t shm = static_cast<size_t>(d) * d * sizeof(float);
    M1K_CUDA_TRY(cudaFuncSetAttribute(decode_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shm)));
    decode_kernel<<<h, 128, shm>>>(dQ.p, dK.p, dV.p, dO.p, dS.p, dSl.p, n, h, d);
  } else {
    const size_t shm = (static_cast<size_t>(d) * d + kCT * kCT + kCT + 1) * sizeof(float) + 3 * static_cast<size_t>(kCT) * d * 2 + 16;
    M1K_CUDA_TRY(cudaFuncSetAttribute(prefill_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shm)));
    prefill_kernel<<<h, kThreads, shm>>>(dQ.p, dK.p, dV.p, dO.p, dS.p, dSl.p, n, h, d);
  }
  M1K_CUDA_TRY(cudaGetLastError());
  M1K_CUDA_TRY(cudaDeviceSynchronize());
  M1K_CUDA_TRY(cudaMemcpy(o, dO.p, nhd * sizeof(float), cudaMemcpyDeviceToHost));
  M1K_CUDA_TRY(cudaMemcpy(state, dS.p, hdd * sizeof(float), cudaMemcpyDeviceToHost));
  return 0;
}

}  // namespace m1kc

extern "C" {

__attribute__((visibility("default"))) int m1k_cuda_lightning_prefill(const float* q, const float* k, const float* v, float* o,
                                                                      float* state, const float* slopes, int64_t n, int h, int d,
                                                                      int block, char* err, int errlen) {
  (void)block;  // any block length gives the same result; the kernel tiles by 64 rows
  return m1kc::run(false, q, k, v, o, state, slopes, n, h, d, err, errlen);
}

__attribute__((visibility("default"))) int m1k_cuda_lightning_decode(const float* q, const float* k, const float* v, float* o,
                                                                     float* state, const float* slopes, int64_t n, int h, int d,
                                                                     char* err, int errlen) {
  return m1kc::run(true, q, k, v, o, state, slopes, n, h, d, err, errlen);
}

}  // extern "C"
