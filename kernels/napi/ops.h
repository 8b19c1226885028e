#pragma once
#include <napi.h>

namespace m1k {
void register_attention(Napi::Env env, Napi::Object exports);
void register_quant(Napi::Env env, Napi::Object exports);
void register_misc(Napi::Env env, Napi::Object exports);
void register_io(Napi::Env env, Napi::Object exports);
void register_sha(Napi::Env env, Napi::Object exports);
void register_cuda(Napi::Env env, Napi::Object exports);
}  // namespace m1k
