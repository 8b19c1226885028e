// Minimal vector abstraction `vf` for one instruction set, selected by the translation unit:
// M1K_ISA_AVX512 (16 lanes), M1K_ISA_AVX2 (8 lanes, FMA) or neither (1 lane, plain C++).
#pragma once
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include "../common/bits.h"
#if defined(M1K_ISA_AVX512) || defined(M1K_ISA_AVX2)
#include <immintrin.h>
#endif

namespace m1k {
namespace M1K_ISA_NS {

// Scratch buffer local to this ISA's namespace, 64-byte aligned. std::vector is avoided in kernels on purpose: its
// out-of-line template code would be emitted once per ISA and the linker could keep the AVX-512 copy
// for the scalar path (an ODR trap of multi-ISA builds).
template <class T>
struct Buf {
  T* p = nullptr;
  size_t n = 0;
  Buf() = default;
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  ~Buf() { std::free(p); }
  // At least m elements, 64-byte aligned (one cache line; whole AVX-512 vectors).
  T* get(size_t m) {
    if (m > n) {
      std::free(p);
      void* q = nullptr;
      p = posix_memalign(&q, 64, m * sizeof(T) + 64) == 0 ? static_cast<T*>(q) : nullptr;
      n = p ? m : 0;
    }
    return p;
  }
};

// The operations whose AVX-512 and AVX2 intrinsics differ only in their prefix P (_mm512, _mm256)
// and, for the rounding to the nearest integer, the name R (roundscale, round). One IEEE operation each.
#define M1K_VF_OPS(P, R)                                                                                    \
  static inline vf vload(const float* p) { return {P##_loadu_ps(p)}; }                                     \
  static inline void vstore(float* p, vf a) { P##_storeu_ps(p, a.v); }                                     \
  static inline vf vset1(float x) { return {P##_set1_ps(x)}; }                                             \
  static inline vf vzero() { return {P##_setzero_ps()}; }                                                  \
  static inline vf vfma(vf a, vf b, vf c) { return {P##_fmadd_ps(a.v, b.v, c.v)}; }                        \
  static inline vf vfnmadd(vf a, vf b, vf c) { return {P##_fnmadd_ps(a.v, b.v, c.v)}; }                    \
  static inline vf vmul(vf a, vf b) { return {P##_mul_ps(a.v, b.v)}; }                                     \
  static inline vf vdiv(vf a, vf b) { return {P##_div_ps(a.v, b.v)}; }                                     \
  static inline vf vadd(vf a, vf b) { return {P##_add_ps(a.v, b.v)}; }                                     \
  static inline vf vsub(vf a, vf b) { return {P##_sub_ps(a.v, b.v)}; }                                     \
  static inline vf vmax(vf a, vf b) { return {P##_max_ps(a.v, b.v)}; }                                     \
  static inline vf vmin(vf a, vf b) { return {P##_min_ps(a.v, b.v)}; }                                     \
  static inline vf vround(vf a) { return {P##_##R##_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }

#if defined(M1K_ISA_AVX512)
constexpr int VW = 16;
struct vf { __m512 v; };
M1K_VF_OPS(_mm512, roundscale)
static inline float vsum(vf a) { return _mm512_reduce_add_ps(a.v); }
// NaN lanes → 0, the others kept.
static inline vf vnan_zero(vf a) { return {_mm512_maskz_mov_ps(_mm512_cmp_ps_mask(a.v, a.v, _CMP_ORD_Q), a.v)}; }
static inline vf vload_bf16(const uint16_t* p) {
  __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return {_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16))};
}
#elif defined(M1K_ISA_AVX2)
constexpr int VW = 8;
struct vf { __m256 v; };
M1K_VF_OPS(_mm256, round)
static inline vf vnan_zero(vf a) { return {_mm256_and_ps(_mm256_cmp_ps(a.v, a.v, _CMP_ORD_Q), a.v)}; }
static inline float vsum(vf a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
static inline vf vload_bf16(const uint16_t* p) {
  __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return {_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16))};
}
#else
constexpr int VW = 1;
struct vf { float v; };
static inline vf vload(const float* p) { return {*p}; }
static inline void vstore(float* p, vf a) { *p = a.v; }
static inline vf vset1(float x) { return {x}; }
static inline vf vzero() { return {0.f}; }
static inline vf vfma(vf a, vf b, vf c) { return {a.v * b.v + c.v}; }
static inline vf vmul(vf a, vf b) { return {a.v * b.v}; }
static inline float vsum(vf a) { return a.v; }
static inline vf vload_bf16(const uint16_t* p) { return {bf16_f32(*p)}; }
#endif

}  // namespace M1K_ISA_NS
}  // namespace m1k
