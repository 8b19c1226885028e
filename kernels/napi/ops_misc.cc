// N-API entry points: gemm (bf16: true → the bf16 slot), gemmGrouped, convert, fmaPeak, bf16Peak, copy,
// stream, info, selectSimd, fpModeProbe.
#include <thread>

#include "../common/fpenv.h"
#include "../common/parallel.h"
#include "../cpu/dispatch.h"
#include "ops.h"
#include "worker.h"

namespace m1k {

static Napi::Value Gemm(const Napi::CallbackInfo& info) {
  auto [o, keep] = call_options(info);
  GemmArgs a{};
  a.m = integer(o, "m", 0, kMaxDim);
  a.k = integer(o, "k", 0, kMaxDim);
  a.nOut = integer(o, "nOut", 0, kMaxDim);
  a.threads = threads_of(o);
  a.x = typed<float>(o, "x", napi_float32_array, a.m * a.k, keep).data;
  a.y = typed<float>(o, "y", napi_float32_array, a.m * a.nOut, keep).data;
  Napi::Value w = prop(o, "w");
  a.wBf16 = w.IsTypedArray() && w.As<Napi::TypedArray>().TypedArrayType() == napi_uint16_array;
  a.w = a.wBf16 ? static_cast<const void*>(typed<uint16_t>(o, "w", napi_uint16_array, a.nOut * a.k, keep).data)
                : static_cast<const void*>(typed<float>(o, "w", napi_float32_array, a.nOut * a.k, keep).data);
  const bool bf16 = flag(o, "bf16");
  const KernelTable* t = current();
  return OpWorker::RunKernel(info.Env(), std::move(keep), [a, t, bf16] { bf16 ? t->gemm_bf16(a) : t->gemm(a); });
}

static Napi::Value GemmGrouped(const Napi::CallbackInfo& info) {
  auto [o, keep] = call_options(info);
  GroupedGemmArgs a{};
  a.experts = integer(o, "experts", 0, 1 << 20);
  a.k = integer(o, "k", 0, kMaxDim);
  a.nOut = integer(o, "nOut", 0, kMaxDim);
  a.threads = threads_of(o);
  a.bf16 = flag(o, "bf16");
  const int64_t total = integer(o, "rowsTotal", 0, kMaxDim);
  a.offset = reinterpret_cast<const int64_t*>(typed<double>(o, "offset", napi_float64_array, a.experts, keep).data);
  a.rows = reinterpret_cast<const int64_t*>(typed<double>(o, "rows", napi_float64_array, a.experts, keep).data);
  a.x = typed<float>(o, "x", napi_float32_array, total * a.k, keep).data;
  a.y = typed<float>(o, "y", napi_float32_array, total * a.nOut, keep).data;
  Napi::Value w = prop(o, "w");
  a.wBf16 = w.IsTypedArray() && w.As<Napi::TypedArray>().TypedArrayType() == napi_uint16_array;
  const int64_t wn = a.experts * a.nOut * a.k;
  a.w = a.wBf16 ? static_cast<const void*>(typed<uint16_t>(o, "w", napi_uint16_array, wn, keep).data)
                : static_cast<const void*>(typed<float>(o, "w", napi_float32_array, wn, keep).data);
  // offsets and row counts arrive as float64 (exact integers, checked here) and are converted in place
  // of a copy: they are validated, then reinterpreted as int64 in a scratch array owned by the worker.
  auto* idx = new int64_t[2 * std::max<int64_t>(1, a.experts)];
  const double* off = reinterpret_cast<const double*>(a.offset);
  const double* rows = reinterpret_cast<const double*>(a.rows);
  for (int64_t e = 0; e < a.experts; ++e) {
    const double f = off[e], r = rows[e];
    if (!(f >= 0 && r >= 0 && f == static_cast<double>(static_cast<int64_t>(f)) && r == static_cast<double>(static_cast<int64_t>(r)) && f + r <= static_cast<double>(total))) {
      delete[] idx;
      throw Napi::RangeError::New(info.Env(), "gemmGrouped: offset[e] + rows[e] must be integers within rowsTotal");
    }
    idx[e] = static_cast<int64_t>(f);
    idx[a.experts + e] = static_cast<int64_t>(r);
  }
  a.offset = idx;
  a.rows = idx + a.experts;
  const KernelTable* t = current();
  return OpWorker::RunKernel(info.Env(), std::move(keep), [a, t, idx] {
    t->gemm_grouped(a);
    delete[] idx;
  });
}

// The throughput probe in `slot` ({iters, threads}), resolving with its figure. A level without the
// slot (bf16_peak) throws E_SIMD_UNSUPPORTED: "<op>: the <level> kernels have no <lacks>".
using PeakSlot = double (*KernelTable::*)(int64_t, int);
static Napi::Value peak(const Napi::CallbackInfo& info, PeakSlot slot, const char* op, const char* lacks) {
  Napi::Object o = options(info);
  const int64_t iters = integer(o, "iters", 1, int64_t{1} << 40);
  const int threads = threads_of(o);
  const KernelTable* t = current();
  const auto probe = t->*slot;
  if (!probe) {
    Napi::Error err = Napi::Error::New(info.Env(), std::string(op) + ": the " + t->name + " kernels have no " + lacks);
    err.Set("code", Napi::String::New(info.Env(), "E_SIMD_UNSUPPORTED"));
    throw err;
  }
  return OpWorker::Run(info.Env(), [=](double& r) {
    r = probe(iters, threads);
    return Status::Ok();
  }, Keep{});
}

static Napi::Value Bf16Peak(const Napi::CallbackInfo& info) {
  return peak(info, &KernelTable::bf16_peak, "bf16Peak", "bf16 dot-product instruction (vdpbf16ps or AMX)");
}

static Napi::Value FmaPeak(const Napi::CallbackInfo& info) { return peak(info, &KernelTable::fma_peak, "fmaPeak", "FMA"); }

// The memory probes, n floats each: stream (in place over `buf`) or copy (`src` → `dst`).
static Napi::Value memory_probe(const Napi::CallbackInfo& info, bool copy) {
  auto [o, keep] = call_options(info);
  const int64_t n = integer(o, "n", 0, kMaxDim);
  const int threads = threads_of(o);
  const char* first = copy ? "src" : "buf";
  float* s = typed<float>(o, first, napi_float32_array, n, keep).data;
  float* d = copy ? typed<float>(o, "dst", napi_float32_array, n, keep).data : nullptr;
  const KernelTable* t = current();
  return OpWorker::RunKernel(info.Env(), std::move(keep), [=] { copy ? t->copy(s, d, n, threads) : t->stream(s, n, threads); });
}

static Napi::Value Stream(const Napi::CallbackInfo& info) { return memory_probe(info, false); }
static Napi::Value Copy(const Napi::CallbackInfo& info) { return memory_probe(info, true); }

static Napi::Value Convert(const Napi::CallbackInfo& info) {
  auto [o, keep] = call_options(info);
  const std::string kind = str(o, "kind");
  const int64_t n = integer(o, "n", 0, kMaxDim);
  const int threads = threads_of(o);
  const KernelTable* t = current();
  std::function<void()> fn;
  if (kind == "bf16-f32") {
    auto s = typed<uint16_t>(o, "src", napi_uint16_array, n, keep).data;
    auto d = typed<float>(o, "dst", napi_float32_array, n, keep).data;
    fn = [=] { t->bf16_to_f32(s, d, n, threads); };
  } else if (kind == "f32-bf16" || kind == "f32-f16") {
    auto s = typed<float>(o, "src", napi_float32_array, n, keep).data;
    auto d = typed<uint16_t>(o, "dst", napi_uint16_array, n, keep).data;
    auto f = kind == "f32-bf16" ? t->f32_to_bf16 : t->f32_to_f16;
    fn = [=] { f(s, d, n, threads); };
  } else {
    throw Napi::RangeError::New(info.Env(), "convert: kind must be bf16-f32, f32-bf16 or f32-f16");
  }
  return OpWorker::RunKernel(info.Env(), std::move(keep), std::move(fn));
}

static Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  Napi::Array isas = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto& s : available_isas()) isas.Set(i++, Napi::String::New(env, s));
  o.Set("simdAvailable", isas);
  o.Set("simd", Napi::String::New(env, current()->name));
  Napi::Array levels = Napi::Array::New(env);
  i = 0;
  for (const auto& s : isa_levels()) levels.Set(i++, Napi::String::New(env, s));
  o.Set("simdLevels", levels);
  Napi::Object lanes = Napi::Object::New(env);
  for (const auto& l : isa_lanes()) lanes.Set(l.first, Napi::Number::New(env, l.second));
  o.Set("simdLanes", lanes);
  Napi::Object slots = Napi::Object::New(env);
  for (const auto& s : slot_sources()) slots.Set(s.first, s.second.empty() ? env.Null() : Napi::String::New(env, s.second));
  o.Set("slots", slots);
  const std::string note = isa_note();
  if (!note.empty()) o.Set("simdNote", Napi::String::New(env, note));
  o.Set("hardwareThreads", Napi::Number::New(env, std::thread::hardware_concurrency()));
  o.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
#if defined(__VERSION__)
  o.Set("compiler", Napi::String::New(env, __VERSION__));
#endif
  return o;
}

static Napi::Value SelectSimd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "selectSimd expects a string");
  Status s = select_isa(info[0].As<Napi::String>().Utf8Value());
  if (!s.ok()) {
    Napi::Error err = Napi::Error::New(env, s.message);
    err.Set("code", Napi::String::New(env, s.code));
    throw err;
  }
  return Napi::String::New(env, current()->name);
}

// Synchronous check of the compute kernels' floating-point environment: MXCSR of the calling thread
// before, inside a FlushDenormals region on every parallel_for worker, and after it.
static Napi::Value FpModeProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = options(info);
  const int threads = static_cast<int>(integer(o, "threads", 1, 64));
  unsigned inside[64] = {0};
  const unsigned before = fp_mode_get();
  {
    FlushDenormals ftz;
    parallel_for(threads, threads, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) inside[i] = fp_mode_get();
    });
  }
  const unsigned after = fp_mode_get();
  Napi::Object r = Napi::Object::New(env);
  r.Set("before", Napi::Number::New(env, before));
  r.Set("after", Napi::Number::New(env, after));
  Napi::Array in = Napi::Array::New(env, threads);
  for (int i = 0; i < threads; ++i) in.Set(static_cast<uint32_t>(i), Napi::Number::New(env, inside[i]));
  r.Set("workers", in);
  r.Set("ftzBit", Napi::Number::New(env, kMxcsrFtz));
  r.Set("dazBit", Napi::Number::New(env, kMxcsrDaz));
  return r;
}

void register_misc(Napi::Env env, Napi::Object exports) {
  static const Export kList[] = {{"gemm", Gemm},       {"gemmGrouped", GemmGrouped}, {"bf16Peak", Bf16Peak},
                                 {"stream", Stream},   {"convert", Convert},         {"fmaPeak", FmaPeak},
                                 {"copy", Copy},       {"info", Info},               {"selectSimd", SelectSimd},
                                 {"fpModeProbe", FpModeProbe}};
  export_all(env, exports, kList);
}

}  // namespace m1k
