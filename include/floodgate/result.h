// Result<T>: a value or an Error, the way floodgate reports failures across layers.
//
// Expected failures (bad config, a store that does not answer, a malformed address)
// travel as values, never as exceptions. Exceptions are reserved for programming
// errors and allocation failure, and never cross a libmilter callback.
// Thread-safety: plain values; no shared state.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace floodgate {

enum class ErrorKind {
  kInvalid,      // input rejected (config, subject, argument)
  kNotFound,     // a file or a key that is not there
  kUnavailable,  // the store cannot be reached or answered with an error
  kTimeout,      // the store did not answer before the deadline
  kInternal,     // a bug or an unexpected reply
};

class Error {
 public:
  Error(ErrorKind kind, std::string message) : kind_(kind), message_(std::move(message)) {}
  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }

 private:
  ErrorKind kind_;
  std::string message_;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result of an operation that yields nothing but may fail.
struct Ok {};
using Status = Result<Ok>;
inline Status OkStatus() { return Ok{}; }

}  // namespace floodgate
