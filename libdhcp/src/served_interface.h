// One bridge served by the DHCP server's loop: its DHCPv4, DHCPv6 and RA parts, each opened
// and reported on its own, and the handlers of their sockets. Private to libdhcp; runs on
// the loop thread only (the server holds its lock around every call).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "k6t/api/dhcp_offer.h"
#include "k6t/dhcp/responder.h"
#include "k6t/dhcp/server.h"
#include "rate_limiter.h"
#include "sockets.h"

namespace k6t::dhcp::internal {

using Clock = std::chrono::steady_clock;

// What a socket event is about; the epoll token is (interface id << 3) | kind.
enum Kind : uint64_t { kWake = 0, kV4 = 1, kV6 = 2, kRs = 3, kRaTimer = 4, kRetry = 5 };
inline uint64_t Token(uint64_t id, Kind k) { return id << 3 | k; }

// Log lines a guest can trigger are limited, so a flood cannot flood the log too.
class LogBudget {
 public:
  bool Allow(Clock::time_point now) { return limiter_.Allow(0, now); }

 private:
  RateLimiter limiter_{1.0, 20.0, 1};
};

// What every interface shares with the loop.
struct LoopShared {
  const ServerOptions& options;
  std::vector<uint8_t>& buffer;  // one receive buffer for all sockets
  LogBudget& log_budget;
  std::function<absl::Status(int fd, uint64_t token)> watch;  // adds a socket to epoll
};

// The offers' own validity, as a PartStatus per part, before any socket exists.
absl::Status ValidatePlan(const api::DhcpPlan& plan, InterfaceStatus* status);

class ServedInterface {
 public:
  ServedInterface(uint64_t id, api::DhcpPlan plan, LoopShared& shared);

  // Opens every part that is not served yet and is worth trying; a part that fails keeps
  // its error. Logs what is served, what failed and, once, what the DHCPv4 offer leaves
  // out. Returns true when some part failed in a way a later retry may cure.
  bool Open();
  void Dispatch(Kind kind);

  uint64_t id() const { return id_; }
  const api::DhcpPlan& plan() const { return plan_; }
  const InterfaceStatus& status() const { return status_; }

 private:
  struct V4 {
    std::optional<Dhcpv4Responder> responder;
    Fd listen, send;
    std::unique_ptr<RateLimiter> limit;
    std::string last_client;  // to log a new lease once at info
  };
  struct V6 {
    std::optional<Dhcpv6Responder> responder;
    Fd listen;
    std::unique_ptr<RateLimiter> limit;
    std::string last_client;
  };
  struct Ra {
    std::vector<uint8_t> bytes;
    Fd sock, timer;
    std::unique_ptr<RateLimiter> limit;
    int initial_left = 0;
    Clock::time_point last_multicast{};
  };

  absl::Status OpenV4();
  absl::Status OpenV6();
  absl::Status OpenRa();
  void Fail(PartStatus& part, const char* name, absl::Status error, bool log);
  std::unique_ptr<RateLimiter> NewLimiter() const;

  // Reads one datagram; returns its length, kDrained or kSkip.
  ssize_t Receive(int fd, void* from, socklen_t from_len, int* hop_limit);
  void Note(const std::string& note, bool replied);
  void Count(const std::string& note);
  void HandleV4();
  void HandleV6();
  void HandleRs();
  void HandleRaTimer();
  bool SendRa(const in6_addr& dst);
  void SendMulticastRa();

  uint64_t id_;
  api::DhcpPlan plan_;
  LoopShared& shared_;
  std::optional<LinkInfo> link_;
  V4 v4_;
  V6 v6_;
  Ra ra_;
  InterfaceStatus status_;
  bool warned_left_out_ = false;
  bool opened_before_ = false;
};

}  // namespace k6t::dhcp::internal
