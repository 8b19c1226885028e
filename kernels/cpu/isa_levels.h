// The instruction-set levels m1kit knows, best first: the one list that declares each level's table
// (kernels.h), orders the run-time choice and tests the CPU for it (dispatch.cc), and that the addon
// reports (info().simdLevels, info().simdLanes). A level's sources are cpu/isa_<level>.cc, built by the
// m1k_<level> target of binding.gyp with that level's compiler flags.
//   X(level, fp32 lanes of its vectors, x86-only (1/0), CPU test (x86 builds; dispatch.cc's helpers))
// amx and avx512bf16 are partial levels: they provide a few slots, the rest come from the levels below.
#pragma once

#define M1K_ISA_LEVELS(X)                                                                                         \
  X(amx, 16, 1, avx512_base() && has_feature("avx512bf16") && has_feature("amx-tile") && has_feature("amx-bf16") && \
                    amx_permitted())                                                                              \
  X(avx512bf16, 16, 1, avx512_base() && has_feature("avx512bf16"))                                                \
  X(avx512, 16, 1, avx512_base())                                                                                 \
  X(avx2, 8, 1, has_feature("avx2") && has_feature("fma") && has_feature("f16c"))                                 \
  X(scalar, 1, 0, true)
