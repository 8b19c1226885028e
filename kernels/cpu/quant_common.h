// Shared pieces of the quantizers (see fp8_impl.h, int_quant_impl.h): bit casts, the finite-amax
// reductions (exact masked form and a faster bit-pattern form) and dynamic work distribution.
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

// Bits of max |x| over x[0, n) into 16 lanes, Inf and NaN included: for non-negative floats the
// integer order of the bit patterns is the float order, so one AND and one unsigned max per vector.
// A lane ≥ 0x7f800000 means a non-finite element; callers then redo the block with finite_amax.
static inline void amax_bits_lanes(const float* __restrict__ x, int64_t n, uint32_t* __restrict__ m) {
  int64_t i = 0;
#if defined(M1K_ISA_AVX512)
  const __m512i absm = _mm512_set1_epi32(0x7fffffff);
  __m512i acc = _mm512_loadu_si512(m);
  for (; i + 16 <= n; i += 16) acc = _mm512_max_epu32(acc, _mm512_and_si512(_mm512_loadu_si512(x + i), absm));
  _mm512_storeu_si512(m, acc);
#elif defined(M1K_ISA_AVX2)
  const __m256i absm = _mm256_set1_epi32(0x7fffffff);
  __m256i acc = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(m));
  for (; i + 8 <= n; i += 8)
    acc = _mm256_max_epu32(acc, _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)), absm));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(m), acc);
#endif
  for (; i < n; ++i) {
    const uint32_t a = f32_bits(x[i]) & 0x7fffffffu;
    m[0] = a > m[0] ? a : m[0];
  }
}

static inline uint32_t max_lane(const uint32_t* m) {
  uint32_t r = 0;
  for (int l = 0; l < 16; ++l) r = m[l] > r ? m[l] : r;
  return r;
}

// finite_amax of one contiguous segment from the bit-pattern max (same value: max over finite |x|).
static inline float finite_amax_fast(const float* x, int64_t n) {
  int64_t i = 0;
  uint32_t r = 0;
#if defined(M1K_ISA_AVX512)
  const __m512i absm = _mm512_set1_epi32(0x7fffffff);
  __m512i acc = _mm512_setzero_si512();
  for (; i + 16 <= n; i += 16) acc = _mm512_max_epu32(acc, _mm512_and_si512(_mm512_loadu_si512(x + i), absm));
  r = _mm512_reduce_max_epu32(acc);
#elif defined(M1K_ISA_AVX2)
  const __m256i absm = _mm256_set1_epi32(0x7fffffff);
  __m256i acc = _mm256_setzero_si256();
  for (; i + 8 <= n; i += 8)
    acc = _mm256_max_epu32(acc, _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)), absm));
  __m128i h = _mm_max_epu32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  h = _mm_max_epu32(h, _mm_shuffle_epi32(h, 0x4e));
  h = _mm_max_epu32(h, _mm_shuffle_epi32(h, 0xb1));
  r = static_cast<uint32_t>(_mm_cvtsi128_si32(h));
#endif
  for (; i < n; ++i) {
    const uint32_t a = f32_bits(x[i]) & 0x7fffffffu;
    r = a > r ? a : r;
  }
  return r < 0x7f800000u ? bits_f32(r) : finite_amax(x, n);
}

// Row r of the quantizer input as fp32: the fp32 input itself, or the bf16 input widened into `tmp`
// (cols floats). Widening is exact (16 zero bits appended), so quantizing bf16 directly is bit-identical
// to quantizing its fp32 copy, without a separate decode pass over memory.
static inline const float* quant_row(const QuantArgs& a, int64_t r, float* __restrict__ tmp) {
  if (!a.wbf16) return a.w + r * a.cols;
  const uint16_t* __restrict__ s = a.wbf16 + r * a.cols;
  for (int64_t i = 0; i < a.cols; ++i) {
    const uint32_t u = static_cast<uint32_t>(s[i]) << 16;
    std::memcpy(tmp + i, &u, 4);
  }
  return tmp;
}

// Runs work(claim) on up to `threads` threads; claim() hands out 0, 1, 2, … across all of them, so a
// thread that is descheduled on a busy machine does not hold back a fixed share of the items.
template <class F>
static inline void parallel_claim(int64_t items, int threads, F&& work) {
  int64_t next = 0;
  const int64_t t = std::max<int64_t>(1, std::min<int64_t>(threads, items));
  parallel_for(t, static_cast<int>(t), [&](int64_t, int64_t) {
    work([&next] { return __atomic_fetch_add(&next, int64_t{1}, __ATOMIC_RELAXED); });
  });
}

// Rows per dynamically claimed work item.
constexpr int64_t kRowsPerItem = 32;

// Calls row(r, w) for every row r of the quantizer input, w its fp32 values (quant_row), on up to
// a.threads threads that claim kRowsPerItem rows at a time. A thread that cannot get its bf16 row
// buffer (a.cols floats) claims nothing and the other threads take its rows.
template <class Row>
static inline void for_each_quant_row(const QuantArgs& a, Row&& row) {
  const int64_t items = (a.rows + kRowsPerItem - 1) / kRowsPerItem;
  parallel_claim(items, a.threads, [&](auto claim) {
    Buf<float> rowbuf;
    float* tmp = a.wbf16 ? rowbuf.get(static_cast<size_t>(a.cols)) : nullptr;
    if (a.wbf16 && !tmp) return;
    for (int64_t it; (it = claim()) < items;)
      for (int64_t r = it * kRowsPerItem, r1 = std::min(a.rows, r + kRowsPerItem); r < r1; ++r) row(r, quant_row(a, r, tmp));
  });
}

}  // namespace M1K_ISA_NS
}  // namespace m1k
