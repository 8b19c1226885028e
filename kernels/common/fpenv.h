// Floating-point environment of the fp32 compute kernels (attention, GEMM, peak probes).
//
// FlushDenormals sets FTZ (results below 2^-126 become ±0) and DAZ (subnormal inputs read as ±0) in
// MXCSR for its lifetime and restores the caller's MXCSR when it ends, so a kernel never takes the
// microcode assists some CPUs charge for every subnormal operand, and the caller (a libuv worker, or
// the JS thread for a synchronous call) gets its own mode back.
// parallel_for (parallel.h) reads the spawning thread's MXCSR and installs it in every worker thread,
// so the mode of the entry point holds on every core.
//
// The exact kernels (quantizers, conversions) do not flush: they are bit-exact with their TypeScript
// references, subnormal inputs included, and run in the caller's IEEE mode.
#pragma once
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace m1k {

constexpr unsigned kMxcsrFtz = 1u << 15;
constexpr unsigned kMxcsrDaz = 1u << 6;

static inline unsigned fp_mode_get() {
#if defined(__x86_64__) || defined(__i386__)
  return _mm_getcsr();
#else
  return 0;
#endif
}

static inline void fp_mode_set(unsigned m) {
#if defined(__x86_64__) || defined(__i386__)
  _mm_setcsr(m);
#else
  (void)m;
#endif
}

class FlushDenormals {
 public:
  FlushDenormals() : saved_(fp_mode_get()) { fp_mode_set(saved_ | kMxcsrFtz | kMxcsrDaz); }
  ~FlushDenormals() { fp_mode_set(saved_); }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  unsigned saved_;
};

// Installs a given MXCSR (a worker inheriting its spawner's mode) and restores the thread's own.
class InheritFpMode {
 public:
  explicit InheritFpMode(unsigned m) : saved_(fp_mode_get()) { fp_mode_set(m); }
  ~InheritFpMode() { fp_mode_set(saved_); }
  InheritFpMode(const InheritFpMode&) = delete;
  InheritFpMode& operator=(const InheritFpMode&) = delete;

 private:
  unsigned saved_;
};

}  // namespace m1k
