// Device discovery and shared helpers of libm1kit_cuda.so.
#include "api.h"
#include "common.cuh"

namespace m1kc {

__global__ void to_bf16_kernel(const float* __restrict__ src, __nv_bfloat16* __restrict__ dst, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dst[i] = __float2bfloat16_rn(src[i]);
}

int upload_bf16(const float* host, float* tmp, __nv_bfloat16* dst, int64_t n, char* err, int errlen) {
  if (n == 0) return 0;
  M1K_CUDA_TRY(cudaMemcpy(tmp, host, n * sizeof(float), cudaMemcpyHostToDevice));
  to_bf16_kernel<<<1024, 256>>>(tmp, dst, n);
  M1K_CUDA_TRY(cudaGetLastError());
  return 0;
}

}  // namespace m1kc

extern "C" {

__attribute__((visibility("default"))) int m1k_cuda_abi(void) { return M1K_CUDA_ABI; }

__attribute__((visibility("default"))) int m1k_cuda_device_count(int* count, char* err, int errlen) {
  *count = 0;
  M1K_CUDA_TRY(cudaGetDeviceCount(count));
  return 0;
}

__attribute__((visibility("default"))) int m1k_cuda_device_name(int device, char* name, int len) {
  cudaDeviceProp p;
  if (cudaGetDeviceProperties(&p, device) != cudaSuccess) return 1;
  std::snprintf(name, len, "%s (sm_%d%d, %.0f GiB)", p.name, p.major, p.minor, p.totalGlobalMem / 1073741824.0);
  return 0;
}

}  // extern "C"
