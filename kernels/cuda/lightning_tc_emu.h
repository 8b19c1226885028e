// Host emulation of the tensor-core lightning prefill; see lightning_tc_emu.cc.
#pragma once
#include <cstdint>
#include <cstdio>

namespace m1kc {
namespace tc {

/**
 * The GPU prefill's decomposition run on the host: q, k, v, o [n, h, d] fp32 (q, k, v rounded to bf16
 * as on upload), state [h, d, d] fp32 in/out, slopes [h]. seg: tokens per segment (a multiple of the
 * chunk length; 0 chooses what the GPU path would). Returns 0, or 1 with a message in err.
 */
int emulate_prefill(const float* q, const float* k, const float* v, float* o, float* state, const float* slopes, int64_t n,
                    int h, int d, int64_t seg, char* err, int errlen);

}  // namespace tc
}  // namespace m1kc
