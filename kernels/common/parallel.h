// parallel_for(n, threads, f): runs f(begin, end) on up to `threads` contiguous slices of [0, n).
// The calling thread takes the first slice; the others run on short-lived std::threads (one native
// call = one parallel region, so a pool would save little). No exceptions escape: a failed thread
// creation runs the slice on the caller instead. Every worker runs with the caller's MXCSR (FTZ/DAZ
// set by a compute kernel's FlushDenormals reach all cores; see fpenv.h).
#pragma once
#include <algorithm>
#include <cstdint>
#include <system_error>
#include <thread>
#include "fpenv.h"

namespace m1k {

template <class F>
void parallel_for(int64_t n, int threads, F&& f) {
  if (n <= 0) return;
  constexpr int64_t kMaxThreads = 256;
  int64_t t = std::max<int64_t>(1, std::min<int64_t>(std::min<int64_t>(threads, n), kMaxThreads));
  if (t == 1) {
    f(int64_t{0}, n);
    return;
  }
  std::thread pool[kMaxThreads];  // no std::vector: see the ODR note in cpu/vec.h
  auto slice = [&](int64_t i) { return n * i / t; };
  const unsigned mode = fp_mode_get();
  for (int64_t i = 1; i < t; ++i) {
    int64_t b = slice(i), e = slice(i + 1);
    try {
      pool[i] = std::thread([&f, b, e, mode] {
        InheritFpMode env(mode);
        f(b, e);
      });
    } catch (const std::system_error&) {
      f(b, e);
    }
  }
  f(int64_t{0}, slice(1));
  for (int64_t i = 1; i < t; ++i)
    if (pool[i].joinable()) pool[i].join();
}

}  // namespace m1k
