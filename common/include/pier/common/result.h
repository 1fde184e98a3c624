// A value or an error message: the error path of everything that parses or validates input.
// (std::expected is C++23; this is the small part of it Pier needs.)
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace pier {

struct Error final {
  std::string message;
};

template <class T>
class [[nodiscard]] Result final {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const std::string& error() const { return std::get<1>(v_).message; }

 private:
  std::variant<T, Error> v_;
};

inline Error Fail(std::string message) { return Error{std::move(message)}; }

}  // namespace pier
