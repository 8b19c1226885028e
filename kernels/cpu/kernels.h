// Kernel table: one instance per instruction-set level (isa_levels.h), chosen slot by slot at run time.
// All tensors are token-major and contiguous; shapes are in the comments. Arguments are validated by
// the caller (TypeScript facade + N-API layer); these functions only compute.
#pragma once
#include <cmath>
#include <cstdint>
#include "isa_levels.h"

namespace m1k {

// Lightning decay powers exp(−s·p) below this are taken as 0 (kernels and TypeScript references alike).
constexpr double kDecayFloor = 0x1p-60;
static inline float decay_pow(double s, double p) {
  const double e = std::exp(-s * p);
  return e < kDecayFloor ? 0.f : static_cast<float>(e);
}

struct LightningArgs {
  const float* q;       // [n, h, d]
  const float* k;       // [n, h, d]
  const float* v;       // [n, h, d]
  float* o;             // [n, h, d] output
  float* state;         // [h, d, d] in/out, S[a][b] with o = q·S
  const float* slopes;  // [h], decay λ = exp(−s)
  int64_t n;
  int h, d, block, threads;
};

struct SoftmaxArgs {
  const float* q;  // [n, hq, d] (RoPE already applied)
  const float* k;  // [nk, hkv, d]
  const float* v;  // [nk, hkv, d]
  float* o;        // [n, hq, d]
  int64_t n, nk;   // query i sits at absolute key position nk − n + i
  int hq, hkv, d, threads;
  float scale;
};

struct GemmArgs {
  const float* x;  // [m, k]
  const void* w;   // [nOut, k], bf16 bits (wBf16) or fp32
  bool wBf16;
  float* y;        // [m, nOut] = x·Wᵀ
  int64_t m, k, nOut;
  int threads;
};

struct QuantArgs {
  const float* w;    // [rows, cols]
  const uint16_t* wbf16;  // or the same as bf16 bit patterns (quantize only; w is then unused)
  int64_t rows, cols;
  int group;         // fp8: block edge (128); int4: group size; int8: unused
  bool bf16Scale;    // int8/int4: round the scale to bf16 before use
  int threads;
  uint8_t* codes;    // fp8 codes / int8 q (as bytes) [rows, cols]
  int32_t* packed;   // int4 [rows, ceil(cols/8)]
  float* scale;      // fp8 [ceil(rows/block), ceil(cols/block)]; int8 [rows]; int4 [rows, ceil(cols/group)]
  float* out;        // dequantize output [rows, cols]
  // nvfp4 / mxfp4: codes = packed E2M1 pairs [rows, ceil(cols/2)]; mxfp8: codes = E4M3 [rows, cols].
  uint8_t* scale8;   // nvfp4: E4M3 group scales [rows, ceil(cols/16)]; mx: E8M0 block scales [rows, ceil(cols/32)]
  float gscale;      // nvfp4: the tensor's global scale
  // Quantize only, when err is set: add {Σ ref², Σ (deq − ref)², max |deq − ref|} (float64, finite
  // differences only) over the blocks of err_unit rows whose index err_block0 + b is a multiple of
  // err_stride (b counts blocks from row 0 of this call).
  double* err;
  int64_t err_unit, err_stride, err_block0;
};

// Grouped GEMM of the MoE experts: expert e multiplies its `rows[e]` consecutive rows of x (starting
// at row offset[e]) by its own weight W_e [nOut, k] (w + e·nOut·k), writing the same rows of y.
struct GroupedGemmArgs {
  const float* x;         // [Σ rows, k], rows grouped by expert
  const void* w;          // [experts, nOut, k], bf16 bits (wBf16) or fp32
  bool wBf16;
  float* y;               // [Σ rows, nOut]
  const int64_t* offset;  // [experts] first row of each expert
  const int64_t* rows;    // [experts] rows (routed tokens) of each expert, may be 0
  int64_t experts, k, nOut;
  int threads;
  bool bf16;              // true: activations rounded to bf16 (the gemm_bf16 numerics), else gemm's
};

// The quantized storage formats with native kernels, one line each (the TypeScript side is one module in
// src/core/formats/). Each gives two slots, quant_<name> and dequant_<name> (void(const QuantArgs&)),
// that every instruction-set table fills by name, and the buffers the N-API entry checks (R rows, C cols,
// G group):
//   X(P, name, codes element type (int32_t: QuantArgs::packed, else the bytes of ::codes), codes count,
//     scale element type (float: ::scale, uint8_t: ::scale8), scale count, fixed group (0: the caller's),
//     whether it takes a global scale (::gscale))
// P is passed through unchanged (the slot list hands its own X-macro down with it).
// The fixed groups of the microscaled formats, read by their kernels (mx_impl.h) and by the N-API
// entry's buffer checks (through the list below) alike.
constexpr int64_t kNvGroup = 16;  // NVFP4: one E4M3 scale per 16 elements
constexpr int64_t kMxBlock = 32;  // MXFP4/MXFP8: one E8M0 scale per 32 elements

#define M1K_QUANT_FORMATS(X, P)                                                                       \
  X(P, fp8, uint8_t, R * C, float, ((R + G - 1) / G) * ((C + G - 1) / G), 0, false)                   \
  X(P, int8, int8_t, R * C, float, R, 1, false)                                                       \
  X(P, int4, int32_t, R * ((C + 7) / 8), float, R * ((C + G - 1) / G), 0, false)                      \
  X(P, nvfp4, uint8_t, R * ((C + 1) / 2), uint8_t, R * ((C + G - 1) / G), kNvGroup, true)                   \
  X(P, mxfp4, uint8_t, R * ((C + 1) / 2), uint8_t, R * ((C + G - 1) / G), kMxBlock, false)                  \
  X(P, mxfp8, uint8_t, R * C, uint8_t, R * ((C + G - 1) / G), kMxBlock, false)

#define M1K_QUANT_SLOT_PAIR(X, name, ...)         \
  X(quant_##name, void, (const QuantArgs&))       \
  X(dequant_##name, void, (const QuantArgs&))

// The attention, GEMM and conversion slots: every base level (table_impl.h) fills each of them.
//   X(slot, return type, parameter list)
#define M1K_COMPUTE_SLOTS(X)                                                             \
  X(lightning_prefill, void, (const LightningArgs&))                                     \
  X(lightning_prefill_bf16, void, (const LightningArgs&))                                \
  X(lightning_decode, void, (const LightningArgs&))                                      \
  X(softmax_attention, void, (const SoftmaxArgs&))                                       \
  X(gemm, void, (const GemmArgs&))                                                       \
  X(gemm_bf16, void, (const GemmArgs&))                                                  \
  X(gemm_grouped, void, (const GroupedGemmArgs&))                                        \
  X(bf16_to_f32, void, (const uint16_t* src, float* dst, int64_t n, int threads))        \
  X(f32_to_bf16, void, (const float* src, uint16_t* dst, int64_t n, int threads))        \
  X(f32_to_f16, void, (const float* src, uint16_t* dst, int64_t n, int threads))

// The kernel slots, by name. Every instruction-set file fills slots by name (t.gemm = gemm), so a
// slot cannot be filled with another slot's function by position; a slot an instruction set does not
// provide stays null and is filled from the next lower level (dispatch.cc).
//   X(slot, return type, parameter list)
#define M1K_KERNEL_SLOTS(X)                                                              \
  M1K_COMPUTE_SLOTS(X)                                                                   \
  M1K_QUANT_FORMATS(M1K_QUANT_SLOT_PAIR, X)                                              \
  X(quant_amax, float, (const QuantArgs&))                                               \
  X(fma_peak, double, (int64_t iters, int threads))                                      \
  X(bf16_peak, double, (int64_t iters, int threads))                                     \
  X(copy, void, (const float* src, float* dst, int64_t n, int threads))                  \
  X(stream, void, (float* buf, int64_t n, int threads))

// Probes for benchmarks: fma_peak (fp32 FMA chains; returns a checksum), bf16_peak (vdpbf16ps or AMX
// chains, returns the FLOPs executed; only levels that have such an instruction fill it, so it may
// stay null), copy (threaded
// memcpy) and stream (an in-place read-modify-write of one buffer, the traffic of a decode step).

struct KernelTable {
  const char* name = nullptr;  // the level that was selected
#define M1K_SLOT_FIELD(slot, ret, params) ret(*slot) params = nullptr;
  M1K_KERNEL_SLOTS(M1K_SLOT_FIELD)
#undef M1K_SLOT_FIELD
};

enum SlotId : int {
#define M1K_SLOT_ID(slot, ret, params) kSlot_##slot,
  M1K_KERNEL_SLOTS(M1K_SLOT_ID)
#undef M1K_SLOT_ID
  kSlotCount
};

// Partial tables of each instruction-set level (null when the build has no such level).
#define M1K_ISA_TABLE_DECL(level, lanes, x86, cpu) const KernelTable* table_##level();
M1K_ISA_LEVELS(M1K_ISA_TABLE_DECL)
#undef M1K_ISA_TABLE_DECL

}  // namespace m1k
