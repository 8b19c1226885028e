// Quantization error over sampled row blocks, computed in the same native call as the quantization
// (one round trip per band instead of one per sampled block): the codes just written are decoded
// exactly as the dequantizers do (one fp32 multiply) and compared with the input in float64.
#pragma once
#include <mutex>
#include "quant_common.h"

namespace m1k {
namespace M1K_ISA_NS {

// Adds {Σ ref², Σ (deq − ref)², max |deq − ref|} over the finite differences of the sampled blocks to
// a.err. deq(r, c) is the dequantized value of element (r, c) as an fp32.
template <class Deq>
static void quant_error_sums(const QuantArgs& a, Deq deq) {
  if (!a.err || a.err_unit <= 0 || a.err_stride <= 0) return;
  const int64_t U = a.err_unit, nb = (a.rows + U - 1) / U;
  std::mutex mu;
  parallel_for(nb, a.threads, [&](int64_t b0, int64_t b1) {
    double s = 0, e = 0, m = 0;
    for (int64_t b = b0; b < b1; ++b) {
      if ((a.err_block0 + b) % a.err_stride != 0) continue;
      for (int64_t r = b * U, r1 = std::min(a.rows, r + U); r < r1; ++r)
        for (int64_t c = 0; c < a.cols; ++c) {
          const int64_t i = r * a.cols + c;
          const double ref = a.wbf16 ? static_cast<double>(bits_f32(static_cast<uint32_t>(a.wbf16[i]) << 16)) : static_cast<double>(a.w[i]);
          const double d = static_cast<double>(deq(r, c)) - ref;
          if (!(d - d == 0)) continue;  // ±Inf or NaN on either side
          s += ref * ref;
          e += d * d;
          m = std::fabs(d) > m ? std::fabs(d) : m;
        }
    }
    std::lock_guard<std::mutex> lock(mu);
    a.err[0] += s;
    a.err[1] += e;
    a.err[2] = m > a.err[2] ? m : a.err[2];
  });
}

}  // namespace M1K_ISA_NS
}  // namespace m1k
