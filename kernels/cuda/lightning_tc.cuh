// Device-side entry points of the tensor-core lightning kernels (lightning.cu), for the host drivers
// and the benchmarks (bench.cu). All pointers are device pointers; launches go to stream `st`.
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace m1kc {

/**
 * One segment of the prefill: q, k, v bf16 [len, h, d], o fp32 [len, h, d], state fp32 [h, d, d]
 * carried in and out, table [h][kChunk + 1] decay powers, U workspace of state_workspace_floats(len, h, d).
 */
int prefill_segment(const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v, float* o, float* state,
                    const float* table, float* U, int64_t len, int h, int d, cudaStream_t st, char* err, int errlen);

/** n recurrent steps over h heads (sequences stacked as heads); lambda [h] = λ per head. */
int decode_steps(const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v, float* o, float* state,
                 const float* lambda, int64_t n, int h, int d, cudaStream_t st, char* err, int errlen);

}  // namespace m1kc
