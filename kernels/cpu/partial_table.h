// The KernelTable of a partial level (isa_levels.h: amx, avx512bf16): its name and the few slots that
// fill(t) sets; dispatch.cc takes every other slot from the levels below it.
#pragma once
#include "kernels.h"

namespace m1k {

template <class Fill>
static KernelTable partial_table(const char* name, Fill&& fill) {
  KernelTable t;
  t.name = name;
  fill(t);
  return t;
}

}  // namespace m1k
