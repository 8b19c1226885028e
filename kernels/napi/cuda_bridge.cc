// CUDA bridge: probes the driver (libcuda.so.1) for devices and, only if one exists, dlopens
// libm1kit_cuda.so (path given by the TypeScript facade). Without a driver or device every CUDA
// entry point rejects with E_CUDA_UNAVAILABLE and cudaInfo() says why.
#include <dlfcn.h>

#include <mutex>
#include <string>

#include "../cuda/api.h"
#include "../cuda/lightning_tc_emu.h"
#include "lightning_opts.h"
#include "ops.h"
#include "worker.h"

namespace m1k {

struct CudaLib {
  bool probed = false;
  int deviceCount = 0;
  std::string reason;  // empty when loaded
  void* handle = nullptr;
  decltype(&m1k_cuda_device_name) device_name = nullptr;
  decltype(&m1k_cuda_lightning_prefill) prefill = nullptr;
  decltype(&m1k_cuda_lightning_decode) decode = nullptr;
  decltype(&m1k_cuda_quant_fp8) quant_fp8 = nullptr;
  decltype(&m1k_cuda_bench_mma_peak) bench_peak = nullptr;
  decltype(&m1k_cuda_bench_copy) bench_copy = nullptr;
  decltype(&m1k_cuda_bench_prefill) bench_prefill = nullptr;
  decltype(&m1k_cuda_bench_decode) bench_decode = nullptr;
};

static CudaLib g_cuda;
static std::mutex g_cuda_mu;

// Count devices through the driver API without loading the CUDA runtime.
static int driver_device_count(std::string& why) {
  void* drv = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!drv) {
    why = "no CUDA driver (libcuda.so.1 not found)";
    return 0;
  }
  using InitFn = int (*)(unsigned);
  using CountFn = int (*)(int*);
  auto init = reinterpret_cast<InitFn>(dlsym(drv, "cuInit"));
  auto count = reinterpret_cast<CountFn>(dlsym(drv, "cuDeviceGetCount"));
  int n = 0;
  if (!init || !count) {
    why = "CUDA driver lacks cuInit/cuDeviceGetCount";
  } else if (int rc = init(0); rc != 0) {
    why = "no CUDA device (cuInit returned " + std::to_string(rc) + ")";
  } else if (count(&n) != 0 || n == 0) {
    why = "no CUDA device";
    n = 0;
  }
  return n;
}

static void probe(const std::string& libPath) {
  std::lock_guard<std::mutex> lock(g_cuda_mu);
  if (g_cuda.probed) return;
  g_cuda.probed = true;
  std::string why;
  g_cuda.deviceCount = driver_device_count(why);
  if (g_cuda.deviceCount == 0) {
    g_cuda.reason = why;
    return;
  }
  if (libPath.empty()) {
    g_cuda.reason = "CUDA library not built (no nvcc at install time)";
    return;
  }
  g_cuda.handle = dlopen(libPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!g_cuda.handle) {
    g_cuda.reason = std::string("cannot load ") + libPath + ": " + dlerror();
    return;
  }
  auto abi = reinterpret_cast<decltype(&m1k_cuda_abi)>(dlsym(g_cuda.handle, "m1k_cuda_abi"));
  g_cuda.device_name = reinterpret_cast<decltype(g_cuda.device_name)>(dlsym(g_cuda.handle, "m1k_cuda_device_name"));
  g_cuda.prefill = reinterpret_cast<decltype(g_cuda.prefill)>(dlsym(g_cuda.handle, "m1k_cuda_lightning_prefill"));
  g_cuda.decode = reinterpret_cast<decltype(g_cuda.decode)>(dlsym(g_cuda.handle, "m1k_cuda_lightning_decode"));
  g_cuda.quant_fp8 = reinterpret_cast<decltype(g_cuda.quant_fp8)>(dlsym(g_cuda.handle, "m1k_cuda_quant_fp8"));
  g_cuda.bench_peak = reinterpret_cast<decltype(g_cuda.bench_peak)>(dlsym(g_cuda.handle, "m1k_cuda_bench_mma_peak"));
  g_cuda.bench_copy = reinterpret_cast<decltype(g_cuda.bench_copy)>(dlsym(g_cuda.handle, "m1k_cuda_bench_copy"));
  g_cuda.bench_prefill = reinterpret_cast<decltype(g_cuda.bench_prefill)>(dlsym(g_cuda.handle, "m1k_cuda_bench_prefill"));
  g_cuda.bench_decode = reinterpret_cast<decltype(g_cuda.bench_decode)>(dlsym(g_cuda.handle, "m1k_cuda_bench_decode"));
  if (!abi || abi() != M1K_CUDA_ABI || !g_cuda.device_name || !g_cuda.prefill || !g_cuda.decode || !g_cuda.quant_fp8 ||
      !g_cuda.bench_peak || !g_cuda.bench_copy || !g_cuda.bench_prefill || !g_cuda.bench_decode) {
    g_cuda.reason = libPath + " has an unexpected ABI; rebuild with npm run build:native";
    dlclose(g_cuda.handle);
    g_cuda.handle = nullptr;
  }
}

static Napi::Value CudaInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  probe(info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : std::string());
  Napi::Object o = Napi::Object::New(env);
  o.Set("deviceCount", Napi::Number::New(env, g_cuda.deviceCount));
  o.Set("loaded", Napi::Boolean::New(env, g_cuda.handle != nullptr));
  Napi::Array names = Napi::Array::New(env);
  if (g_cuda.handle) {
    for (int i = 0; i < g_cuda.deviceCount; ++i) {
      char buf[256] = {0};
      g_cuda.device_name(i, buf, sizeof buf);
      names.Set(static_cast<uint32_t>(i), Napi::String::New(env, buf));
    }
  }
  o.Set("devices", names);
  if (!g_cuda.reason.empty()) o.Set("reason", Napi::String::New(env, g_cuda.reason));
  return o;
}

static void require_cuda(Napi::Env env) {
  if (!g_cuda.handle) {
    Napi::Error err = Napi::Error::New(env, g_cuda.probed ? g_cuda.reason : "CUDA not probed; call cudaInfo first");
    err.Set("code", Napi::String::New(env, "E_CUDA_UNAVAILABLE"));
    throw err;
  }
}

static Status cuda_status(int rc, const char* err) {
  return rc == 0 ? Status::Ok() : Status::Error("E_CUDA", std::string("CUDA error: ") + err);
}

static Napi::Value CudaLightning(const Napi::CallbackInfo& info) {
  require_cuda(info.Env());
  auto [o, keep] = call_options(info);
  const bool decode = str(o, "op") == "decode";
  const int block = decode ? 64 : static_cast<int>(integer(o, "block", 64, 1024));
  const LightningArgs a = lightning_opts(o, keep, 128);
  return OpWorker::Run(info.Env(), [=](double&) {
    char err[512] = {0};
    int rc = decode ? g_cuda.decode(a.q, a.k, a.v, a.o, a.state, a.slopes, a.n, a.h, a.d, err, sizeof err)
                    : g_cuda.prefill(a.q, a.k, a.v, a.o, a.state, a.slopes, a.n, a.h, a.d, block, err, sizeof err);
    return cuda_status(rc, err);
  }, std::move(keep));
}

static Napi::Value CudaQuantFp8(const Napi::CallbackInfo& info) {
  require_cuda(info.Env());
  auto [o, keep] = call_options(info);
  const int64_t rows = integer(o, "rows", 0, kMaxDim), cols = integer(o, "cols", 0, kMaxDim);
  const int block = static_cast<int>(integer(o, "group", 1, 1024));
  auto w = typed<float>(o, "w", napi_float32_array, rows * cols, keep).data;
  auto codes = typed<uint8_t>(o, "codes", napi_uint8_array, rows * cols, keep).data;
  auto scale = typed<float>(o, "scale", napi_float32_array, ((rows + block - 1) / block) * ((cols + block - 1) / block), keep).data;
  return OpWorker::Run(info.Env(), [=](double&) {
    char err[512] = {0};
    return cuda_status(g_cuda.quant_fp8(w, rows, cols, block, codes, scale, err, sizeof err), err);
  }, std::move(keep));
}

// The tensor-core prefill's decomposition run on the host (no device needed): same options as
// cudaLightning with op "prefill", plus `segment` (tokens per segment, 0 = as the GPU path chooses).
static Napi::Value CudaEmulateLightning(const Napi::CallbackInfo& info) {
  auto [o, keep] = call_options(info);
  const int64_t seg = integer(o, "segment", 0, kMaxDim);
  const LightningArgs a = lightning_opts(o, keep, 128);
  return OpWorker::Run(info.Env(), [=](double&) {
    char err[512] = {0};
    const int rc = m1kc::tc::emulate_prefill(a.q, a.k, a.v, a.o, a.state, a.slopes, a.n, a.h, a.d, seg, err, sizeof err);
    return rc == 0 ? Status::Ok() : Status::Error("E_KERNEL_SHAPE", err);
  }, std::move(keep));
}

// Same-run CUDA measurements, written to `out` (Float64Array[5]): mma peak FLOP/s, seconds per copy of
// the decode state's bytes, prefill seconds for n tokens, seconds per decode step, the state's bytes.
static Napi::Value CudaBench(const Napi::CallbackInfo& info) {
  require_cuda(info.Env());
  auto [o, keep] = call_options(info);
  const int64_t n = integer(o, "n", 1, kMaxDim);
  const int h = static_cast<int>(integer(o, "h", 1, 1 << 20)), d = static_cast<int>(integer(o, "d", 1, 128));
  const int dh = static_cast<int>(integer(o, "decodeHeads", 1, 1 << 24));
  auto out = typed<double>(o, "out", napi_float64_array, 5, keep).data;
  return OpWorker::Run(info.Env(), [=](double&) {
    char err[512] = {0};
    const int64_t stateBytes = int64_t{dh} * d * d * 4;
    int rc = g_cuda.bench_peak(&out[0], err, sizeof err);
    if (rc == 0) rc = g_cuda.bench_copy(stateBytes, 20, &out[1], err, sizeof err);
    if (rc == 0) rc = g_cuda.bench_prefill(n, h, d, &out[2], err, sizeof err);
    if (rc == 0) rc = g_cuda.bench_decode(dh, d, 20, &out[3], err, sizeof err);
    out[4] = static_cast<double>(stateBytes);
    return cuda_status(rc, err);
  }, std::move(keep));
}

void register_cuda(Napi::Env env, Napi::Object exports) {
  static const Export kList[] = {{"cudaEmulateLightning", CudaEmulateLightning}, {"cudaBench", CudaBench},
                                 {"cudaInfo", CudaInfo}, {"cudaLightning", CudaLightning}, {"cudaQuantFp8", CudaQuantFp8}};
  export_all(env, exports, kList);
}

}  // namespace m1k
