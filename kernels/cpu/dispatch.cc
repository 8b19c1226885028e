// Run-time choice of the kernels, as data: the list of instruction-set levels (isa_levels.h), best first. Selecting a
// level fills every slot from the first level at or below it that this CPU runs and that provides
// the slot (an upper level may provide only a few slots, e.g. AMX only GEMM), so each slot is the best
// implementation that exists for it. The request comes from the TypeScript facade (M1KIT_SIMD); no
// policy here.
#include "dispatch.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace m1k {

namespace {

const char* const kSlotNames[] = {
#define M1K_SLOT_NAME(slot, ret, params) #slot,
    M1K_KERNEL_SLOTS(M1K_SLOT_NAME)
#undef M1K_SLOT_NAME
};

std::string g_amx_note;  // why AMX is not used although the CPU has it (empty otherwise)

#if defined(__x86_64__) || defined(__i386__)
bool avx512_base() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

// Linux gives a process the AMX tile data state only on request (arch_prctl ARCH_REQ_XCOMP_PERM).
bool amx_permitted() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
#if defined(__linux__) && defined(__x86_64__)
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0) {
      ok = true;
    } else {
      g_amx_note = std::string("the CPU has AMX but Linux refused the tile-data permission (arch_prctl ARCH_REQ_XCOMP_PERM: ") +
                   std::strerror(errno) + "); AMX kernels disabled, the avx512bf16 kernels are used instead";
    }
#else
    g_amx_note = "AMX kernels need Linux (arch_prctl tile permission); disabled";
#endif
  });
  return ok;
}
#define has_feature(f) __builtin_cpu_supports(f)
// Per level: whether this CPU runs it (the test of isa_levels.h).
#define M1K_ISA_CPU(level, lanes, x86, cpu) \
  bool cpu_##level() {                      \
    __builtin_cpu_init();                   \
    return cpu;                             \
  }
#else
#define M1K_ISA_CPU(level, lanes, x86, cpu) \
  bool cpu_##level() { return !(x86); }
#endif
M1K_ISA_LEVELS(M1K_ISA_CPU)
#ifdef has_feature
#undef has_feature
#endif
#undef M1K_ISA_CPU

struct Level {
  const char* name;
  const KernelTable* (*table)();
  bool (*cpu)();
  int lanes;
};

const Level kLevels[] = {
#define M1K_ISA_LEVEL(level, lanes, x86, cpu) {#level, table_##level, cpu_##level, lanes},
    M1K_ISA_LEVELS(M1K_ISA_LEVEL)
#undef M1K_ISA_LEVEL
};
constexpr int kLevelCount = static_cast<int>(sizeof(kLevels) / sizeof(kLevels[0]));

bool cpu_has(int level) { return kLevels[level].cpu(); }

bool usable(int level) { return kLevels[level].table() != nullptr && cpu_has(level); }

int level_index(const std::string& name) {
  for (int i = 0; i < kLevelCount; ++i)
    if (name == kLevels[i].name) return i;
  return -1;
}

// The merged table of one level and, per slot, the level that filled it.
struct Selection {
  KernelTable table;
  const char* from[kSlotCount] = {};
};

Selection merge(int top) {
  Selection s;
  s.table.name = kLevels[top].name;
  for (int i = top; i < kLevelCount; ++i) {
    if (!usable(i)) continue;
    const KernelTable* p = kLevels[i].table();
#define M1K_SLOT_MERGE(slot, ret, params) \
  if (!s.table.slot && p->slot) {         \
    s.table.slot = p->slot;               \
    s.from[kSlot_##slot] = kLevels[i].name; \
  }
    M1K_KERNEL_SLOTS(M1K_SLOT_MERGE)
#undef M1K_SLOT_MERGE
  }
  return s;
}

Selection g_sel[kLevelCount];
std::atomic<int> g_level{-1};
std::mutex g_mu;

}  // namespace

// Builds without the x86 levels: their tables are absent.
#if !defined(M1K_HAVE_X86_ISAS)
#define M1K_ISA_ABSENT_1(level) \
  const KernelTable* table_##level() { return nullptr; }
#define M1K_ISA_ABSENT_0(level)
#define M1K_ISA_ABSENT(level, lanes, x86, cpu) M1K_ISA_ABSENT_##x86(level)
M1K_ISA_LEVELS(M1K_ISA_ABSENT)
#endif

std::vector<std::string> isa_levels() {
  std::vector<std::string> out;
  for (const Level& l : kLevels) out.emplace_back(l.name);
  return out;
}

std::vector<std::pair<std::string, int>> isa_lanes() {
  std::vector<std::pair<std::string, int>> out;
  for (const Level& l : kLevels) out.emplace_back(l.name, l.lanes);
  return out;
}

std::vector<std::string> available_isas() {
  std::vector<std::string> out;
  for (int i = 0; i < kLevelCount; ++i)
    if (usable(i)) out.emplace_back(kLevels[i].name);
  return out;
}

std::string isa_note() {
  for (int i = 0; i < kLevelCount; ++i) cpu_has(i);  // runs the AMX permission request once
  return g_amx_note;
}

Status select_isa(const std::string& requested) {
  int idx = -1;
  if (requested.empty() || requested == "auto") {
    for (int i = 0; i < kLevelCount && idx < 0; ++i)
      if (usable(i)) idx = i;
  } else {
    idx = level_index(requested);
    if (idx < 0) {
      std::string names;
      for (const Level& l : kLevels) names += std::string(names.empty() ? "" : ", ") + l.name;
      return Status::Error("E_SIMD_UNKNOWN", "unknown SIMD path \"" + requested + "\" (expected auto, " + names + ")");
    }
    if (!kLevels[idx].table()) return Status::Error("E_SIMD_UNSUPPORTED", "this build has no " + requested + " kernels");
    if (!cpu_has(idx)) {
      const std::string why = requested == "amx" && !g_amx_note.empty() ? " (" + g_amx_note + ")" : "";
      return Status::Error("E_SIMD_UNSUPPORTED", "this CPU does not support the " + requested + " kernels" + why);
    }
  }
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_sel[idx].table.name) g_sel[idx] = merge(idx);
  g_level.store(idx);
  return Status::Ok();
}

const KernelTable* current() {
  if (g_level.load() < 0) select_isa("auto");
  return &g_sel[g_level.load()].table;
}

std::vector<std::pair<std::string, std::string>> slot_sources() {
  current();
  const Selection& s = g_sel[g_level.load()];
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < kSlotCount; ++i) out.emplace_back(kSlotNames[i], s.from[i] ? s.from[i] : "");
  return out;
}

}  // namespace m1k
