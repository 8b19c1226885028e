// Same-run measurements for `bench kernels --device cuda` and `npm run test:cuda` (llm.c style: the
// kernel, its peak and its bandwidth baseline measured in one process):
//   mma peak:  a register-only loop of independent mma.m16n8k16 bf16 → fp32 on every SM (the bound of
//              the tensor-core lightning kernels, which use the same instruction);
//   copy:      device-to-device cudaMemcpy (bytes read + bytes written per second);
//   prefill:   the lightning prefill at context n on device-resident segments (random bf16 q/k/v made
//              on the device; the state is carried from segment to segment as in a long prefill);
//   decode:    one token for h heads per launch (S read and written once), the bytes of the state.
#include <vector>

#include "api.h"
#include "common.cuh"
#include "lightning_tc.cuh"
#include "lightning_tc_plan.h"

namespace m1kc {
namespace {

constexpr int kPeakChains = 8;      // independent accumulators per warp: hides the mma latency
constexpr int kPeakIters = 1 << 14; // mma steps per chain per launch

__global__ void mma_peak_kernel(float* out, int iters) {
  uint32_t a[4], b[2];
  const uint32_t seed = threadIdx.x * 2654435761u + blockIdx.x;
  for (int i = 0; i < 4; ++i) a[i] = (seed ^ (0x3c003c00u + i)) & 0x3f803f80u;  // small bf16 pairs
  for (int i = 0; i < 2; ++i) b[i] = (seed ^ (0x3c003c00u + 7 * i)) & 0x3f803f80u;
  float c[kPeakChains][4] = {};
  for (int it = 0; it < iters; ++it)
#pragma unroll
    for (int ch = 0; ch < kPeakChains; ++ch)
      asm volatile(
          "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
          : "+f"(c[ch][0]), "+f"(c[ch][1]), "+f"(c[ch][2]), "+f"(c[ch][3])
          : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  float s = 0.f;
  for (int ch = 0; ch < kPeakChains; ++ch) s += c[ch][0] + c[ch][1] + c[ch][2] + c[ch][3];
  if (s == 1234.5f) out[0] = s;  // keeps the loop alive; never true for these inputs in practice
}

__global__ void fill_bf16_kernel(__nv_bfloat16* p, int64_t n, uint32_t seed) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    uint32_t x = static_cast<uint32_t>(i) * 2654435761u ^ seed;
    x ^= x >> 15;
    x *= 2246822519u;
    x ^= x >> 13;
    p[i] = __float2bfloat16_rn((static_cast<float>(x >> 8) / 16777216.f - 0.5f) * 0.25f);
  }
}

struct Timer {
  cudaEvent_t a = nullptr, b = nullptr;
  ~Timer() {
    if (a) cudaEventDestroy(a);
    if (b) cudaEventDestroy(b);
  }
};

// Seconds taken on the device by the launches `run` queues on the default stream (run returns 0 or an error).
template <class Run>
int device_seconds(Run&& run, double* seconds, char* err, int errlen) {
  Timer t;
  M1K_CUDA_TRY(cudaEventCreate(&t.a));
  M1K_CUDA_TRY(cudaEventCreate(&t.b));
  M1K_CUDA_TRY(cudaEventRecord(t.a));
  if (int rc = run()) return rc;
  M1K_CUDA_TRY(cudaEventRecord(t.b));
  M1K_CUDA_TRY(cudaEventSynchronize(t.b));
  M1K_CUDA_TRY(cudaGetLastError());
  float ms = 0;
  M1K_CUDA_TRY(cudaEventElapsedTime(&ms, t.a, t.b));
  *seconds = ms * 1e-3;
  return 0;
}

}  // namespace
}  // namespace m1kc

using namespace m1kc;

extern "C" {

__attribute__((visibility("default"))) int m1k_cuda_bench_mma_peak(double* flops_per_s, char* err, int errlen) {
  cudaDeviceProp p;
  M1K_CUDA_TRY(cudaGetDeviceProperties(&p, 0));
  DevBuf<float> out;
  M1K_CUDA_TRY(out.alloc(1));
  const int blocks = p.multiProcessorCount * 4, threads = 256;
  mma_peak_kernel<<<blocks, threads>>>(out.p, 256);  // warm-up (clocks up)
  double s = 0;
  if (int rc = device_seconds([&] { mma_peak_kernel<<<blocks, threads>>>(out.p, kPeakIters); return 0; }, &s, err, errlen)) return rc;
  const double mmas = static_cast<double>(blocks) * (threads / 32) * kPeakIters * kPeakChains;
  *flops_per_s = mmas * 2.0 * tc::kMmaM * tc::kMmaN * tc::kMmaK / s;
  return 0;
}

__attribute__((visibility("default"))) int m1k_cuda_bench_copy(int64_t bytes, int reps, double* seconds, char* err, int errlen) {
  DevBuf<unsigned char> a, b;
  M1K_CUDA_TRY(a.alloc(bytes));
  M1K_CUDA_TRY(b.alloc(bytes));
  M1K_CUDA_TRY(cudaMemset(a.p, 1, bytes));
  M1K_CUDA_TRY(cudaMemcpy(b.p, a.p, bytes, cudaMemcpyDeviceToDevice));  // warm-up
  double s = 0;
  if (int rc = device_seconds([&] {
        for (int r = 0; r < reps; ++r) M1K_CUDA_TRY(cudaMemcpyAsync(b.p, a.p, bytes, cudaMemcpyDeviceToDevice));
        return 0;
      }, &s, err, errlen))
    return rc;
  *seconds = s / reps;
  return 0;
}

__attribute__((visibility("default"))) int m1k_cuda_bench_prefill(int64_t n, int h, int d, double* seconds, char* err, int errlen) {
  if (d < 1 || d > tc::kMaxD || h < 1 || n < 1) {
    std::snprintf(err, errlen, "unsupported shape n=%lld h=%d d=%d", static_cast<long long>(n), h, d);
    return 1;
  }
  const int64_t seg = tc::segment_tokens(n, h, d), segElems = seg * h * d, dd = static_cast<int64_t>(d) * d;
  std::vector<float> slopes(static_cast<size_t>(h)), table(static_cast<size_t>(h) * (tc::kChunk + 1));
  for (int j = 0; j < h; ++j) slopes[j] = static_cast<float>(std::exp2(-8.0 * (j + 1) / h));
  tc::decay_table(slopes.data(), h, table.data());
  DevBuf<__nv_bfloat16> qkv;
  DevBuf<float> o, S, U, dT;
  M1K_CUDA_TRY(qkv.alloc(3 * segElems));
  M1K_CUDA_TRY(o.alloc(segElems));
  M1K_CUDA_TRY(S.alloc(h * dd));
  M1K_CUDA_TRY(U.alloc(tc::state_workspace_floats(seg, h, d)));
  M1K_CUDA_TRY(dT.alloc(table.size()));
  M1K_CUDA_TRY(cudaMemcpy(dT.p, table.data(), table.size() * sizeof(float), cudaMemcpyHostToDevice));
  M1K_CUDA_TRY(cudaMemset(S.p, 0, h * dd * sizeof(float)));
  fill_bf16_kernel<<<1024, 256>>>(qkv.p, 3 * segElems, 12345u);
  M1K_CUDA_TRY(cudaGetLastError());
  const __nv_bfloat16 *q = qkv.p, *k = qkv.p + segElems, *v = qkv.p + 2 * segElems;
  if (int rc = prefill_segment(q, k, v, o.p, S.p, dT.p, U.p, std::min(seg, n), h, d, nullptr, err, errlen)) return rc;  // warm-up
  M1K_CUDA_TRY(cudaMemset(S.p, 0, h * dd * sizeof(float)));
  return device_seconds([&] {
    for (int64_t t0 = 0; t0 < n; t0 += seg)
      if (int rc = prefill_segment(q, k, v, o.p, S.p, dT.p, U.p, std::min(seg, n - t0), h, d, nullptr, err, errlen)) return rc;
    return 0;
  }, seconds, err, errlen);
}

__attribute__((visibility("default"))) int m1k_cuda_bench_decode(int h, int d, int steps, double* seconds, char* err, int errlen) {
  if (d < 1 || d > tc::kMaxD || h < 1 || steps < 1) {
    std::snprintf(err, errlen, "unsupported shape h=%d d=%d steps=%d", h, d, steps);
    return 1;
  }
  const int64_t hd = static_cast<int64_t>(h) * d, dd = static_cast<int64_t>(d) * d;
  DevBuf<__nv_bfloat16> qkv;
  DevBuf<float> o, S, lam;
  M1K_CUDA_TRY(qkv.alloc(3 * hd));
  M1K_CUDA_TRY(o.alloc(hd));
  M1K_CUDA_TRY(S.alloc(h * dd));
  M1K_CUDA_TRY(lam.alloc(h));
  std::vector<float> l(static_cast<size_t>(h), 0.99f);
  M1K_CUDA_TRY(cudaMemcpy(lam.p, l.data(), h * sizeof(float), cudaMemcpyHostToDevice));
  M1K_CUDA_TRY(cudaMemset(S.p, 0, h * dd * sizeof(float)));
  fill_bf16_kernel<<<256, 256>>>(qkv.p, 3 * hd, 777u);
  if (int rc = decode_steps(qkv.p, qkv.p + hd, qkv.p + 2 * hd, o.p, S.p, lam.p, 1, h, d, nullptr, err, errlen)) return rc;
  double s = 0;
  if (int rc = device_seconds([&] {
        for (int i = 0; i < steps; ++i)
          if (int rc2 = decode_steps(qkv.p, qkv.p + hd, qkv.p + 2 * hd, o.p, S.p, lam.p, 1, h, d, nullptr, err, errlen)) return rc2;
        return 0;
      }, &s, err, errlen))
    return rc;
  *seconds = s / steps;
  return 0;
}

}  // extern "C"
