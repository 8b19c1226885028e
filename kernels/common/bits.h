// Bit views of fp32 and the bf16 rounding, one definition for the CPU kernels of every instruction set
// and the CUDA kernels (M1K_HD: host and device code under nvcc; plain functions elsewhere).
// Bit-exact with src/core/dtype/convert.ts: fp32 → bf16 rounds to nearest even and keeps a NaN a quiet
// NaN with its sign, the rounding of __float2bfloat16_rn.
// Every function has internal linkage, so each per-ISA translation unit keeps the copy compiled with
// its own flags (no ODR merge across the m1k_<level> libraries).
#pragma once
#include <cstdint>
#include <cstring>

#ifdef __CUDACC__
#define M1K_HD __host__ __device__
#else
#define M1K_HD
#endif

namespace m1k {

// The bits of x as another type of the same size (C++20's std::bit_cast); a register move once inlined.
template <class To, class From>
static M1K_HD inline To bit_cast(const From& x) {
  static_assert(sizeof(To) == sizeof(From), "bit_cast needs two types of one size");
  To t;
  std::memcpy(&t, &x, sizeof t);
  return t;
}

static M1K_HD inline uint32_t f32_bits(float f) { return bit_cast<uint32_t>(f); }
static M1K_HD inline float bits_f32(uint32_t u) { return bit_cast<float>(u); }

// fp32 bits → bf16 bits.
static M1K_HD inline uint16_t bf16_of_bits(uint32_t b) {
  if ((b & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((b >> 16) | 0x40u);
  return static_cast<uint16_t>((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
}

// bf16 bits → fp32 (exact: 16 zero bits appended).
static M1K_HD inline float bf16_f32(uint16_t h) { return bits_f32(static_cast<uint32_t>(h) << 16); }

// fp32 → bf16 → fp32 (the same rounding as bf16_of_bits, without leaving 32 bits).
static M1K_HD inline float round_bf16(float f) {
  uint32_t u = f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) u |= 0x00400000u;
  else u = u + 0x7fffu + ((u >> 16) & 1u);
  return bits_f32(u & 0xffff0000u);
}

}  // namespace m1k
