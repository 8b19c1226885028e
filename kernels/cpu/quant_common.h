// Shared pieces of the quantizers (see fp8_impl.h, int_quant_impl.h): bit casts and the exact
// finite-amax reduction.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include "../common/parallel.h"
#include "convert_impl.h"
#include "kernels.h"
#include "vec.h"

namespace m1k {
namespace M1K_ISA_NS {


static inline float bits_f32(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Running max |x| over the finite elements of x[0, n) into 16 lanes (exact, so lane order does not matter).
static inline void amax_lanes(const float* __restrict__ x, int64_t n, float* __restrict__ m) {
  int64_t i = 0;
#if defined(M1K_ISA_AVX512)
  __m512 acc = _mm512_loadu_ps(m);
  const __m512 inf = _mm512_set1_ps(INFINITY);
  for (; i + 16 <= n; i += 16) {
    const __m512 a = _mm512_abs_ps(_mm512_loadu_ps(x + i));
    acc = _mm512_max_ps(acc, _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(a, inf, _CMP_LT_OQ), a));  // NaN/Inf → 0
  }
  _mm512_storeu_ps(m, acc);
#elif defined(M1K_ISA_AVX2)
  __m256 acc = _mm256_loadu_ps(m);
  const __m256 inf = _mm256_set1_ps(INFINITY), absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (; i + 8 <= n; i += 8) {
    const __m256 a = _mm256_and_ps(_mm256_loadu_ps(x + i), absmask);
    acc = _mm256_max_ps(acc, _mm256_and_ps(_mm256_cmp_ps(a, inf, _CMP_LT_OQ), a));
  }
  _mm256_storeu_ps(m, acc);
#endif
  for (; i < n; ++i) {
    float a = std::fabs(x[i]);
    a = a == INFINITY ? 0.f : a;
    m[0] = a > m[0] ? a : m[0];
  }
}

// max |x| over the finite elements of `rows` rows of n elements, row stride ld.
static inline float finite_amax(const float* x, int64_t n, int64_t rows = 1, int64_t ld = 0) {
  float m[16] = {0};
  for (int64_t r = 0; r < rows; ++r) amax_lanes(x + r * ld, n, m);
  float r = 0.f;
  for (float v : m) r = v > r ? v : r;
  return r;
}

}  // namespace M1K_ISA_NS
}  // namespace m1k
