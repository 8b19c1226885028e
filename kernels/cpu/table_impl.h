// Assembles the KernelTable of one instruction set. Included once by each isa_<name>.cc, which
// defines M1K_ISA_NS (namespace) and M1K_ISA_NAME before including this file.
#pragma once
#include <cstring>
#include "convert_impl.h"
#include "gemm_impl.h"
#include "lightning_impl.h"
#include "fp8_impl.h"
#include "int_quant_impl.h"
#include "softmax_impl.h"

namespace m1k {
namespace M1K_ISA_NS {

// FMA throughput probe: 12 independent accumulator chains per thread (enough to cover FMA latency).
static double fma_peak(int64_t iters, int threads) {
  FlushDenormals ftz;
  double part[256] = {0};
  threads = std::max(1, std::min(threads, 256));
  parallel_for(threads, threads, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      vf acc[12];
      for (int i = 0; i < 12; ++i) acc[i] = vset1(static_cast<float>(i) * 1e-3f);
      const vf m = vset1(0.999999f), c = vset1(1e-7f);
      for (int64_t it = 0; it < iters; ++it)
        for (int i = 0; i < 12; ++i) acc[i] = vfma(acc[i], m, c);
      float s = 0.f;
      for (int i = 0; i < 12; ++i) s += vsum(acc[i]);
      part[t] = s;
    }
  });
  double s = 0;
  for (int t = 0; t < threads; ++t) s += part[t];
  return s;
}

static void copy(const float* src, float* dst, int64_t n, int threads) {
  parallel_for((n + (1 << 20) - 1) >> 20, threads, [&](int64_t b, int64_t e) {
    const int64_t i0 = b << 20, i1 = std::min(n, e << 20);
    std::memcpy(dst + i0, src + i0, static_cast<size_t>(i1 - i0) * 4);
  });
}

static const KernelTable kTable = {
    M1K_ISA_NAME,   lightning_prefill, lightning_decode, softmax_attention, gemm,       bf16_to_f32,
    f32_to_bf16,    f32_to_f16,        quant_fp8,        dequant_fp8,       quant_int8, dequant_int8,
    quant_int4,     dequant_int4,      fma_peak,         copy,
};

}  // namespace M1K_ISA_NS
}  // namespace m1k
