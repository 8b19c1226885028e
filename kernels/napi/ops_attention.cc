// N-API entry points: lightningPrefill (bf16: true → the bf16 slot), lightningDecode, softmaxAttention
// (outputs written in place).
#include "../cpu/dispatch.h"
#include "lightning_opts.h"
#include "ops.h"
#include "worker.h"

namespace m1k {

static Napi::Value lightning(const Napi::CallbackInfo& info, bool decode) {
  auto [o, keep] = call_options(info);
  LightningArgs a = lightning_opts(o, keep, 4096);
  a.block = decode ? 1 : static_cast<int>(integer(o, "block", 1, 4096));
  a.threads = threads_of(o);
  const bool bf16 = !decode && flag(o, "bf16");
  const KernelTable* t = current();
  return OpWorker::RunKernel(info.Env(), std::move(keep), [a, t, decode, bf16] {
    if (decode) t->lightning_decode(a);
    else if (bf16) t->lightning_prefill_bf16(a);
    else t->lightning_prefill(a);
  });
}

static Napi::Value LightningPrefill(const Napi::CallbackInfo& info) { return lightning(info, false); }
static Napi::Value LightningDecode(const Napi::CallbackInfo& info) { return lightning(info, true); }

static Napi::Value SoftmaxAttention(const Napi::CallbackInfo& info) {
  auto [o, keep] = call_options(info);
  SoftmaxArgs a{};
  a.n = integer(o, "n", 0, kMaxDim);
  a.nk = integer(o, "nk", 0, kMaxDim);
  a.hq = static_cast<int>(integer(o, "hq", 1, 1 << 20));
  a.hkv = static_cast<int>(integer(o, "hkv", 1, 1 << 20));
  a.d = static_cast<int>(integer(o, "d", 1, 4096));
  a.threads = threads_of(o);
  a.scale = static_cast<float>(number(o, "scale"));
  if (a.nk < a.n || a.hq % a.hkv != 0)
    throw Napi::RangeError::New(info.Env(), "softmaxAttention: need nk ≥ n and hq divisible by hkv");
  a.q = typed<float>(o, "q", napi_float32_array, a.n * a.hq * a.d, keep).data;
  a.k = typed<float>(o, "k", napi_float32_array, a.nk * a.hkv * a.d, keep).data;
  a.v = typed<float>(o, "v", napi_float32_array, a.nk * a.hkv * a.d, keep).data;
  a.o = typed<float>(o, "o", napi_float32_array, a.n * a.hq * a.d, keep).data;
  const KernelTable* t = current();
  return OpWorker::RunKernel(info.Env(), std::move(keep), [a, t] { t->softmax_attention(a); });
}

void register_attention(Napi::Env env, Napi::Object exports) {
  static const Export kList[] = {
      {"lightningPrefill", LightningPrefill}, {"lightningDecode", LightningDecode}, {"softmaxAttention", SoftmaxAttention}};
  export_all(env, exports, kList);
}

}  // namespace m1k
