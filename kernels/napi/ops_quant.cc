// N-API entry point `quant`: { format: a name of M1K_QUANT_FORMATS (kernels/cpu/kernels.h), op: 'quantize'|'dequantize', ... },
// and `quantAmax` (largest finite |w| of a matrix, resolving with it: NVFP4's global scale input).
// Quantize reads fp32 `w`, or bf16 bit patterns `wbf16` (widened row by row inside the kernel).
#include <cmath>

#include "../cpu/dispatch.h"
#include "ops.h"
#include "worker.h"
#include <string>
#include <type_traits>

namespace m1k {

// The typed-array kind of each byte codes element type of M1K_QUANT_FORMATS (int32 words: codes_of's `packed`).
template <typename T> constexpr napi_typedarray_type kArrayOf = napi_uint8_array;
template <> constexpr napi_typedarray_type kArrayOf<int8_t> = napi_int8_array;

// The scale buffer of a format: fp32 scales go to QuantArgs::scale, 8-bit ones (E4M3, E8M0) to ::scale8.
template <typename T>
static void scale_of(const Napi::Object& o, QuantArgs& a, int64_t n, Keep& keep) {
  if constexpr (std::is_same_v<T, float>) a.scale = typed<float>(o, "scale", napi_float32_array, n, keep).data;
  else a.scale8 = typed<uint8_t>(o, "scale", napi_uint8_array, n, keep).data;
}

// The codes buffer of a format: int32 words go to QuantArgs::packed (field "packed"), bytes to ::codes ("codes").
template <typename T>
static void codes_of(const Napi::Object& o, QuantArgs& a, int64_t n, Keep& keep) {
  if constexpr (std::is_same_v<T, int32_t>) a.packed = typed<int32_t>(o, "packed", napi_int32_array, n, keep).data;
  else a.codes = reinterpret_cast<uint8_t*>(typed<T>(o, "codes", kArrayOf<T>, n, keep).data);
}

// A format's tensor-wide scale (`globalScale`, nvfp4): positive and finite.
static float global_scale_of(const Napi::CallbackInfo& info, const Napi::Object& o, const char* name) {
  const double g = o.Get("globalScale").ToNumber().DoubleValue();
  if (!(g > 0) || !std::isfinite(g)) throw Napi::RangeError::New(info.Env(), std::string("quant: ") + name + " needs a positive finite globalScale");
  return static_cast<float>(g);
}

static Napi::Value Quant(const Napi::CallbackInfo& info) {
  auto [o, keep] = call_options(info);
  QuantArgs a{};
  const std::string format = str(o, "format"), op = str(o, "op");
  const bool quant = op == "quantize";
  if (!quant && op != "dequantize") throw Napi::RangeError::New(info.Env(), "quant: op must be quantize or dequantize");
  a.rows = integer(o, "rows", 0, kMaxDim);
  a.cols = integer(o, "cols", 0, kMaxDim);
  a.threads = threads_of(o);
  a.bf16Scale = o.Get("bf16Scale").ToBoolean().Value();
  const int64_t R = a.rows, C = a.cols, n = R * C;
  if (quant && !o.Get("wbf16").IsUndefined()) a.wbf16 = typed<uint16_t>(o, "wbf16", napi_uint16_array, n, keep).data;  // bf16 bits
  else if (quant) a.w = typed<float>(o, "w", napi_float32_array, n, keep).data;
  else a.out = typed<float>(o, "out", napi_float32_array, n, keep).data;
  if (quant && !o.Get("err").IsUndefined()) {  // error sums over sampled row blocks, added to err[0..2]
    a.err = typed<double>(o, "err", napi_float64_array, 3, keep).data;
    a.err_unit = integer(o, "errUnit", 1, kMaxDim);
    a.err_stride = integer(o, "errStride", 1, kMaxDim);
    a.err_block0 = integer(o, "errBlock0", 0, kMaxDim);
  }
  void (*fn)(const QuantArgs&) = nullptr;
  const KernelTable* t = current();
  // one branch per line of M1K_QUANT_FORMATS: its fixed group or the given one, its buffers, its slots
#define M1K_QUANT_CASE(P, name, ctype, codes_n, stype, scale_n, fixed_group, global_scale)              \
  if (!fn && format == #name) {                                                                          \
    a.group = fixed_group ? fixed_group : static_cast<int>(integer(o, "group", 1, 1 << 20));             \
    const int64_t G = a.group;                                                                           \
    (void)G;                                                                                             \
    codes_of<ctype>(o, a, codes_n, keep);                                                                \
    scale_of<stype>(o, a, scale_n, keep);                                                                \
    if (global_scale) a.gscale = global_scale_of(info, o, #name);                                        \
    fn = quant ? t->quant_##name : t->dequant_##name;                                                    \
  }
  M1K_QUANT_FORMATS(M1K_QUANT_CASE, _)
#undef M1K_QUANT_CASE
  if (!fn) {
    std::string names;
#define M1K_QUANT_NAME(P, name, ...) names += (names.empty() ? "" : ", ") + std::string(#name);
    M1K_QUANT_FORMATS(M1K_QUANT_NAME, _)
#undef M1K_QUANT_NAME
    throw Napi::RangeError::New(info.Env(), "quant: format must be one of " + names);
  }
  return OpWorker::RunKernel(info.Env(), std::move(keep), [a, fn] { fn(a); });
}

static Napi::Value QuantAmax(const Napi::CallbackInfo& info) {
  auto [o, keep] = call_options(info);
  QuantArgs a{};
  a.rows = integer(o, "rows", 0, kMaxDim);
  a.cols = integer(o, "cols", 0, kMaxDim);
  a.threads = threads_of(o);
  if (!o.Get("wbf16").IsUndefined()) a.wbf16 = typed<uint16_t>(o, "wbf16", napi_uint16_array, a.rows * a.cols, keep).data;
  else a.w = typed<float>(o, "w", napi_float32_array, a.rows * a.cols, keep).data;
  const KernelTable* t = current();
  return OpWorker::Run(info.Env(), [a, t](double& r) {
    r = static_cast<double>(t->quant_amax(a));
    return Status::Ok();
  }, std::move(keep));
}

void register_quant(Napi::Env env, Napi::Object exports) {
  static const Export kList[] = {{"quant", Quant}, {"quantAmax", QuantAmax}};
  export_all(env, exports, kList);
}

}  // namespace m1k
