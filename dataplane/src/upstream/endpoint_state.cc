#include "upstream/endpoint_state.h"

namespace pier::dataplane::upstream {

EndpointLease::EndpointLease(std::shared_ptr<EndpointState> state) noexcept : state_(std::move(state)) {
  if (state_) state_->active.fetch_add(1, std::memory_order_relaxed);
}

EndpointLease& EndpointLease::operator=(EndpointLease&& other) noexcept {
  if (this != &other) {
    Release();
    state_ = std::move(other.state_);
  }
  return *this;
}

void EndpointLease::Release() noexcept {
  if (!state_) return;
  state_->active.fetch_sub(1, std::memory_order_relaxed);
  state_.reset();
}

}  // namespace pier::dataplane::upstream
