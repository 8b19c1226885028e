// Block FP8 E4M3FN quantizer and dequantizer, bit-exact with src/core/quant/fp8.ts on every ISA:
// every step is an exactly rounded IEEE operation (division, x·2^k, magic-number RNE, max).
#pragma once
#include "../common/fp8_e4m3.h"
#include "quant_common.h"
#include "quant_error_impl.h"

namespace m1k {
namespace M1K_ISA_NS {

static inline float fp8_decode(uint8_t c) {
  const int e = (c >> 3) & 15, m = c & 7;
  float v = e == 0 ? static_cast<float>(m) * 0.001953125f : std::ldexp(1.f + static_cast<float>(m) / 8.f, e - 7);
  if (e == 15 && m == 7) v = std::nanf("");
  return (c & 0x80) ? -v : v;
}

// The 256 E4M3FN values by code, for kernels that read codes back (1 KiB on the caller's stack).
struct Fp8Table {
  float v[256];
  Fp8Table() {
    for (int c = 0; c < 256; ++c) v[c] = fp8_decode(static_cast<uint8_t>(c));
  }
  float operator[](uint8_t c) const { return v[c]; }
};

#if defined(M1K_ISA_AVX512)
// 16 lanes of fp8_encode (same bit operations, mask registers for the selects).
static inline __m128i fp8_encode16(__m512 x) {
  const __m512i b = _mm512_castps_si512(x);
  const __m512i sign = _mm512_and_si512(_mm512_srli_epi32(b, 24), _mm512_set1_epi32(0x80));
  const __m512i a = _mm512_and_si512(b, _mm512_set1_epi32(0x7fffffff));
  const __mmask16 small = _mm512_cmplt_epu32_mask(a, _mm512_set1_epi32(0x3c800000));
  const __m512 sv = _mm512_mul_ps(_mm512_maskz_mov_ps(small, _mm512_castsi512_ps(a)), _mm512_set1_ps(512.f));
  const __m512 magic = _mm512_set1_ps(8388608.f);
  const __m512i rsub = _mm512_cvttps_epi32(_mm512_sub_ps(_mm512_add_ps(sv, magic), magic));
  __m512i rn = _mm512_or_si512(_mm512_slli_epi32(_mm512_sub_epi32(_mm512_srli_epi32(a, 23), _mm512_set1_epi32(120)), 3),
                               _mm512_and_si512(_mm512_srli_epi32(a, 20), _mm512_set1_epi32(7)));
  const __m512i rem = _mm512_and_si512(a, _mm512_set1_epi32(0xfffff)), half = _mm512_set1_epi32(0x80000);
  const __mmask16 up = _mm512_cmpgt_epu32_mask(rem, half) |
                       (_mm512_cmpeq_epi32_mask(rem, half) & _mm512_test_epi32_mask(rn, _mm512_set1_epi32(1)));
  rn = _mm512_mask_add_epi32(rn, up, rn, _mm512_set1_epi32(1));
  __m512i r = _mm512_mask_blend_epi32(small, rn, rsub);
  r = _mm512_mask_mov_epi32(r, _mm512_cmpge_epu32_mask(a, _mm512_set1_epi32(0x43e00000)), _mm512_set1_epi32(0x7e));
  r = _mm512_mask_mov_epi32(r, _mm512_cmpgt_epu32_mask(a, _mm512_set1_epi32(0x7f800000)), _mm512_set1_epi32(0x7f));
  return _mm512_cvtepi32_epi8(_mm512_or_si512(r, sign));
}
#elif defined(M1K_ISA_AVX2)
// 8 lanes of fp8_encode; |x| bits fit in 31 bits, so signed compares are exact here.
static inline __m128i fp8_encode8(__m256 x) {
  const __m256i b = _mm256_castps_si256(x);
  const __m256i sign = _mm256_and_si256(_mm256_srli_epi32(b, 24), _mm256_set1_epi32(0x80));
  const __m256i a = _mm256_and_si256(b, _mm256_set1_epi32(0x7fffffff));
  const __m256i small = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x3c800000), a);
  const __m256 sv = _mm256_mul_ps(_mm256_and_ps(_mm256_castsi256_ps(small), _mm256_castsi256_ps(a)), _mm256_set1_ps(512.f));
  const __m256 magic = _mm256_set1_ps(8388608.f);
  const __m256i rsub = _mm256_cvttps_epi32(_mm256_sub_ps(_mm256_add_ps(sv, magic), magic));
  __m256i rn = _mm256_or_si256(_mm256_slli_epi32(_mm256_sub_epi32(_mm256_srli_epi32(a, 23), _mm256_set1_epi32(120)), 3),
                               _mm256_and_si256(_mm256_srli_epi32(a, 20), _mm256_set1_epi32(7)));
  const __m256i rem = _mm256_and_si256(a, _mm256_set1_epi32(0xfffff)), half = _mm256_set1_epi32(0x80000);
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i up = _mm256_or_si256(_mm256_cmpgt_epi32(rem, half),
                                     _mm256_and_si256(_mm256_cmpeq_epi32(rem, half), _mm256_cmpeq_epi32(_mm256_and_si256(rn, one), one)));
  rn = _mm256_sub_epi32(rn, up);  // up lanes are −1
  __m256i r = _mm256_blendv_epi8(rn, rsub, small);
  r = _mm256_blendv_epi8(r, _mm256_set1_epi32(0x7e), _mm256_cmpgt_epi32(a, _mm256_set1_epi32(0x43dfffff)));
  r = _mm256_blendv_epi8(r, _mm256_set1_epi32(0x7f), _mm256_cmpgt_epi32(a, _mm256_set1_epi32(0x7f800000)));
  r = _mm256_or_si256(r, sign);
  const __m128i p16 = _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
  return _mm_packus_epi16(p16, p16);
}
#endif

// Per-block encode constants: the scale, its reciprocal, and whether the reciprocal may be used.
struct Fp8Scale {
  float s, rcp;
  bool exact_only;  // tiny or huge scales whose reciprocal is not finite and normal: always divide
};

static inline Fp8Scale fp8_scale(float s) {
  const float rcp = 1.f / s;
  return {s, rcp, !(s >= 1.1754944e-38f * 4.f && rcp >= 1.1754944e-38f * 4.f && rcp < 1e37f)};
}

// Encode fp32(w / s) for one row segment. The vector paths divide only when needed: q = w·(1/s) is
// within 2 ulp of fp32(w / s), and e4m3(q) can differ from e4m3(fp32(w / s)) only when q lies within
// 2 ulp of an e4m3 rounding tie (we flag ≤ 4 ulp: mantissa bits [19:0] ≈ 0x80000) or in the e4m3
// subnormal range; vectors with such a lane (rare), or with a NaN, take the exact division and the
// full encoder, so the result is bit-identical. The common vector needs no subnormal or NaN handling:
// code = min((|q| + 0x7ffff + lsb − 120·2²³) >> 20, 0x7e) | sign, i.e. RNE on the top 3 mantissa
// bits with saturation (±Inf included) to ±448; the sign is taken from w (the reciprocal is positive).
static inline void fp8_encode_row(const float* __restrict__ w, uint8_t* __restrict__ out, int64_t n, const Fp8Scale& k) {
  int64_t c = 0;
#if defined(M1K_ISA_AVX512)
  const __m512 vs = _mm512_set1_ps(k.s), vr = _mm512_set1_ps(k.rcp);
  const __m512i mant20 = _mm512_set1_epi32(0xfffff), tie_lo = _mm512_set1_epi32(0x80000 - 4), win = _mm512_set1_epi32(8);
  const __m512i absm = _mm512_set1_epi32(0x7fffffff), lo = _mm512_set1_epi32(0x3c800000 + (3 << 20));
  const __m512i span = _mm512_set1_epi32(0x7f800000 - (0x3c800000 + (3 << 20)));
  const __m512i bias = _mm512_set1_epi32(static_cast<int32_t>(0x7ffffu - (120u << 23))), one = _mm512_set1_epi32(1);
  const __m512i sat = _mm512_set1_epi32(0x7e), sbit = _mm512_set1_epi32(0x80);
  for (; c + 16 <= n && !k.exact_only; c += 16) {
    const __m512 x = _mm512_loadu_ps(w + c);
    const __m512i a = _mm512_and_si512(_mm512_castps_si512(_mm512_mul_ps(x, vr)), absm);
    const __mmask16 risky = _mm512_cmple_epu32_mask(_mm512_and_si512(_mm512_sub_epi32(a, tie_lo), mant20), win) |
                            _mm512_cmpgt_epu32_mask(_mm512_sub_epi32(a, lo), span);  // tie, small, or NaN
    __m128i codes;
    if (risky) {
      codes = fp8_encode16(_mm512_mask_div_ps(x, _mm512_cmp_ps_mask(x, x, _CMP_ORD_Q), x, vs));  // NaN kept as is
    } else {
      const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(a, 20), one);
      __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(a, bias), lsb), 20);
      r = _mm512_min_epu32(r, sat);
      r = _mm512_ternarylogic_epi32(r, _mm512_srli_epi32(_mm512_castps_si512(x), 24), sbit, 0xF8);  // r | (sh & 0x80)
      codes = _mm512_cvtepi32_epi8(r);
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + c), codes);
  }
#elif defined(M1K_ISA_AVX2)
  const __m256 vs = _mm256_set1_ps(k.s), vr = _mm256_set1_ps(k.rcp);
  const __m256i mant20 = _mm256_set1_epi32(0xfffff), tie_lo = _mm256_set1_epi32(0x80000 - 4), win = _mm256_set1_epi32(9);
  const __m256i absm = _mm256_set1_epi32(0x7fffffff), lo = _mm256_set1_epi32(0x3c800000 + (3 << 20));
  const __m256i inf = _mm256_set1_epi32(0x7f800000);
  const __m256i bias = _mm256_set1_epi32(static_cast<int32_t>(0x7ffffu - (120u << 23))), one = _mm256_set1_epi32(1);
  const __m256i sat = _mm256_set1_epi32(0x7e), sbit = _mm256_set1_epi32(0x80);
  for (; c + 8 <= n && !k.exact_only; c += 8) {
    const __m256 x = _mm256_loadu_ps(w + c);
    const __m256i a = _mm256_and_si256(_mm256_castps_si256(_mm256_mul_ps(x, vr)), absm);  // 0 … 0x7fffffff: signed compares exact
    const __m256i risky = _mm256_or_si256(
        _mm256_cmpgt_epi32(win, _mm256_and_si256(_mm256_sub_epi32(a, tie_lo), mant20)),
        _mm256_or_si256(_mm256_cmpgt_epi32(lo, a), _mm256_cmpgt_epi32(a, inf)));
    __m128i codes;
    if (!_mm256_testz_si256(risky, risky)) {
      codes = fp8_encode8(_mm256_blendv_ps(x, _mm256_div_ps(x, vs), _mm256_cmp_ps(x, x, _CMP_ORD_Q)));
    } else {
      const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(a, 20), one);
      __m256i r = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(a, bias), lsb), 20);
      r = _mm256_min_epu32(r, sat);
      r = _mm256_or_si256(r, _mm256_and_si256(_mm256_srli_epi32(_mm256_castps_si256(x), 24), sbit));
      const __m128i p16 = _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
      codes = _mm_packus_epi16(p16, p16);
    }
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + c), codes);
  }
#endif
  for (; c < n; ++c) {
    const float x = w[c];
    out[c] = fp8_encode(x != x ? x : x / k.s);
  }
}

// One band of B rows in flight: its index, row count, per-block amax lanes and encode constants.
struct Fp8Band {
  int64_t br = -1, r0 = 0, rn = 0;
  uint32_t* m = nullptr;  // [nbc, 16]
  Fp8Scale* k = nullptr;  // [nbc]
  float* f = nullptr;     // [B, cols] the band widened to fp32 (bf16 input only)
  // Row r of the band as fp32.
  const float* row(const QuantArgs& a, int64_t r) const { return f ? f + r * a.cols : a.w + (r0 + r) * a.cols; }
};

// Block scales of a band from its amax lanes (a block holding Inf/NaN is redone with the masked exact
// reduction), stored to weight_scale_inv and kept as encode constants.
static inline void fp8_band_scales(const QuantArgs& a, int64_t nbc, const Fp8Band& b) {
  const int64_t B = a.group;
  for (int64_t bc = 0; bc < nbc; ++bc) {
    const uint32_t mb = max_lane(b.m + bc * 16);
    const int64_t c0 = bc * B;
    const float mx = mb < 0x7f800000u ? bits_f32(mb) : finite_amax(b.row(a, 0) + c0, std::min(B, a.cols - c0), b.rn, a.cols);
    float s = mx / 448.f;
    s = s > 0.f ? s : 1.f;
    b.k[bc] = fp8_scale(s);
    a.scale[b.br * nbc + bc] = s;
  }
}

// Work item = one band of B rows, claimed dynamically. A band needs two passes: the per-block amax
// (bit-pattern max, 16 lanes per block) over whole rows — long contiguous runs, so the hardware
// prefetchers stream them from DRAM — and the encode pass, which re-reads the band from cache. The
// passes of consecutive bands are software-pipelined row by row: encoding row r of band i (cached,
// compute-bound) is interleaved with the amax of row r of band i+1 (streamed from DRAM), so the
// DRAM stream overlaps the arithmetic instead of alternating with it.
static void quant_fp8(const QuantArgs& a) {
  const int64_t B = a.group, nbr = (a.rows + B - 1) / B, nbc = (a.cols + B - 1) / B;
  parallel_claim(nbr, a.threads, [&](auto claim) {
    Buf<uint32_t> mbuf;
    Buf<Fp8Scale> kbuf;
    Buf<float> fbuf;  // bf16 input: two bands widened to fp32, the one encoded and the one scanned
    uint32_t* m = mbuf.get(static_cast<size_t>(2 * nbc * 16));
    Fp8Scale* ks = kbuf.get(static_cast<size_t>(2 * nbc));
    float* f = a.wbf16 ? fbuf.get(static_cast<size_t>(2 * B * a.cols)) : nullptr;
    if (!m || !ks || (a.wbf16 && !f)) return;
    Fp8Band cur, nxt;
    cur.m = m, cur.k = ks, nxt.m = m + nbc * 16, nxt.k = ks + nbc;
    if (f) cur.f = f, nxt.f = f + B * a.cols;
    for (;;) {
      nxt.br = claim();
      const bool more = nxt.br < nbr;
      if (more) {
        nxt.r0 = nxt.br * B, nxt.rn = std::min(B, a.rows - nxt.r0);
        std::memset(nxt.m, 0, static_cast<size_t>(nbc * 16) * sizeof(uint32_t));
      } else {
        nxt.rn = 0;
      }
      const int64_t cn = cur.br >= 0 ? cur.rn : 0;
      for (int64_t r = 0; r < std::max(cn, nxt.rn); ++r) {
        if (r < nxt.rn) {
          const float* row = quant_row(a, nxt.r0 + r, nxt.f ? nxt.f + r * a.cols : nullptr);
          for (int64_t bc = 0; bc < nbc; ++bc) amax_bits_lanes(row + bc * B, std::min(B, a.cols - bc * B), nxt.m + bc * 16);
        }
        if (r < cn) {
          const int64_t off = (cur.r0 + r) * a.cols;
          const float* row = cur.row(a, r);
          for (int64_t bc = 0; bc < nbc; ++bc)
            fp8_encode_row(row + bc * B, a.codes + off + bc * B, std::min(B, a.cols - bc * B), cur.k[bc]);
        }
      }
      if (!more) break;
      fp8_band_scales(a, nbc, nxt);
      std::swap(cur, nxt);
    }
  });
  if (a.err) {
    const Fp8Table table;
    quant_error_sums(a, [&](int64_t r, int64_t c) { return table[a.codes[r * a.cols + c]] * a.scale[(r / B) * nbc + c / B]; });
  }
}

static inline void fp8_decode_row(const uint8_t* __restrict__ codes, const float* __restrict__ table, float* __restrict__ out,
                                  int64_t n, float s) {
  for (int64_t c = 0; c < n; ++c) out[c] = table[codes[c]] * s;
}

static void dequant_fp8(const QuantArgs& a) {
  const Fp8Table table;
  const int64_t B = a.group, nbc = (a.cols + B - 1) / B;
  parallel_for(a.rows, a.threads, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t b = 0; b < nbc; ++b) {
        const int64_t c0 = b * B, cn = std::min(B, a.cols - c0);
        fp8_decode_row(a.codes + r * a.cols + c0, table.v, a.out + r * a.cols + c0, cn, a.scale[(r / B) * nbc + b]);
      }
  });
}

}  // namespace M1K_ISA_NS
}  // namespace m1k
