// Shared helpers for the CUDA library: error propagation without exit(), device buffers freed on
// every path, fp32 → bf16 upload.
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdint>

namespace m1kc {

// Evaluate a CUDA call; on failure write the message and return the error number from the caller.
#define M1K_CUDA_TRY(expr)                                                                         \
  do {                                                                                             \
    cudaError_t e_ = (expr);                                                                       \
    if (e_ != cudaSuccess) {                                                                       \
      if (err && errlen > 0) std::snprintf(err, errlen, "%s: %s", #expr, cudaGetErrorString(e_));  \
      return static_cast<int>(e_);                                                                 \
    }                                                                                              \
  } while (0)

__host__ __device__ inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

template <class T>
struct DevBuf {
  T* p = nullptr;
  DevBuf() = default;
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  ~DevBuf() {
    if (p) cudaFree(p);
  }
  cudaError_t alloc(size_t n) { return cudaMalloc(reinterpret_cast<void**>(&p), n * sizeof(T) + 16); }
};

__global__ void to_bf16_kernel(const float* __restrict__ src, __nv_bfloat16* __restrict__ dst, int64_t n);

// Copy n host floats to the device and round them to bf16 (RNE) into dst (scratch: tmp, n floats).
int upload_bf16(const float* host, float* tmp, __nv_bfloat16* dst, int64_t n, char* err, int errlen);

}  // namespace m1kc
