// N-API entry point `quant`: { format: 'fp8'|'int8'|'int4'|'nvfp4'|'mxfp4'|'mxfp8', op: 'quantize'|'dequantize', ... },
// and `quantAmax` (largest finite |w| of a matrix, resolving with it: NVFP4's global scale input).
// Quantize reads fp32 `w`, or bf16 bit patterns `wbf16` (widened row by row inside the kernel).
#include <cmath>

#include "../cpu/dispatch.h"
#include "ops.h"
#include "worker.h"

namespace m1k {

static Napi::Value Quant(const Napi::CallbackInfo& info) {
  Napi::Object o = options(info);
  Keep keep;
  QuantArgs a{};
  const std::string format = str(o, "format"), op = str(o, "op");
  const bool quant = op == "quantize";
  if (!quant && op != "dequantize") throw Napi::RangeError::New(info.Env(), "quant: op must be quantize or dequantize");
  a.rows = integer(o, "rows", 0, kMaxDim);
  a.cols = integer(o, "cols", 0, kMaxDim);
  a.threads = static_cast<int>(integer(o, "threads", 1, kMaxThreads));
  const bool fp4 = format == "nvfp4" || format == "mxfp4", mx = format == "mxfp4" || format == "mxfp8";
  a.group = format == "int8" ? 1 : format == "nvfp4" ? 16 : mx ? 32 : static_cast<int>(integer(o, "group", 1, 1 << 20));
  a.bf16Scale = o.Get("bf16Scale").ToBoolean().Value();
  const int64_t n = a.rows * a.cols, G = a.group;
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
  if (format == "fp8") {
    a.codes = typed<uint8_t>(o, "codes", napi_uint8_array, n, keep).data;
    a.scale = typed<float>(o, "scale", napi_float32_array, ((a.rows + G - 1) / G) * ((a.cols + G - 1) / G), keep).data;
    fn = quant ? t->quant_fp8 : t->dequant_fp8;
  } else if (format == "int8") {
    a.codes = reinterpret_cast<uint8_t*>(typed<int8_t>(o, "codes", napi_int8_array, n, keep).data);
    a.scale = typed<float>(o, "scale", napi_float32_array, a.rows, keep).data;
    fn = quant ? t->quant_int8 : t->dequant_int8;
  } else if (format == "int4") {
    a.packed = typed<int32_t>(o, "packed", napi_int32_array, a.rows * ((a.cols + 7) / 8), keep).data;
    a.scale = typed<float>(o, "scale", napi_float32_array, a.rows * ((a.cols + G - 1) / G), keep).data;
    fn = quant ? t->quant_int4 : t->dequant_int4;
  } else if (fp4 || mx) {
    a.codes = typed<uint8_t>(o, "codes", napi_uint8_array, fp4 ? a.rows * ((a.cols + 1) / 2) : n, keep).data;
    a.scale8 = typed<uint8_t>(o, "scale", napi_uint8_array, a.rows * ((a.cols + G - 1) / G), keep).data;
    if (format == "nvfp4") {
      const double g = o.Get("globalScale").ToNumber().DoubleValue();
      if (!(g > 0) || !std::isfinite(g)) throw Napi::RangeError::New(info.Env(), "quant: nvfp4 needs a positive finite globalScale");
      a.gscale = static_cast<float>(g);
      fn = quant ? t->quant_nvfp4 : t->dequant_nvfp4;
    } else {
      fn = format == "mxfp4" ? (quant ? t->quant_mxfp4 : t->dequant_mxfp4) : (quant ? t->quant_mxfp8 : t->dequant_mxfp8);
    }
  } else {
    throw Napi::RangeError::New(info.Env(), "quant: format must be fp8, int8, int4, nvfp4, mxfp4 or mxfp8");
  }
  return OpWorker::Run(info.Env(), [a, fn](double&) {
    fn(a);
    return Status::Ok();
  }, std::move(keep));
}

static Napi::Value QuantAmax(const Napi::CallbackInfo& info) {
  Napi::Object o = options(info);
  Keep keep;
  QuantArgs a{};
  a.rows = integer(o, "rows", 0, kMaxDim);
  a.cols = integer(o, "cols", 0, kMaxDim);
  a.threads = static_cast<int>(integer(o, "threads", 1, kMaxThreads));
  if (!o.Get("wbf16").IsUndefined()) a.wbf16 = typed<uint16_t>(o, "wbf16", napi_uint16_array, a.rows * a.cols, keep).data;
  else a.w = typed<float>(o, "w", napi_float32_array, a.rows * a.cols, keep).data;
  const KernelTable* t = current();
  return OpWorker::Run(info.Env(), [a, t](double& r) {
    r = static_cast<double>(t->quant_amax(a));
    return Status::Ok();
  }, std::move(keep));
}

void register_quant(Napi::Env env, Napi::Object exports) {
  exports.Set("quant", Napi::Function::New(env, Quant));
  exports.Set("quantAmax", Napi::Function::New(env, QuantAmax));
}

}  // namespace m1k
