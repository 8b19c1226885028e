// Status returned by every kernel entry point: {code, message}; code == nullptr means success.
// Native code never calls exit()/abort(); the N-API layer turns a Status into a rejected promise.
#pragma once
#include <string>

namespace m1k {

struct Status {
  const char* code = nullptr;  // stable error code, e.g. "E_NATIVE_ARGS"; nullptr on success
  std::string message;
  bool ok() const { return code == nullptr; }
  static Status Ok() { return {}; }
  static Status Error(const char* c, std::string m) { return Status{c, std::move(m)}; }
};

}  // namespace m1k
