/* C ABI of libm1kit_cuda.so (built by nvcc, loaded with dlopen by the addon only when a CUDA device
 * exists). Every function returns 0 on success, or a nonzero CUDA error number with a message in
 * err[0..errlen). Host pointers in and out; the library manages device memory per call. */
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define M1K_CUDA_ABI 2

int m1k_cuda_abi(void);
int m1k_cuda_device_count(int* count, char* err, int errlen);
int m1k_cuda_device_name(int device, char* name, int len);

/* Lightning prefill on tensor cores (chunked form of lightning_tc_plan.h): q, k, v [n, h, d] fp32 on
 * the host, rounded to bf16 on upload; state [h, d, d] fp32 in/out; o [n, h, d] fp32 out. d ≤ 128.
 * Streams segments of the sequence through the device with the state carried there. `block` is
 * accepted for the API's sake: the result does not depend on it. */
int m1k_cuda_lightning_prefill(const float* q, const float* k, const float* v, float* o, float* state,
                               const float* slopes, int64_t n, int h, int d, int block, char* err, int errlen);
/* Lightning decode, n recurrent steps, same layouts (inputs also rounded to bf16). */
int m1k_cuda_lightning_decode(const float* q, const float* k, const float* v, float* o, float* state,
                              const float* slopes, int64_t n, int h, int d, char* err, int errlen);
/* Block FP8 quantization of w [rows, cols] (same conventions as the CPU kernel):
 * codes [rows, cols], scale_inv [ceil(rows/block), ceil(cols/block)]. */
int m1k_cuda_quant_fp8(const float* w, int64_t rows, int64_t cols, int block, uint8_t* codes, float* scale_inv,
                       char* err, int errlen);

/* Same-run measurements (bench.cu), device 0: bf16 mma peak in FLOP/s; seconds per device-to-device
 * copy of `bytes`; seconds for a prefill of n tokens on device-resident segments; seconds per decode
 * step of h heads (the state, h·d²·4 bytes, read and written once). */
int m1k_cuda_bench_mma_peak(double* flops_per_s, char* err, int errlen);
int m1k_cuda_bench_copy(int64_t bytes, int reps, double* seconds, char* err, int errlen);
int m1k_cuda_bench_prefill(int64_t n, int h, int d, double* seconds, char* err, int errlen);
int m1k_cuda_bench_decode(int h, int d, int steps, double* seconds, char* err, int errlen);

#ifdef __cplusplus
}
#endif
