// Block FP8 (E4M3FN) quantization on CUDA, same conventions and bit patterns as the CPU kernel and
// src/core/quant/fp8.ts: scaleInv = amax/448 over finite elements (1 for an all-zero block),
// code = e4m3(w / scaleInv) with RNE, saturation to ±448 and NaN → 0x7f | sign.
#include "../common/fp8_e4m3.h"
#include "api.h"
#include "common.cuh"

namespace m1kc {

__global__ void quant_fp8_kernel(const float* __restrict__ w, int64_t rows, int64_t cols, int B, uint8_t* __restrict__ codes,
                                 float* __restrict__ scale_inv) {
  __shared__ float red[256];
  const int64_t nbc = (cols + B - 1) / B;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * B, c0 = static_cast<int64_t>(blockIdx.x) * B;
  const int64_t rn = imin(B, rows - r0), cn = imin(B, cols - c0);
  float m = 0.f;
  for (int64_t i = threadIdx.x; i < rn * cn; i += blockDim.x) {
    const float a = fabsf(w[(r0 + i / cn) * cols + c0 + i % cn]);
    if (a > m && a != INFINITY) m = a;
  }
  red[threadIdx.x] = m;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s && red[threadIdx.x + s] > red[threadIdx.x]) red[threadIdx.x] = red[threadIdx.x + s];
    __syncthreads();
  }
  float sinv = __fdiv_rn(red[0], 448.f);
  sinv = sinv > 0.f ? sinv : 1.f;
  if (threadIdx.x == 0) scale_inv[blockIdx.y * nbc + blockIdx.x] = sinv;
  for (int64_t i = threadIdx.x; i < rn * cn; i += blockDim.x) {
    const int64_t g = (r0 + i / cn) * cols + c0 + i % cn;
    const float x = w[g];
    codes[g] = m1k::fp8_encode(x != x ? x : __fdiv_rn(x, sinv));
  }
}

}  // namespace m1kc

extern "C" __attribute__((visibility("default"))) int m1k_cuda_quant_fp8(const float* w, int64_t rows, int64_t cols, int block,
                                                                        uint8_t* codes, float* scale_inv, char* err, int errlen) {
  using namespace m1kc;
  if (rows == 0 || cols == 0) return 0;
  const int64_t nbr = (rows + block - 1) / block, nbc = (cols + block - 1) / block, n = rows * cols;
  if (nbr > 65535) {
    std::snprintf(err, errlen, "too many row blocks (%lld > 65535)", static_cast<long long>(nbr));
    return 1;
  }
  DevBuf<float> dW, dS;
  DevBuf<uint8_t> dC;
  M1K_CUDA_TRY(dW.alloc(n));
  M1K_CUDA_TRY(dC.alloc(n));
  M1K_CUDA_TRY(dS.alloc(nbr * nbc));
  M1K_CUDA_TRY(cudaMemcpy(dW.p, w, n * sizeof(float), cudaMemcpyHostToDevice));
  quant_fp8_kernel<<<dim3(static_cast<unsigned>(nbc), static_cast<unsigned>(nbr)), 256>>>(dW.p, rows, cols, block, dC.p, dS.p);
  M1K_CUDA_TRY(cudaGetLastError());
  M1K_CUDA_TRY(cudaDeviceSynchronize());
  M1K_CUDA_TRY(cudaMemcpy(codes, dC.p, n, cudaMemcpyDeviceToHost));
  M1K_CUDA_TRY(cudaMemcpy(scale_inv, dS.p, nbr * nbc * sizeof(float), cudaMemcpyDeviceToHost));
  return 0;
}
