/* C ABI of libm1kit_cuda.so (built by nvcc, loaded with dlopen by the addon only when a CUDA device
 * exists). Every function returns 0 on success, or a nonzero CUDA error number with a message in
 * err[0..errlen). Host pointers in and out; the library manages device memory per call. */
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define M1K_CUDA_ABI 1

int m1k_cuda_abi(void);
int m1k_cuda_device_count(int* count, char* err, int errlen);
int m1k_cuda_device_name(int device, char* name, int len);

/* Lightning prefill, block form: q, k, v [n, h, d] fp32 on the host, rounded to bf16 on upload (the
 * kernel reads bf16); state [h, d, d] fp32 in/out; o [n, h, d] fp32 out. d ≤ 128, block = 64·k. */
int m1k_cuda_lightning_prefill(const float* q, const float* k, const float* v, float* o, float* state,
                               const float* slopes, int64_t n, int h, int d, int block, char* err, int errlen);
/* Lightning decode, n recurrent steps, same layouts (inputs also rounded to bf16). */
int m1k_cuda_lightning_decode(const float* q, const float* k, const float* v, float* o, float* state,
                              const float* slopes, int64_t n, int h, int d, char* err, int errlen);
/* Block FP8 quantization of w [rows, cols] (same conventions as the CPU kernel):
 * codes [rows, cols], scale_inv [ceil(rows/block), ceil(cols/block)]. */
int m1k_cuda_quant_fp8(const float* w, int64_t rows, int64_t cols, int block, uint8_t* codes, float* scale_inv,
                       char* err, int errlen);

#ifdef __cplusplus
}
#endif
