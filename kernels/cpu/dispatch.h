#pragma once
#include <string>
#include <utility>
#include <vector>
#include "../common/status.h"
#include "kernels.h"

namespace m1k {
// Every instruction-set level m1kit knows, best first (isa_levels.h).
std::vector<std::string> isa_levels();
// (level, fp32 lanes of its vectors) for every level, best first.
std::vector<std::pair<std::string, int>> isa_lanes();
// Levels this build and CPU can run, best first.
std::vector<std::string> available_isas();
// Why a level the CPU advertises is not used (AMX tile permission refused), or "".
std::string isa_note();
// Select "auto" (best available) or a named level; fails if the CPU lacks it.
Status select_isa(const std::string& requested);
// Merged table of the selected level (selects "auto" on first use).
const KernelTable* current();
// (slot, level that fills it) for the selected level; "" for a slot no usable level provides.
std::vector<std::pair<std::string, std::string>> slot_sources();
}  // namespace m1k
