// FP4 (E2M1) and microscaled quantizers: NVFP4 (E4M3 scales per 16, fp32 global scale), MXFP4 and
// MXFP8 (E8M0 scales per 32), and the finite amax of a whole tensor (NVFP4's global scale). Bit-exact
// with src/core/quant/{e2m1,e8m0,nvfp4,mx}.ts on every ISA: each step is one exactly rounded IEEE
// operation (division, multiplication by a power of two) followed by integer bit manipulation.
#pragma once
#include "fp8_impl.h"
#include "quant_common.h"
#include "quant_error_impl.h"

namespace m1k {
namespace M1K_ISA_NS {

// fp32 → E2M1 code: RNE on the magnitudes 0, .5, 1, 1.5, 2, 3, 4, 6; |x| > 5 and Inf → 7; NaN → 0;
// the sign bit (bit 3) kept. Below 1 the grid has step 0.5: rint(2|x|) with the magic-number RNE.
// From 1 up it is a float with 1 mantissa bit and exponent bias 1: code = ((bits − 126·2²³) >> 22)
// rounded to nearest even on the 22 dropped bits, capped at 7.
static inline uint32_t e2m1_encode(float x) {
  const uint32_t b = f32_bits(x), a = b & 0x7fffffffu;
  const uint32_t rsub = static_cast<uint32_t>((bits_f32(a < 0x3f800000u ? a : 0u) * 2.f + 8388608.f) - 8388608.f);
  uint32_t rn = (a + 0x1fffffu + ((a >> 22) & 1u) - (126u << 23)) >> 22;
  rn = rn > 7u ? 7u : rn;
  const uint32_t r = a < 0x3f800000u ? rsub : rn;
  return a > 0x7f800000u ? 0u : (r | ((b >> 28) & 8u));
}

static const float kE2M1[16] = {0.f, 0.5f, 1.f, 1.5f, 2.f, 3.f, 4.f, 6.f, -0.f, -0.5f, -1.f, -1.5f, -2.f, -3.f, -4.f, -6.f};

#if defined(M1K_ISA_AVX512) || defined(M1K_ISA_AVX2)
// VW lanes of e2m1_encode, one code per 32-bit lane (the same bit operations; every compared lane is
// an |x| bit pattern, below 2^31).
static inline vi e2m1_lanes(vf x) {
  const vi b = vi_bits(x), a = vi_and(b, vi_set1(0x7fffffff));
  const vmask small = vlt_u31(a, vi_set1(0x3f800000));
  const vf sv = vmul(vf_keep(small, vf_bits(a)), vset1(2.f));
  const vf magic = vset1(8388608.f);
  const vi rsub = vi_cvtt(vsub(vadd(sv, magic), magic));
  const vi lsb = vi_and(vi_srl<22>(a), vi_set1(1));
  vi rn = vi_add(vi_add(a, lsb), vi_set1(static_cast<int32_t>(0x1fffffu - (126u << 23))));
  rn = vi_min_u32(vi_srl<22>(rn), vi_set1(7));
  vi r = vi_select(small, rsub, rn);
  r = vi_or(r, vi_and(vi_srl<28>(b), vi_set1(8)));
  return vi_keep(vle_u31(a, vi_set1(0x7f800000)), r);  // NaN → 0
}
#endif

#if defined(M1K_ISA_AVX512)
// 16 lanes of e2m1_encode, packed into 8 bytes (lane 2j low nibble, 2j+1 high nibble).
static inline __m128i e2m1_pack16(__m512 x) {
  const __m512i r = e2m1_lanes({x}).v;
  return _mm512_cvtepi64_epi8(_mm512_or_si512(r, _mm512_srli_epi64(r, 28)));
}
#elif defined(M1K_ISA_AVX2)
// 8 lanes of e2m1_encode packed into 4 bytes.
static inline uint32_t e2m1_pack8(__m256 x) {
  __m256i r = e2m1_lanes({x}).v;
  r = _mm256_or_si256(r, _mm256_srli_epi64(r, 28));
  const __m256i s = _mm256_shuffle_epi8(r, _mm256_setr_epi8(0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                            0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
  const uint32_t lo = static_cast<uint32_t>(_mm_cvtsi128_si32(_mm256_castsi256_si128(s))) & 0xffffu;
  const uint32_t hi = static_cast<uint32_t>(_mm_cvtsi128_si32(_mm256_extracti128_si256(s, 1))) & 0xffffu;
  return lo | (hi << 16);
}
#endif

// E2M1 codes of x·f (kMul) or x / f (kDiv) for n elements starting at an even column, packed into
// out[0, ⌈n/2⌉): every byte of the range is written (a final odd element leaves a zero high nibble).
enum class Scaling { kMul, kDiv };
template <Scaling S>
static inline void e2m1_row(const float* __restrict__ w, uint8_t* __restrict__ out, int64_t n, float f) {
  int64_t c = 0;
#if defined(M1K_ISA_AVX512)
  const __m512 vf = _mm512_set1_ps(f);
  for (; c + 16 <= n; c += 16) {
    const __m512 x = _mm512_loadu_ps(w + c);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + c / 2), e2m1_pack16(S == Scaling::kMul ? _mm512_mul_ps(x, vf) : _mm512_div_ps(x, vf)));
  }
#elif defined(M1K_ISA_AVX2)
  const __m256 vf = _mm256_set1_ps(f);
  for (; c + 8 <= n; c += 8) {
    const __m256 x = _mm256_loadu_ps(w + c);
    const uint32_t p = e2m1_pack8(S == Scaling::kMul ? _mm256_mul_ps(x, vf) : _mm256_div_ps(x, vf));
    std::memcpy(out + c / 2, &p, 4);
  }
#endif
  for (; c < n; ++c) {
    const uint32_t q = e2m1_encode(S == Scaling::kMul ? w[c] * f : w[c] / f);
    out[c / 2] = (c & 1) ? static_cast<uint8_t>(out[c / 2] | (q << 4)) : static_cast<uint8_t>(q);
  }
}

// E4M3 codes of x·f for n elements (f a power of two, so the product is exact or one rounding).
static inline void e4m3_row_mul(const float* __restrict__ w, uint8_t* __restrict__ out, int64_t n, float f) {
  int64_t c = 0;
#if defined(M1K_ISA_AVX512)
  const __m512 vf = _mm512_set1_ps(f);
  for (; c + 16 <= n; c += 16) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + c), fp8_encode16(_mm512_mul_ps(_mm512_loadu_ps(w + c), vf)));
#elif defined(M1K_ISA_AVX2)
  const __m256 vf = _mm256_set1_ps(f);
  for (; c + 8 <= n; c += 8) _mm_storel_epi64(reinterpret_cast<__m128i*>(out + c), fp8_encode8(_mm256_mul_ps(_mm256_loadu_ps(w + c), vf)));
#endif
  for (; c < n; ++c) out[c] = fp8_encode(w[c] * f);
}

// ---- MX (OCP Microscaling): E8M0 scale per 32 elements ----

// Shared exponent k of a block (src/core/quant/e8m0.ts): ⌊log2 amax⌋ − emax clamped to ≥ −127; 0 for amax = 0.
static inline int mx_exponent(float amax, int emax) {
  if (!(amax > 0.f)) return 0;
  const int k = static_cast<int>((f32_bits(amax) >> 23) & 0xffu) - 127 - emax;
  return k < -127 ? -127 : k;
}

// 2^e for −126 ≤ e ≤ 127 (here e = −k ∈ [−125, 127]).
static inline float pow2f(int e) { return bits_f32(static_cast<uint32_t>(e + 127) << 23); }

// 2^(code − 127) as fp32 (code 0 is the subnormal 2^-127; 255 is NaN).
static inline float e8m0_value(uint8_t code) {
  if (code == 255) return std::nanf("");
  return code == 0 ? bits_f32(0x00400000u) : bits_f32(static_cast<uint32_t>(code) << 23);
}

template <bool kFp4>
static void quant_mx(const QuantArgs& a) {
  const int64_t nb = (a.cols + kMxBlock - 1) / kMxBlock, bpr = kFp4 ? (a.cols + 1) / 2 : a.cols;
  const int emax = kFp4 ? 2 : 8;
  for_each_quant_row(a, [&](int64_t r, const float* w) {
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t c0 = b * kMxBlock, cn = std::min(kMxBlock, a.cols - c0);
      const int k = mx_exponent(finite_amax_fast(w + c0, cn), emax);
      a.scale8[r * nb + b] = static_cast<uint8_t>(k + 127);
      if (kFp4) e2m1_row<Scaling::kMul>(w + c0, a.codes + r * bpr + c0 / 2, cn, pow2f(-k));
      else e4m3_row_mul(w + c0, a.codes + r * bpr + c0, cn, pow2f(-k));
    }
  });
  if (a.err) {
    const Fp8Table table;
    quant_error_sums(a, [&](int64_t r, int64_t c) {
      const float s = e8m0_value(a.scale8[r * nb + c / kMxBlock]);
      return kFp4 ? kE2M1[(a.codes[r * bpr + c / 2] >> ((c & 1) * 4)) & 15] * s : table[a.codes[r * bpr + c]] * s;
    });
  }
}

template <bool kFp4>
static void dequant_mx(const QuantArgs& a) {
  const int64_t nb = (a.cols + kMxBlock - 1) / kMxBlock, bpr = kFp4 ? (a.cols + 1) / 2 : a.cols;
  Fp8Table table;  // read by MXFP8 only
  table.v[0x7f] = table.v[0xff] = std::nanf("");  // a NaN code decodes to the default (positive) quiet NaN
  parallel_for(a.rows, a.threads, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const uint8_t* q = a.codes + r * bpr;
      float* o = a.out + r * a.cols;
      for (int64_t b = 0; b < nb; ++b) {  // one scale per block of 32
        const float s = e8m0_value(a.scale8[r * nb + b]);
        for (int64_t c = b * kMxBlock, c1 = std::min(a.cols, c + kMxBlock); c < c1; ++c)
          o[c] = (kFp4 ? kE2M1[(q[c / 2] >> ((c & 1) * 4)) & 15] : table[q[c]]) * s;
      }
    }
  });
}

static void quant_mxfp4(const QuantArgs& a) { quant_mx<true>(a); }
static void dequant_mxfp4(const QuantArgs& a) { dequant_mx<true>(a); }
static void quant_mxfp8(const QuantArgs& a) { quant_mx<false>(a); }
static void dequant_mxfp8(const QuantArgs& a) { dequant_mx<false>(a); }

// ---- NVFP4: E4M3 scale per 16 elements and an fp32 global scale G (a.gscale) ----

// E4M3 code of the group scale e4m3(fp32(fp32(amax / 6) · G)); a zero scale becomes 0.125 (0x20).
static inline uint8_t nvfp4_scale_code(float amax, float g) {
  const uint8_t c = fp8_encode((amax / 6.f) * g);
  return (c & 0x7f) == 0 ? 0x20 : c;
}

static void quant_nvfp4(const QuantArgs& a) {
  const int64_t ng = (a.cols + kNvGroup - 1) / kNvGroup, bpr = (a.cols + 1) / 2;
  const float g = a.gscale;
  const Fp8Table table;
  for_each_quant_row(a, [&](int64_t r, const float* w) {
    for (int64_t j = 0; j < ng; ++j) {
      const int64_t c0 = j * kNvGroup, cn = std::min(kNvGroup, a.cols - c0);
      const uint8_t sc = nvfp4_scale_code(finite_amax_fast(w + c0, cn), g);
      a.scale8[r * ng + j] = sc;
      e2m1_row<Scaling::kDiv>(w + c0, a.codes + r * bpr + c0 / 2, cn, table[sc] / g);
    }
  });
  quant_error_sums(a, [&](int64_t r, int64_t c) {
    return kE2M1[(a.codes[r * bpr + c / 2] >> ((c & 1) * 4)) & 15] * (table[a.scale8[r * ng + c / kNvGroup]] / g);
  });
}

static void dequant_nvfp4(const QuantArgs& a) {
  const int64_t ng = (a.cols + kNvGroup - 1) / kNvGroup, bpr = (a.cols + 1) / 2;
  const float g = a.gscale;
  const Fp8Table table;
  parallel_for(a.rows, a.threads, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const uint8_t* q = a.codes + r * bpr;
      float* o = a.out + r * a.cols;
      for (int64_t j = 0; j < ng; ++j) {
        const float step = table[a.scale8[r * ng + j]] / g;
        for (int64_t c = j * kNvGroup, c1 = std::min(a.cols, c + kNvGroup); c < c1; ++c) o[c] = kE2M1[(q[c / 2] >> ((c & 1) * 4)) & 15] * step;
      }
    }
  });
}

// Largest finite |x| of the whole [rows, cols] input (fp32 `w` or bf16 `wbf16`).
static float quant_amax(const QuantArgs& a) {
  const int64_t n = a.rows * a.cols, chunk = 1024, items = (n + chunk - 1) / chunk;
  std::mutex mu;
  float best = 0.f;
  parallel_for(items, a.threads, [&](int64_t i0, int64_t i1) {
    float m = 0.f, tmp[chunk];
    for (int64_t i = i0 * chunk, e = std::min(n, i1 * chunk); i < e; i += chunk) {
      const int64_t len = std::min(e - i, chunk);
      if (!a.w)
        for (int64_t j = 0; j < len; ++j) tmp[j] = bits_f32(static_cast<uint32_t>(a.wbf16[i + j]) << 16);
      const float v = finite_amax_fast(a.w ? a.w + i : tmp, len);
      m = v > m ? v : m;
    }
    std::lock_guard<std::mutex> lock(mu);
    best = m > best ? m : best;
  });
  return best;
}

}  // namespace M1K_ISA_NS
}  // namespace m1k
