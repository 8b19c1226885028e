// Dtype conversions, bit-exact with src/core/dtype/convert.ts: bf16 → fp32 (exact), fp32 → bf16 and
// fp32 → fp16 (round to nearest even; NaN stays a quiet NaN with its sign; fp16 overflow → ±Inf).
// The AVX paths use the F16C conversion, which implements the same IEEE rounding.
#pragma once
#include <cstdint>
#include <cstring>
#include "../common/bits.h"
#include "../common/parallel.h"
#include "vec.h"

namespace m1k {
namespace M1K_ISA_NS {

static inline uint16_t f16_of_bits(uint32_t b) {
  const uint32_t sign = (b >> 16) & 0x8000u, exp = (b >> 23) & 0xffu;
  uint32_t man = b & 0x7fffffu;
  if (exp == 0xffu) return static_cast<uint16_t>(sign | 0x7c00u | (man ? (0x200u | (man >> 13)) : 0u));
  const int e = static_cast<int>(exp) - 127 + 15;
  if (e >= 31) return static_cast<uint16_t>(sign | 0x7c00u);
  if (e <= 0) {
    if (e < -10) return static_cast<uint16_t>(sign);
    man |= 0x800000u;
    const int shift = 14 - e;
    const uint32_t half = 1u << (shift - 1), rem = man & ((1u << shift) - 1u);
    uint32_t r = man >> shift;
    if (rem > half || (rem == half && (r & 1u))) ++r;
    return static_cast<uint16_t>(sign | r);
  }
  uint32_t r = (static_cast<uint32_t>(e) << 10) | (man >> 13);
  const uint32_t rem = man & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;
  return static_cast<uint16_t>(sign | r);
}

static void bf16_to_f32(const uint16_t* src, float* dst, int64_t n, int threads) {
  parallel_for((n + 65535) / 65536, threads, [&](int64_t b, int64_t e) {
    const int64_t i1 = std::min(n, e * 65536);
    for (int64_t i = b * 65536; i < i1; ++i) {
      const uint32_t u = static_cast<uint32_t>(src[i]) << 16;
      std::memcpy(dst + i, &u, 4);
    }
  });
}

static void f32_to_bf16(const float* src, uint16_t* dst, int64_t n, int threads) {
  parallel_for((n + 65535) / 65536, threads, [&](int64_t b, int64_t e) {
    const int64_t i1 = std::min(n, e * 65536);
    for (int64_t i = b * 65536; i < i1; ++i) dst[i] = bf16_of_bits(f32_bits(src[i]));
  });
}

static void f32_to_f16(const float* src, uint16_t* dst, int64_t n, int threads) {
  parallel_for((n + 65535) / 65536, threads, [&](int64_t b, int64_t e) {
    int64_t i = b * 65536;
    const int64_t i1 = std::min(n, e * 65536);
#if defined(M1K_ISA_AVX512)
    for (; i + 16 <= i1; i += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i),
                          _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#elif defined(M1K_ISA_AVX2)
    for (; i + 8 <= i1; i += 8)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                       _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#endif
    for (; i < i1; ++i) dst[i] = f16_of_bits(f32_bits(src[i]));
  });
}

}  // namespace M1K_ISA_NS
}  // namespace m1k
