// N-API entry points for SHA-256 lanes (cpu/sha256_ni.cc), synchronous: they are called on the thread
// that owns the hashes (a transfer worker), between socket reads, with at most a few MiB at a time.
//   sha256NiAvailable() → boolean
//   sha256Lanes(states: Uint32Array[8][], data: Uint8Array[]) — whole 64-byte blocks per lane
#include "../cpu/sha256_ni.h"
#include "ops.h"
#include "args.h"

namespace m1k {

static Napi::Value Sha256NiAvailable(const Napi::CallbackInfo& info) {
  static const bool ok = sha256_ni_available();
  return Napi::Boolean::New(info.Env(), ok);
}

static Napi::Value Sha256Lanes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsArray()) throw Napi::TypeError::New(env, "sha256Lanes: expected (states[], data[])");
  Napi::Array states = info[0].As<Napi::Array>(), datas = info[1].As<Napi::Array>();
  const uint32_t count = states.Length();
  if (datas.Length() != count) throw Napi::RangeError::New(env, "sha256Lanes: as many data arrays as states are needed");
  if (count > 64) throw Napi::RangeError::New(env, "sha256Lanes: at most 64 lanes per call");
  if (!sha256_ni_available()) throw Napi::Error::New(env, "sha256Lanes: this CPU has no SHA extensions");
  uint32_t* h[64];
  const uint8_t* p[64];
  int64_t n[64];
  for (uint32_t l = 0; l < count; ++l) {
    Napi::Value s = states[l], d = datas[l];
    if (!s.IsTypedArray() || s.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array || s.As<Napi::TypedArray>().ElementLength() != 8)
      throw Napi::TypeError::New(env, "sha256Lanes: every state must be a Uint32Array of 8 words");
    if (!d.IsTypedArray() || d.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      throw Napi::TypeError::New(env, "sha256Lanes: every data must be a Uint8Array");
    Napi::TypedArray st = s.As<Napi::TypedArray>(), dt = d.As<Napi::TypedArray>();
    if (dt.ElementLength() % 64 != 0) throw Napi::RangeError::New(env, "sha256Lanes: data must be whole 64-byte blocks");
    h[l] = reinterpret_cast<uint32_t*>(static_cast<uint8_t*>(st.ArrayBuffer().Data()) + st.ByteOffset());
    p[l] = static_cast<const uint8_t*>(dt.ArrayBuffer().Data()) + dt.ByteOffset();
    n[l] = static_cast<int64_t>(dt.ElementLength() / 64);
  }
  sha256_ni_lanes(h, p, n, static_cast<int>(count));
  return env.Undefined();
}

void register_sha(Napi::Env env, Napi::Object exports) {
  static const Export kList[] = {{"sha256NiAvailable", Sha256NiAvailable}, {"sha256Lanes", Sha256Lanes}};
  export_all(env, exports, kList);
}

}  // namespace m1k
