// Kernel table compiled for the avx2 instruction set (flags in binding.gyp, target m1k_avx2).
#define M1K_ISA_AVX2 1
#define M1K_ISA_NS avx2
#define M1K_ISA_NAME "avx2"
#include "table_impl.h"

namespace m1k {
const KernelTable* table_avx2() { return &avx2::kTable; }
}  // namespace m1k
