#include "http/framing_error.h"

#include <string>

namespace pier::dataplane::http {

namespace {

class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "pier.http.framing"; }
  std::string message(int value) const override { return std::string(ReasonFor(static_cast<Violation>(value))); }
};

}  // namespace

const boost::system::error_category& FramingCategory() noexcept {
  static const Category category;
  return category;
}

}  // namespace pier::dataplane::http
