// m1kit native addon: registration only. Each entry point takes one options object of typed arrays
// and numbers, runs in an AsyncWorker and returns a promise (see ops_*.cc, cuda_bridge.cc).
#include <napi.h>

#include "ops.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  m1k::register_attention(env, exports);
  m1k::register_quant(env, exports);
  m1k::register_misc(env, exports);
  m1k::register_io(env, exports);
  m1k::register_sha(env, exports);
  m1k::register_cuda(env, exports);
  return exports;
}

NODE_API_MODULE(m1kit, Init)
