// Run-time choice of the kernel table: AVX-512 → AVX2+FMA → scalar, or a forced name.
// The request comes from the TypeScript facade (which reads M1KIT_SIMD); no policy here.
#include "dispatch.h"

#include <atomic>
#include <cstring>

namespace m1k {

static bool cpu_has(const char* isa) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (std::strcmp(isa, "avx512") == 0)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("f16c");
  if (std::strcmp(isa, "avx2") == 0)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#endif
  return std::strcmp(isa, "scalar") == 0;
}

static const KernelTable* table_by_name(const char* isa) {
#if defined(M1K_HAVE_X86_ISAS)
  if (std::strcmp(isa, "avx512") == 0) return table_avx512();
  if (std::strcmp(isa, "avx2") == 0) return table_avx2();
#endif
  if (std::strcmp(isa, "scalar") == 0) return table_scalar();
  return nullptr;
}

std::vector<std::string> available_isas() {
  std::vector<std::string> out;
  for (const char* isa : {"avx512", "avx2", "scalar"})
    if (table_by_name(isa) && cpu_has(isa)) out.emplace_back(isa);
  return out;
}

static std::atomic<const KernelTable*> g_table{nullptr};

Status select_isa(const std::string& requested) {
  if (requested.empty() || requested == "auto") {
    for (const char* isa : {"avx512", "avx2", "scalar"})
      if (table_by_name(isa) && cpu_has(isa)) {
        g_table.store(table_by_name(isa));
        return Status::Ok();
      }
  }
  const KernelTable* t = table_by_name(requested.c_str());
  if (!t) return Status::Error("E_SIMD_UNKNOWN", "unknown SIMD path \"" + requested + "\" (expected auto, scalar, avx2 or avx512)");
  if (!cpu_has(requested.c_str()))
    return Status::Error("E_SIMD_UNSUPPORTED", "this CPU does not support the " + requested + " kernels");
  g_table.store(t);
  return Status::Ok();
}

const KernelTable* current() {
  const KernelTable* t = g_table.load();
  if (!t) {
    select_isa("auto");
    t = g_table.load();
  }
  return t;
}

}  // namespace m1k
