// Kernel table: one instance per instruction set (scalar, avx2, avx512), chosen at run time.
// All tensors are token-major and contiguous; shapes are in the comments. Arguments are validated by
// the caller (TypeScript facade + N-API layer); these functions only compute.
#pragma once
#include <cmath>
#include <cstdint>

namespace m1k {

// Lightning decay powers exp(−s·p) below this are taken as 0 (kernels and TypeScript references alike).
constexpr double kDecayFloor = 0x1p-60;
static inline float decay_pow(double s, double p) {
  const double e = std::exp(-s * p);
  return e < kDecayFloor ? 0.f : static_cast<float>(e);
}

struct LightningArgs {
  const float* q;       // [n, h, d]
  const float* k;       // [n, h, d]
  const float* v;       // [n, h, d]
  float* o;             // [n, h, d] output
  float* state;         // [h, d, d] in/out, S[a][b] with o = q·S
  const float* slopes;  // [h], decay λ = exp(−s)
  int64_t n;
  int h, d, block, threads;
};

struct SoftmaxArgs {
  const float* q;  // [n, hq, d] (RoPE already applied)
  const float* k;  // [nk, hkv, d]
  const float* v;  // [nk, hkv, d]
  float* o;        // [n, hq, d]
  int64_t n, nk;   // query i sits at absolute key position nk − n + i
  int hq, hkv, d, threads;
  float scale;
};

struct GemmArgs {
  const float* x;  // [m, k]
  const void* w;   // [nOut, k], bf16 bits (wBf16) or fp32
  bool wBf16;
  float* y;        // [m, nOut] = x·Wᵀ
  int64_t m, k, nOut;
  int threads;
};

struct QuantArgs {
  const float* w;    // [rows, cols]
  const uint16_t* wbf16;  // or the same as bf16 bit patterns (quantize only; w is then unused)
  int64_t rows, cols;
  int group;         // fp8: block edge (128); int4: group size; int8: unused
  bool bf16Scale;    // int8/int4: round the scale to bf16 before use
  int threads;
  uint8_t* codes;    // fp8 codes / int8 q (as bytes) [rows, cols]
  int32_t* packed;   // int4 [rows, ceil(cols/8)]
  float* scale;      // fp8 [ceil(rows/block), ceil(cols/block)]; int8 [rows]; int4 [rows, ceil(cols/group)]
  float* out;        // dequantize output [rows, cols]
  // Quantize only, when err is set: add {Σ ref², Σ (deq − ref)², max |deq − ref|} (float64, finite
  // differences only) over the blocks of err_unit rows whose index err_block0 + b is a multiple of
  // err_stride (b counts blocks from row 0 of this call).
  double* err;
  int64_t err_unit, err_stride, err_block0;
};

struct KernelTable {
  const char* name;
  void (*lightning_prefill)(const LightningArgs&);
  void (*lightning_decode)(const LightningArgs&);
  void (*softmax_attention)(const SoftmaxArgs&);
  void (*gemm)(const GemmArgs&);
  void (*bf16_to_f32)(const uint16_t* src, float* dst, int64_t n, int threads);
  void (*f32_to_bf16)(const float* src, uint16_t* dst, int64_t n, int threads);
  void (*f32_to_f16)(const float* src, uint16_t* dst, int64_t n, int threads);
  void (*quant_fp8)(const QuantArgs&);
  void (*dequant_fp8)(const QuantArgs&);
  void (*quant_int8)(const QuantArgs&);
  void (*dequant_int8)(const QuantArgs&);
  void (*quant_int4)(const QuantArgs&);
  void (*dequant_int4)(const QuantArgs&);
  // Probes for benchmarks: FMA throughput (returns a checksum) and a threaded copy.
  double (*fma_peak)(int64_t iters, int threads);
  void (*copy)(const float* src, float* dst, int64_t n, int threads);
};

const KernelTable* table_scalar();
const KernelTable* table_avx2();
const KernelTable* table_avx512();

}  // namespace m1k
