// Kernel table compiled for the avx512 instruction set (flags in binding.gyp, target m1k_avx512).
#define M1K_ISA_AVX512 1
#define M1K_ISA_NS avx512
#define M1K_ISA_NAME "avx512"
#include "table_impl.h"

namespace m1k {
const KernelTable* table_avx512() { return &avx512::kTable; }
}  // namespace m1k
