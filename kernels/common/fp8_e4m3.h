// fp32 → FP8 E4M3FN, the one encode rule of the CPU quantizers (cpu/fp8_impl.h: the scalar path of
// every ISA, whose vector paths do the same bit operations lane-wise) and the CUDA quantizer
// (cuda/fp8_quant.cu). Bit-exact with src/core/quant/fp8.ts.
#pragma once
#include <cstdint>

#include "bits.h"

namespace m1k {

// One exactly rounded IEEE operation each. nvcc would contract a*b + c into an FMA, so device code
// spells them out; the host kernels are compiled with -ffp-contract=off.
#ifdef __CUDA_ARCH__
static __device__ inline float mul_rn(float a, float b) { return __fmul_rn(a, b); }
static __device__ inline float add_rn(float a, float b) { return __fadd_rn(a, b); }
static __device__ inline float sub_rn(float a, float b) { return __fsub_rn(a, b); }
#else
static inline float mul_rn(float a, float b) { return a * b; }
static inline float add_rn(float a, float b) { return a + b; }
static inline float sub_rn(float a, float b) { return a - b; }
#endif

// RNE, saturate to ±448 (Inf too), NaN → 0x7f | sign.
static M1K_HD inline uint8_t fp8_encode(float x) {
  const uint32_t b = f32_bits(x), sign = (b >> 24) & 0x80u, a = b & 0x7fffffffu;
  const float ax = bits_f32(a);
  const float sv = mul_rn(ax < 0.015625f ? ax : 0.f, 512.f);                        // subnormal step 2^-9
  const uint32_t rsub = static_cast<uint32_t>(sub_rn(add_rn(sv, 8388608.f), 8388608.f));  // RNE to integer
  uint32_t rn = (((a >> 23) - 120u) << 3) | ((a >> 20) & 7u);
  const uint32_t rem = a & 0xfffffu;
  rn += static_cast<uint32_t>(rem > 0x80000u) | (static_cast<uint32_t>(rem == 0x80000u) & rn & 1u);
  uint32_t r = a < 0x3c800000u ? rsub : rn;
  r = a >= 0x43e00000u ? 0x7eu : r;
  r = a > 0x7f800000u ? 0x7fu : r;
  return static_cast<uint8_t>(sign | r);
}

}  // namespace m1k
