// The sockets of the DHCP/RA servers, each bound to one bridge. Everything the servers do
// with the kernel goes through these (no shell-outs, no netlink).
#pragma once

#include <unistd.h>

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "k6t/dhcp/dhcpv4_packet.h"

namespace k6t::dhcp::internal {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  void reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

struct LinkInfo {
  int ifindex = 0;
  Mac mac{};
  int mtu = 0;
};

absl::StatusOr<LinkInfo> GetLinkInfo(const std::string& dev);
// UDP 0.0.0.0:67 on `dev`, IP_PKTINFO on.
absl::StatusOr<Fd> OpenDhcpv4Listener(const std::string& dev);
// AF_PACKET/SOCK_DGRAM bound to the link, protocol 0 so it never queues received frames.
absl::StatusOr<Fd> OpenPacketSender(const std::string& dev, int ifindex);
// UDP [::]:547 on `dev`, joined to ff02::1:2, IPV6_RECVPKTINFO on.
absl::StatusOr<Fd> OpenDhcpv6Listener(const std::string& dev, int ifindex);
// Raw ICMPv6 on `dev`, filtered to router solicitations, joined to ff02::2, hop limits 255.
absl::StatusOr<Fd> OpenRouterSocket(const std::string& dev, int ifindex);
absl::StatusOr<Fd> OpenTimer();
// Arms a one-shot timer `ms` from now.
absl::Status ArmTimer(int fd, long ms);

}  // namespace k6t::dhcp::internal
