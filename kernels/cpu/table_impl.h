// Assembles the KernelTable of one base instruction set (every slot but bf16_peak). Included once by each isa_<name>.cc, which
// defines M1K_ISA_NS (namespace) and M1K_ISA_NAME before including this file.
#pragma once
#include <cstring>
#include "chain_probe.h"
#include "convert_impl.h"
#include "gemm_impl.h"
#include "lightning_impl.h"
#include "fp8_impl.h"
#include "int_quant_impl.h"
#include "mx_impl.h"
#include "softmax_impl.h"

namespace m1k {
namespace M1K_ISA_NS {

// FMA throughput probe: 12 independent FMA chains per thread (chain_probe.h); returns their checksum.
static double fma_peak(int64_t iters, int threads) {
  return chain_probe<vf>(
      iters, threads, [](int i) { return vset1(static_cast<float>(i) * 1e-3f); },
      [](vf a) { return vfma(a, vset1(0.999999f), vset1(1e-7f)); }, [](vf a) { return vsum(a); });
}

static void copy(const float* src, float* dst, int64_t n, int threads) {
  parallel_for((n + (1 << 20) - 1) >> 20, threads, [&](int64_t b, int64_t e) {
    const int64_t i0 = b << 20, i1 = std::min(n, e << 20);
    std::memcpy(dst + i0, src + i0, static_cast<size_t>(i1 - i0) * 4);
  });
}

// In-place stream: every float read and written once (the memory traffic of a decode step).
static volatile float g_stream_factor = 1.f;
static void stream(float* buf, int64_t n, int threads) {
  const float f = g_stream_factor;
  parallel_for((n + (1 << 20) - 1) >> 20, threads, [&](int64_t b, int64_t e) {
    const int64_t i1 = std::min(n, e << 20);
    int64_t i = b << 20;
    const vf vfac = vset1(f);
    for (; i + VW <= i1; i += VW) vstore(buf + i, vmul(vload(buf + i), vfac));
    for (; i < i1; ++i) buf[i] *= f;
  });
}

// Every slot of a base level, filled by name (a missing function is a compile error here).
static KernelTable make_table() {
  KernelTable t;
  t.name = M1K_ISA_NAME;
#define M1K_FILL(slot) t.slot = &slot;
#define M1K_FILL_SLOT(slot, ret, params) M1K_FILL(slot)
  M1K_COMPUTE_SLOTS(M1K_FILL_SLOT)
#undef M1K_FILL_SLOT
  M1K_FILL(quant_amax) M1K_FILL(fma_peak) M1K_FILL(copy) M1K_FILL(stream)
  // the quant slots: quant_<name> and dequant_<name> of every format in M1K_QUANT_FORMATS
#define M1K_FILL_QUANT(P, name, ...) M1K_FILL(quant_##name) M1K_FILL(dequant_##name)
  M1K_QUANT_FORMATS(M1K_FILL_QUANT, _)
#undef M1K_FILL_QUANT
#undef M1K_FILL
  return t;  // bf16_peak: only levels with a bf16 dot-product instruction (isa_avx512bf16.cc, isa_amx.cc)
}

static const KernelTable kTable = make_table();

}  // namespace M1K_ISA_NS
}  // namespace m1k
