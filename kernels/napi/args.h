// Argument readers for the N-API entry points (better-sqlite3 style): each reads one property of the
// options object, checks its type and range, and throws a JS TypeError/RangeError otherwise. Typed
// arrays are pinned with a reference for the lifetime of the async work.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace m1k {

template <class T>
struct View {
  T* data = nullptr;
  int64_t length = 0;
};

using Keep = std::vector<Napi::ObjectReference>;

inline Napi::Value prop(const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined()) throw Napi::TypeError::New(o.Env(), std::string("missing option \"") + name + "\"");
  return v;
}

template <class T>
View<T> typed(const Napi::Object& o, const char* name, napi_typedarray_type type, int64_t min_length, Keep& keep) {
  Napi::Value v = prop(o, name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    throw Napi::TypeError::New(o.Env(), std::string("option \"") + name + "\" has the wrong typed-array type");
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  View<T> out;
  out.length = static_cast<int64_t>(ta.ElementLength());
  if (out.length < min_length)
    throw Napi::RangeError::New(o.Env(), std::string("option \"") + name + "\" has " + std::to_string(out.length) +
                                             " elements, needs " + std::to_string(min_length));
  out.data = reinterpret_cast<T*>(static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset());
  keep.emplace_back(Napi::Persistent(ta.As<Napi::Object>()));
  return out;
}

inline int64_t integer(const Napi::Object& o, const char* name, int64_t min, int64_t max) {
  Napi::Value v = prop(o, name);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("option \"") + name + "\" must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(min) && d <= static_cast<double>(max)) || d != static_cast<double>(static_cast<int64_t>(d)))
    throw Napi::RangeError::New(o.Env(), std::string("option \"") + name + "\" must be an integer in [" + std::to_string(min) +
                                             ", " + std::to_string(max) + "]");
  return static_cast<int64_t>(d);
}

// Optional boolean option (false when absent).
inline bool flag(const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined()) return false;
  if (!v.IsBoolean()) throw Napi::TypeError::New(o.Env(), std::string("option \"") + name + "\" must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

inline double number(const Napi::Object& o, const char* name) {
  Napi::Value v = prop(o, name);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("option \"") + name + "\" must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

inline std::string str(const Napi::Object& o, const char* name) {
  Napi::Value v = prop(o, name);
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string("option \"") + name + "\" must be a string");
  return v.As<Napi::String>().Utf8Value();
}

inline Napi::Object options(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "expected one options object");
  return info[0].As<Napi::Object>();
}

// What an entry point with typed arrays starts from: `auto [o, keep] = call_options(info);`, the options
// object and the (empty) list that pins the arrays it reads until the worker is done.
inline std::pair<Napi::Object, Keep> call_options(const Napi::CallbackInfo& info) { return {options(info), Keep{}}; }

constexpr int64_t kMaxThreads = 256;
constexpr int64_t kMaxDim = int64_t{1} << 40;

// The "threads" option of a kernel call: 1 … kMaxThreads.
inline int threads_of(const Napi::Object& o) { return static_cast<int>(integer(o, "threads", 1, kMaxThreads)); }

}  // namespace m1k
