// Errors from the Kubernetes API: the HTTP status plus the reason and message of the Status
// object the server sends, so callers can branch on 404/409/410/429 and log something useful.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace pier::kube {

struct ApiError final {
  // 0 when no HTTP response arrived (connect, TLS, timeout, cancelled, bad response).
  int http_status = 0;
  std::string reason;   // Status.reason: NotFound, Conflict, Expired, Gone, TooManyRequests, ...
  std::string message;  // Status.message, or what went wrong locally
  std::chrono::seconds retry_after{0};  // Retry-After header or Status.details.retryAfterSeconds
  bool cancelled = false;               // the caller's stop token fired

  // The resourceVersion asked for is no longer available: re-list.
  bool IsGone() const { return http_status == 410 || reason == "Expired" || reason == "Gone"; }
  bool IsThrottled() const { return http_status == 429; }
  // "HTTP 410 Expired: too old resource version: 1 (2)" or "connection refused".
  std::string Describe() const;
};

// An error found on our side (no usable response); http_status stays 0.
inline ApiError ClientError(std::string message) {
  ApiError error;
  error.message = std::move(message);
  return error;
}

// The error a non-2xx response carries. `body` is the response body (normally a Status).
ApiError ErrorFromResponse(int http_status, std::string_view body);

// The error an ERROR watch event carries (its object is a Status).
ApiError ErrorFromStatus(const nlohmann::json& status);

// The parsed Retry-After header (seconds form; dates are not used by the API server).
std::chrono::seconds ParseRetryAfter(std::string_view header);

// A value or an ApiError (Result<T> carries only a message, and callers need the status).
template <class T>
class [[nodiscard]] ApiResult final {
 public:
  ApiResult(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit on purpose
  ApiResult(ApiError error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const ApiError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, ApiError> v_;
};

}  // namespace pier::kube
