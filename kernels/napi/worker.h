// One AsyncWorker per native call: the kernel runs on a libuv worker thread and the returned promise
// resolves (with an optional number) or rejects with an Error carrying {code, message}.
#pragma once
#include <napi.h>

#include <cmath>
#include <exception>
#include <functional>
#include <utility>

#include "../common/status.h"
#include "args.h"

namespace m1k {

class OpWorker : public Napi::AsyncWorker {
 public:
  using Fn = std::function<Status(double& result)>;

  OpWorker(Napi::Env env, Fn fn, Keep keep)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), fn_(std::move(fn)), keep_(std::move(keep)) {}

  void Execute() override {
    try {
      status_ = fn_(result_);
    } catch (const std::exception& e) {
      status_ = Status::Error("E_NATIVE_INTERNAL", e.what());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (status_.ok()) {
      deferred_.Resolve(std::isnan(result_) ? env.Undefined() : Napi::Number::New(env, result_));
    } else {
      Napi::Error err = Napi::Error::New(env, status_.message);
      err.Set("code", Napi::String::New(env, status_.code));
      deferred_.Reject(err.Value());
    }
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

  Napi::Promise Promise() { return deferred_.Promise(); }

  // Queue `fn` and return its promise.
  static Napi::Value Run(Napi::Env env, Fn fn, Keep keep) {
    auto* w = new OpWorker(env, std::move(fn), std::move(keep));
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }

  // Queue a kernel that cannot fail and has no result (its outputs are the pinned arrays in `keep`):
  // the promise resolves with undefined.
  template <class Kernel>
  static Napi::Value RunKernel(Napi::Env env, Keep keep, Kernel kernel) {
    return Run(env, [kernel](double&) {
      kernel();
      return Status::Ok();
    }, std::move(keep));
  }

 private:
  Napi::Promise::Deferred deferred_;
  Fn fn_;
  Keep keep_;
  Status status_;
  double result_ = std::nan("");
};

}  // namespace m1k
