#pragma once
#include <string>
#include <vector>
#include "../common/status.h"
#include "kernels.h"

namespace m1k {
// Names of the kernel tables this CPU can run, best first.
std::vector<std::string> available_isas();
// Select "auto" (best available) or a named table; fails if the CPU lacks it.
Status select_isa(const std::string& requested);
// Table in use (selects "auto" on first use).
const KernelTable* current();
}  // namespace m1k
