// A head Violation carried as an error_code, so the async read that found it can report it
// through the ordinary completion handler.
#pragma once

#include <boost/system/error_code.hpp>

#include "http/head_validator.h"

namespace pier::dataplane::http {

const boost::system::error_category& FramingCategory() noexcept;

inline boost::system::error_code MakeFramingError(Violation violation) noexcept {
  return {static_cast<int>(violation), FramingCategory()};
}

inline bool IsFramingError(const boost::system::error_code& ec) noexcept {
  return &ec.category() == &FramingCategory();
}

// Only meaningful when IsFramingError(ec).
inline Violation ViolationOf(const boost::system::error_code& ec) noexcept {
  return static_cast<Violation>(ec.value());
}

}  // namespace pier::dataplane::http
