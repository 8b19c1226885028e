#pragma once
#include <napi.h>

#include <cstddef>

namespace m1k {

// One entry point of the addon: its name on the exports object and its function.
struct Export {
  const char* name;
  Napi::Value (*fn)(const Napi::CallbackInfo&);
};

// Sets every entry of `list` on `exports` (each ops_*.cc registers its entry points with one table).
template <size_t N>
inline void export_all(Napi::Env env, Napi::Object exports, const Export (&list)[N]) {
  for (const Export& e : list) exports.Set(e.name, Napi::Function::New(env, e.fn));
}

void register_attention(Napi::Env env, Napi::Object exports);
void register_quant(Napi::Env env, Napi::Object exports);
void register_misc(Napi::Env env, Napi::Object exports);
void register_io(Napi::Env env, Napi::Object exports);
void register_sha(Napi::Env env, Napi::Object exports);
void register_cuda(Napi::Env env, Napi::Object exports);
}  // namespace m1k
