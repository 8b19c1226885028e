// Symmetric INT8 (per row) and INT4 (per group, compressed-tensors packing) quantizers and
// dequantizers, bit-exact with src/core/quant/{int8,int4}.ts on every ISA.
#pragma once
#include "quant_common.h"
#include "quant_error_impl.h"

namespace m1k {
namespace M1K_ISA_NS {

static inline float sym_scale(float amax, float half_range, bool bf16) {
  float s = amax / half_range;
  s = s < 1.1920928955078125e-7f ? 1.1920928955078125e-7f : s;
  return bf16 ? bits_f32(static_cast<uint32_t>(bf16_of_bits(f32_bits(s))) << 16) : s;
}

// clamp(RNE(x / s), lo, hi) with NaN → 0; clamping first is equivalent for integer bounds.
static inline int32_t sym_q(float x, float s, float lo, float hi) {
  float v = x / s;
  v = v != v ? 0.f : v;
  v = v < lo ? lo : (v > hi ? hi : v);
  return static_cast<int32_t>((v + 12582912.f) - 12582912.f);
}

// Vector form of sym_q (same operations: IEEE division, NaN → 0, clamp, magic-number RNE; on the
// CPUs measured, the vector division costs less than a reciprocal plus a tie check), storing
// q + bias as bytes: bias 0 for int8 codes, 8 for int4 nibbles.
#if defined(M1K_ISA_AVX512)
// VW bytes: the integer-valued lanes of v, plus bias, each in [-128, 127].
static inline void store_q_bytes(uint8_t* out, vf v, __m512i bias) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvttps_epi32(v.v), bias)));
}
static inline __m512i vbias(int b) { return _mm512_set1_epi32(b); }
#elif defined(M1K_ISA_AVX2)
static inline void store_q_bytes(uint8_t* out, vf v, __m256i bias) {
  const __m256i q = _mm256_add_epi32(_mm256_cvttps_epi32(v.v), bias);
  const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packs_epi16(p16, p16));
}
static inline __m256i vbias(int b) { return _mm256_set1_epi32(b); }
#endif

static inline void sym_q_bytes(const float* __restrict__ w, uint8_t* __restrict__ out, int64_t n, float s, float lo,
                               float hi, int bias) {
  int64_t c = 0;
#if defined(M1K_ISA_AVX512) || defined(M1K_ISA_AVX2)
  const vf vs = vset1(s), vlo = vset1(lo), vhi = vset1(hi), magic = vset1(12582912.f);
  const auto vb = vbias(bias);
  for (; c + VW <= n; c += VW) {
    vf v = vnan_zero(vdiv(vload(w + c), vs));
    v = vmin(vmax(v, vlo), vhi);
    store_q_bytes(out + c, vsub(vadd(v, magic), magic), vb);
  }
#endif
  for (; c < n; ++c) out[c] = static_cast<uint8_t>(sym_q(w[c], s, lo, hi) + bias);
}

static inline void sym_q_row(const float* __restrict__ w, int8_t* __restrict__ q, int64_t n, float s, float lo, float hi) {
  sym_q_bytes(w, reinterpret_cast<uint8_t*>(q), n, s, lo, hi, 0);
}

// Each row is read twice: the amax pass streams it from DRAM, the encode pass re-reads it from L1/L2.
// (Software-pipelining the next row's amax with the current row's encode measured slower here.)
static void quant_int8(const QuantArgs& a) {
  int8_t* q = reinterpret_cast<int8_t*>(a.codes);
  for_each_quant_row(a, [&](int64_t r, const float* w) {
    const float s = sym_scale(finite_amax_fast(w, a.cols), 127.5f, a.bf16Scale);
    a.scale[r] = s;
    sym_q_row(w, q + r * a.cols, a.cols, s, -128.f, 127.f);
  });
  quant_error_sums(a, [&](int64_t r, int64_t c) { return static_cast<float>(q[r * a.cols + c]) * a.scale[r]; });
}

static void dequant_int8(const QuantArgs& a) {
  const int8_t* q = reinterpret_cast<const int8_t*>(a.codes);
  parallel_for(a.rows, a.threads, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float s = a.scale[r];
      for (int64_t c = 0; c < a.cols; ++c) a.out[r * a.cols + c] = static_cast<float>(q[r * a.cols + c]) * s;
    }
  });
}

// Nibbles q + 8 (0…15) of one row segment.
static inline void nib_row(const float* __restrict__ w, uint8_t* __restrict__ nib, int64_t n, float s) {
  sym_q_bytes(w, nib, n, s, -8.f, 7.f, 8);
}

// Word j = Σ_i nib[8j+i] << 4i (nib zero-padded to 8·words): three shift/or/mask steps per 8 bytes.
// The vector paths form byte k = nib[2k] | nib[2k+1] << 4 with one multiply-add of byte pairs by (1, 16).
static inline void pack_nibbles(const uint8_t* __restrict__ nib, int32_t* __restrict__ out, int64_t words) {
  int64_t j = 0;
#if defined(M1K_ISA_AVX512)
  const __m512i pair = _mm512_set1_epi16(0x1001);
  for (; j + 8 <= words; j += 8)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + j),
                        _mm512_cvtepi16_epi8(_mm512_maddubs_epi16(_mm512_loadu_si512(nib + j * 8), pair)));
#elif defined(M1K_ISA_AVX2)
  const __m128i pair = _mm_set1_epi16(0x1001);
  for (; j + 2 <= words; j += 2) {
    const __m128i p = _mm_maddubs_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(nib + j * 8)), pair);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + j), _mm_packus_epi16(p, p));
  }
#endif
  for (; j < words; ++j) {
    uint64_t x;
    std::memcpy(&x, nib + j * 8, 8);
    x = (x | (x >> 4)) & 0x00ff00ff00ff00ffull;
    x = (x | (x >> 8)) & 0x0000ffff0000ffffull;
    x = (x | (x >> 16)) & 0x00000000ffffffffull;
    out[j] = static_cast<int32_t>(static_cast<uint32_t>(x));
  }
}

// Per group: amax (streamed from DRAM), scale, then the encode from L1; the out-of-order core
// overlaps one group's arithmetic with the next group's loads. (Computing all of a row's scales
// first, or pipelining the next row's amax, measured slower from DRAM here.)
static void quant_int4(const QuantArgs& a) {
  const int64_t G = a.group, ng = (a.cols + G - 1) / G, words = (a.cols + 7) / 8;
  const int64_t items = (a.rows + kRowsPerItem - 1) / kRowsPerItem;
  parallel_claim(items, a.threads, [&](auto claim) {
    Buf<uint8_t> buf;
    Buf<float> rowbuf;
    uint8_t* nib = buf.get(static_cast<size_t>(words * 8));
    float* tmp = a.wbf16 ? rowbuf.get(static_cast<size_t>(a.cols)) : nullptr;
    if (!nib || (a.wbf16 && !tmp)) return;
    std::memset(nib, 0, static_cast<size_t>(words * 8));  // padding nibbles stay 0
    for (int64_t it; (it = claim()) < items;)
      for (int64_t r = it * kRowsPerItem, r1 = std::min(a.rows, r + kRowsPerItem); r < r1; ++r) {
        const float* w = quant_row(a, r, tmp);
        for (int64_t g = 0; g < ng; ++g) {
          const int64_t c0 = g * G, cn = std::min(G, a.cols - c0);
          const float s = sym_scale(finite_amax_fast(w + c0, cn), 7.5f, a.bf16Scale);
          a.scale[r * ng + g] = s;
          nib_row(w + c0, nib + c0, cn, s);
        }
        pack_nibbles(nib, a.packed + r * words, words);
      }
  });
  quant_error_sums(a, [&](int64_t r, int64_t c) {
    const uint32_t word = static_cast<uint32_t>(a.packed[r * words + (c >> 3)]);
    return static_cast<float>(static_cast<int32_t>((word >> ((c & 7) * 4)) & 15u) - 8) * a.scale[r * ng + c / G];
  });
}

static void dequant_int4(const QuantArgs& a) {
  const int64_t G = a.group, ng = (a.cols + G - 1) / G, words = (a.cols + 7) / 8;
  parallel_for(a.rows, a.threads, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const uint32_t* pr = reinterpret_cast<const uint32_t*>(a.packed) + r * words;
      for (int64_t c = 0; c < a.cols; ++c) {
        const int32_t q = static_cast<int32_t>((pr[c >> 3] >> ((c & 7) * 4)) & 15u) - 8;
        a.out[r * a.cols + c] = static_cast<float>(q) * a.scale[r * ng + c / G];
      }
    }
  });
}

}  // namespace M1K_ISA_NS
}  // namespace m1k
