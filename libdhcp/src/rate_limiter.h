// Token buckets keyed by client (MAC, or a hash of an IPv6 source), in a table of fixed
// maximum size: a guest forging a new MAC per packet fills the table and then only competes
// for the shared "unknown client" bucket, so neither memory nor reply rate grows with it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "absl/container/flat_hash_map.h"

namespace k6t::dhcp::internal {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  RateLimiter(double rate_per_second, double burst, size_t max_clients)
      : rate_(rate_per_second), burst_(burst), max_clients_(max_clients) {}

  // True when `key` may get one more reply at `now`.
  bool Allow(uint64_t key, Clock::time_point now) {
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
      if (buckets_.size() >= max_clients_) Evict(now);
      if (buckets_.size() >= max_clients_) return Take(overflow_, now);
      it = buckets_.emplace(key, Bucket{burst_, now}).first;
    }
    return Take(it->second, now);
  }

  size_t size() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point last;
  };

  bool Take(Bucket& b, Clock::time_point now) {
    const double dt = std::chrono::duration<double>(now - b.last).count();
    if (dt > 0) {
      b.tokens = b.tokens + dt * rate_ < burst_ ? b.tokens + dt * rate_ : burst_;
      b.last = now;
    }
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
  }

  // Forgets clients whose bucket has refilled completely: they are indistinguishable from
  // new ones.
  void Evict(Clock::time_point now) {
    const double full_after = burst_ / rate_;
    absl::erase_if(buckets_, [&](const auto& kv) {
      return std::chrono::duration<double>(now - kv.second.last).count() >= full_after;
    });
  }

  double rate_;
  double burst_;
  size_t max_clients_;
  absl::flat_hash_map<uint64_t, Bucket> buckets_;
  Bucket overflow_{0, Clock::time_point{}};
};

}  // namespace k6t::dhcp::internal
