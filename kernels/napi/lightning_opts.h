// Reads the arrays and shape of a lightning call, shared by the CPU entry points and the CUDA bridge:
// q, k, v, o [n, h, d], state [h, d, d], slopes [h], with 1 ≤ d ≤ max_d. block and threads are left
// at 1 for the caller to set.
#pragma once
#include "../cpu/kernels.h"
#include "args.h"

namespace m1k {

inline LightningArgs lightning_opts(const Napi::Object& o, Keep& keep, int max_d) {
  LightningArgs a{};
  a.n = integer(o, "n", 0, kMaxDim);
  a.h = static_cast<int>(integer(o, "h", 1, 1 << 20));
  a.d = static_cast<int>(integer(o, "d", 1, max_d));
  a.block = 1;
  a.threads = 1;
  const int64_t nhd = a.n * a.h * a.d;
  a.q = typed<float>(o, "q", napi_float32_array, nhd, keep).data;
  a.k = typed<float>(o, "k", napi_float32_array, nhd, keep).data;
  a.v = typed<float>(o, "v", napi_float32_array, nhd, keep).data;
  a.o = typed<float>(o, "o", napi_float32_array, nhd, keep).data;
  a.state = typed<float>(o, "state", napi_float32_array, int64_t{a.h} * a.d * a.d, keep).data;
  a.slopes = typed<float>(o, "slopes", napi_float32_array, a.h, keep).data;
  return a;
}

}  // namespace m1k
