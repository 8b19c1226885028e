// Slots of the avx512bf16 level (AVX-512 + AVX512-BF16: vdpbf16ps; flags in binding.gyp, target
// m1k_avx512bf16): the bf16 GEMMs, the bf16 lightning prefill and the bf16 peak probe. Every other slot comes from the avx512 level.
#pragma GCC diagnostic ignored "-Wunused-function"  // the shared headers define every slot; this level keeps a few
#define M1K_ISA_AVX512 1
#define M1K_ISA_NS avx512bf16
#define M1K_ISA_NAME "avx512bf16"
#include "gemm_bf16_impl.h"
#include "lightning_bf16_impl.h"
#include "partial_table.h"

namespace m1k {
namespace avx512bf16 {
static const KernelTable kTable = partial_table(M1K_ISA_NAME, [](KernelTable& t) {
  t.gemm_bf16 = &gemm_bf16_dp;
  t.lightning_prefill_bf16 = &lightning_prefill_bf16_dp;
  t.gemm_grouped = &gemm_grouped_dp;
  t.bf16_peak = &bf16_peak;
});
}  // namespace avx512bf16
const KernelTable* table_avx512bf16() { return &avx512bf16::kTable; }
}  // namespace m1k
