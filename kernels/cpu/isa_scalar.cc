// Kernel table compiled for the scalar instruction set (flags in binding.gyp, target m1k_scalar).

#define M1K_ISA_NS scalar
#define M1K_ISA_NAME "scalar"
#include "table_impl.h"

namespace m1k {
const KernelTable* table_scalar() { return &scalar::kTable; }
}  // namespace m1k
