#include "sockets.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace k6t::dhcp::internal {
namespace {

absl::Status Errno(const std::string& what, const std::string& dev) {
  return absl::Status(errno == EPERM || errno == EACCES ? absl::StatusCode::kPermissionDenied
                      : errno == ENODEV                 ? absl::StatusCode::kNotFound
                                                        : absl::StatusCode::kInternal,
                      absl::StrCat(what, " on ", dev, ": ", std::strerror(errno)));
}

template <typename T>
absl::Status SetOpt(int fd, int level, int name, const T& value, const char* what,
                    const std::string& dev) {
  if (setsockopt(fd, level, name, &value, sizeof(value)) != 0) return Errno(what, dev);
  return absl::OkStatus();
}

absl::Status BindToDevice(int fd, const std::string& dev) {
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev.c_str(),
                 static_cast<socklen_t>(dev.size() + 1)) != 0)
    return Errno("SO_BINDTODEVICE", dev);
  return absl::OkStatus();
}

#define K6T_RETURN_IF_ERROR(expr)                         \
  do {                                                    \
    if (absl::Status _st = (expr); !_st.ok()) return _st; \
  } while (0)

}  // namespace

absl::StatusOr<LinkInfo> GetLinkInfo(const std::string& dev) {
  if (dev.empty() || dev.size() >= IFNAMSIZ)
    return absl::InvalidArgumentError(absl::StrCat("bad interface name \"", dev, "\""));
  Fd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Errno("socket", dev);
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, dev.c_str(), dev.size());
  LinkInfo info;
  if (ioctl(fd.get(), SIOCGIFINDEX, &ifr) != 0) return Errno("SIOCGIFINDEX", dev);
  info.ifindex = ifr.ifr_ifindex;
  if (ioctl(fd.get(), SIOCGIFHWADDR, &ifr) != 0) return Errno("SIOCGIFHWADDR", dev);
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
    return absl::FailedPreconditionError(absl::StrCat(dev, " is not an Ethernet link"));
  std::memcpy(info.mac.data(), ifr.ifr_hwaddr.sa_data, 6);
  if (ioctl(fd.get(), SIOCGIFMTU, &ifr) != 0) return Errno("SIOCGIFMTU", dev);
  info.mtu = ifr.ifr_mtu;
  return info;
}

absl::StatusOr<Fd> OpenDhcpv4Listener(const std::string& dev) {
  Fd fd(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP));
  if (!fd.valid()) return Errno("socket(AF_INET, UDP)", dev);
  const int one = 1;
  K6T_RETURN_IF_ERROR(SetOpt(fd.get(), SOL_SOCKET, SO_REUSEADDR, one, "SO_REUSEADDR", dev));
  K6T_RETURN_IF_ERROR(SetOpt(fd.get(), IPPROTO_IP, IP_PKTINFO, one, "IP_PKTINFO", dev));
  K6T_RETURN_IF_ERROR(BindToDevice(fd.get(), dev));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(67);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
    return Errno("bind 0.0.0.0:67", dev);
  return fd;
}

absl::StatusOr<Fd> OpenPacketSender(const std::string& dev, int ifindex) {
  Fd fd(socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Errno("socket(AF_PACKET)", dev);
  sockaddr_ll a{};
  a.sll_family = AF_PACKET;
  a.sll_ifindex = ifindex;
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
    return Errno("bind AF_PACKET", dev);
  return fd;
}

absl::StatusOr<Fd> OpenDhcpv6Listener(const std::string& dev, int ifindex) {
  Fd fd(socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP));
  if (!fd.valid()) return Errno("socket(AF_INET6, UDP)", dev);
  const int one = 1;
  K6T_RETURN_IF_ERROR(SetOpt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, one, "IPV6_V6ONLY", dev));
  K6T_RETURN_IF_ERROR(SetOpt(fd.get(), SOL_SOCKET, SO_REUSEADDR, one, "SO_REUSEADDR", dev));
  K6T_RETURN_IF_ERROR(
      SetOpt(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, one, "IPV6_RECVPKTINFO", dev));
  K6T_RETURN_IF_ERROR(BindToDevice(fd.get(), dev));
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(547);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
    return Errno("bind [::]:547", dev);
  ipv6_mreq mreq{};
  inet_pton(AF_INET6, "ff02::1:2", &mreq.ipv6mr_multiaddr);
  mreq.ipv6mr_interface = static_cast<unsigned>(ifindex);
  K6T_RETURN_IF_ERROR(SetOpt(fd.get(), IPPROTO_IPV6, IPV6_JOIN_GROUP, mreq, "join ff02::1:2", dev));
  return fd;
}

absl::StatusOr<Fd> OpenRouterSocket(const std::string& dev, int ifindex) {
  Fd fd(socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6));
  if (!fd.valid()) return Errno("socket(AF_INET6, ICMPv6)", dev);
  icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  ICMP6_FILTER_SETPASS(ND_ROUTER_SOLICIT, &filter);
  K6T_RETURN_IF_ERROR(SetOpt(fd.get(), IPPROTO_ICMPV6, ICMP6_FILTER, filter, "ICMP6_FILTER", dev));
  const int one = 1;
  const int zero = 0;
  const int hops = 255;
  K6T_RETURN_IF_ERROR(
      SetOpt(fd.get(), IPPROTO_IPV6, IPV6_RECVHOPLIMIT, one, "IPV6_RECVHOPLIMIT", dev));
  K6T_RETURN_IF_ERROR(
      SetOpt(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, one, "IPV6_RECVPKTINFO", dev));
  K6T_RETURN_IF_ERROR(
      SetOpt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_HOPS, hops, "IPV6_MULTICAST_HOPS", dev));
  K6T_RETURN_IF_ERROR(
      SetOpt(fd.get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS, hops, "IPV6_UNICAST_HOPS", dev));
  K6T_RETURN_IF_ERROR(
      SetOpt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_LOOP, zero, "IPV6_MULTICAST_LOOP", dev));
  K6T_RETURN_IF_ERROR(
      SetOpt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex, "IPV6_MULTICAST_IF", dev));
  K6T_RETURN_IF_ERROR(BindToDevice(fd.get(), dev));
  ipv6_mreq mreq{};
  inet_pton(AF_INET6, "ff02::2", &mreq.ipv6mr_multiaddr);
  mreq.ipv6mr_interface = static_cast<unsigned>(ifindex);
  K6T_RETURN_IF_ERROR(SetOpt(fd.get(), IPPROTO_IPV6, IPV6_JOIN_GROUP, mreq, "join ff02::2", dev));
  return fd;
}

absl::StatusOr<Fd> OpenTimer() {
  Fd fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!fd.valid()) return Errno("timerfd_create", "-");
  return fd;
}

absl::Status ArmTimer(int fd, long ms) {
  itimerspec t{};
  t.it_value.tv_sec = ms / 1000;
  t.it_value.tv_nsec = (ms % 1000) * 1'000'000L;
  if (t.it_value.tv_sec == 0 && t.it_value.tv_nsec == 0) t.it_value.tv_nsec = 1;
  if (timerfd_settime(fd, 0, &t, nullptr) != 0) return Errno("timerfd_settime", "-");
  return absl::OkStatus();
}

}  // namespace k6t::dhcp::internal
