// The loop shared by the throughput probes (fma_peak in table_impl.h, bf16_peak in gemm_bf16_impl.h): on
// each of `threads` workers, kChains independent accumulator chains (enough to cover the instruction's
// latency) each advanced `iters` times by step(acc), FTZ/DAZ set; returns the sum of every chain's
// final value (a checksum that keeps the work from being optimised out).
#pragma once
#include <algorithm>
#include <cstdint>
#include "../common/parallel.h"

namespace m1k {
namespace M1K_ISA_NS {

constexpr int kChains = 12;

template <class V, class Init, class Step, class Sum>
static double chain_probe(int64_t iters, int& threads, Init init, Step step, Sum sum) {
  FlushDenormals ftz;
  double part[256] = {0};
  threads = std::max(1, std::min(threads, 256));
  parallel_for(threads, threads, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      V acc[kChains];
      for (int i = 0; i < kChains; ++i) acc[i] = init(i);
      for (int64_t it = 0; it < iters; ++it)
        for (int i = 0; i < kChains; ++i) acc[i] = step(acc[i]);
      float s = 0.f;
      for (int i = 0; i < kChains; ++i) s += sum(acc[i]);
      part[t] = s;
    }
  });
  double s = 0;
  for (int t = 0; t < threads; ++t) s += part[t];
  return s;
}

}  // namespace M1K_ISA_NS
}  // namespace m1k
