// Minimal vector abstraction `vf` for one instruction set, selected by the translation unit:
// M1K_ISA_AVX512 (16 lanes), M1K_ISA_AVX2 (8 lanes, FMA) or neither (1 lane, plain C++). The two
// vector ISAs also have `vi` (32-bit integer lanes) and `vmask` (lane masks) for the bit-level encoders.
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

// What the AVX-512 and AVX2 vectors share but for their width B in bits (512, 256), which names their
// types and prefixes their intrinsics, and the name R of the rounding to the nearest integer
// (roundscale, round): the lane count VW, vf (fp32 lanes, one IEEE operation per function) and vi
// (the 32-bit integer lanes beside it, for the bit-level encoders of mx_impl.h).
#define M1K_VEC_OPS(B, R)                                                                                           \
  constexpr int VW = B / 32;                                                                                        \
  struct vf { __m##B v; };                                                                                          \
  struct vi { __m##B##i v; };                                                                                       \
  static inline vf vload(const float* p) { return {_mm##B##_loadu_ps(p)}; }                                         \
  static inline void vstore(float* p, vf a) { _mm##B##_storeu_ps(p, a.v); }                                         \
  static inline vf vset1(float x) { return {_mm##B##_set1_ps(x)}; }                                                 \
  static inline vf vzero() { return {_mm##B##_setzero_ps()}; }                                                      \
  static inline vf vfma(vf a, vf b, vf c) { return {_mm##B##_fmadd_ps(a.v, b.v, c.v)}; }                            \
  static inline vf vfnmadd(vf a, vf b, vf c) { return {_mm##B##_fnmadd_ps(a.v, b.v, c.v)}; }                        \
  static inline vf vmul(vf a, vf b) { return {_mm##B##_mul_ps(a.v, b.v)}; }                                         \
  static inline vf vdiv(vf a, vf b) { return {_mm##B##_div_ps(a.v, b.v)}; }                                         \
  static inline vf vadd(vf a, vf b) { return {_mm##B##_add_ps(a.v, b.v)}; }                                         \
  static inline vf vsub(vf a, vf b) { return {_mm##B##_sub_ps(a.v, b.v)}; }                                         \
  static inline vf vmax(vf a, vf b) { return {_mm##B##_max_ps(a.v, b.v)}; }                                         \
  static inline vf vmin(vf a, vf b) { return {_mm##B##_min_ps(a.v, b.v)}; }                                         \
  static inline vf vround(vf a) { return {_mm##B##_##R##_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; } \
  static inline vi vi_set1(int32_t x) { return {_mm##B##_set1_epi32(x)}; }                                          \
  static inline vi vi_and(vi a, vi b) { return {_mm##B##_and_si##B(a.v, b.v)}; }                                    \
  static inline vi vi_or(vi a, vi b) { return {_mm##B##_or_si##B(a.v, b.v)}; }                                      \
  static inline vi vi_add(vi a, vi b) { return {_mm##B##_add_epi32(a.v, b.v)}; }                                    \
  static inline vi vi_min_u32(vi a, vi b) { return {_mm##B##_min_epu32(a.v, b.v)}; }                                \
  template <int K> static inline vi vi_srl(vi a) { return {_mm##B##_srli_epi32(a.v, K)}; }                         \
  static inline vi vi_bits(vf a) { return {_mm##B##_castps_si##B(a.v)}; }                                           \
  static inline vf vf_bits(vi a) { return {_mm##B##_castsi##B##_ps(a.v)}; }                                         \
  static inline vi vi_cvtt(vf a) { return {_mm##B##_cvttps_epi32(a.v)}; }

#if defined(M1K_ISA_AVX512)
M1K_VEC_OPS(512, roundscale)
// Lane masks (k-registers): a < b and a ≤ b (unsigned), select t where set else f, keep where set else 0.
using vmask = __mmask16;
static inline vmask vlt_u31(vi a, vi b) { return _mm512_cmplt_epu32_mask(a.v, b.v); }
static inline vmask vle_u31(vi a, vi b) { return _mm512_cmple_epu32_mask(a.v, b.v); }
static inline vi vi_select(vmask m, vi t, vi f) { return {_mm512_mask_blend_epi32(m, f.v, t.v)}; }
static inline vf vf_keep(vmask m, vf a) { return {_mm512_maskz_mov_ps(m, a.v)}; }
static inline vi vi_keep(vmask m, vi a) { return {_mm512_maskz_mov_epi32(m, a.v)}; }
static inline float vsum(vf a) { return _mm512_reduce_add_ps(a.v); }
// NaN lanes → 0, the others kept.
static inline vf vnan_zero(vf a) { return {_mm512_maskz_mov_ps(_mm512_cmp_ps_mask(a.v, a.v, _CMP_ORD_Q), a.v)}; }
static inline vf vload_bf16(const uint16_t* p) {
  __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return {_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16))};
}
#elif defined(M1K_ISA_AVX2)
M1K_VEC_OPS(256, round)
// Lane masks (all-ones lanes) for lanes below 2^31, where the signed compares are exact.
using vmask = __m256i;
static inline vmask vlt_u31(vi a, vi b) { return _mm256_cmpgt_epi32(b.v, a.v); }
static inline vmask vle_u31(vi a, vi b) { return _mm256_xor_si256(_mm256_cmpgt_epi32(a.v, b.v), _mm256_set1_epi32(-1)); }
static inline vi vi_select(vmask m, vi t, vi f) { return {_mm256_blendv_epi8(f.v, t.v, m)}; }
static inline vf vf_keep(vmask m, vf a) { return {_mm256_and_ps(_mm256_castsi256_ps(m), a.v)}; }
static inline vi vi_keep(vmask m, vi a) { return {_mm256_and_si256(m, a.v)}; }
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
