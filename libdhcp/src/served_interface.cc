#include "served_interface.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "frames.h"
#include "spdlog/spdlog.h"

namespace k6t::dhcp::internal {
namespace {

constexpr ssize_t kDrained = -2;
constexpr ssize_t kSkip = -1;
constexpr auto kMinMulticastRaGap = std::chrono::seconds(3);  // RFC 4861 MIN_DELAY_BETWEEN_RAS

uint64_t MacKey(const Mac& m) {
  uint64_t k = 0;
  for (uint8_t b : m) k = k << 8 | b;
  return k;
}

uint64_t BytesKey(const void* data, size_t n) {  // FNV-1a
  uint64_t h = 1469598103934665603ull;
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

// A part whose offer is invalid stays failed: retrying cannot change the plan.
bool Retryable(const absl::Status& st) { return !absl::IsInvalidArgument(st); }

void StartWaiting(PartStatus& part) {
  part.state = PartStatus::State::kFailed;
  part.error = absl::UnavailableError("not opened yet");
  part.retrying = true;
}

}  // namespace

absl::Status ValidatePlan(const api::DhcpPlan& p, InterfaceStatus* status) {
  InterfaceStatus local;
  InterfaceStatus& s = status ? *status : local;
  s.bridge = p.bridge;
  if (p.bridge.empty()) return absl::InvalidArgumentError("DHCP plan without a bridge");
  if (!p.v4 && !p.v6 && !p.ra)
    return absl::InvalidArgumentError(
        absl::StrCat("DHCP plan for ", p.bridge, ": nothing to serve"));
  auto check = [](bool requested, absl::Status st, PartStatus& part) {
    if (!requested) return;
    if (st.ok()) {
      StartWaiting(part);
    } else {
      part.state = PartStatus::State::kFailed;
      part.error = st;
      part.retrying = false;
    }
  };
  // The MACs are the bridge's, known once it is open; any MAC validates the offer.
  check(p.v4.has_value(),
        p.v4 ? Dhcpv4Responder::Create(*p.v4, p.client_mac).status() : absl::OkStatus(), s.v4);
  check(p.v6.has_value(),
        p.v6 ? Dhcpv6Responder::Create(*p.v6, Mac{}, p.client_mac).status() : absl::OkStatus(),
        s.v6);
  check(p.ra.has_value(), p.ra ? MakeRouterAdvert(*p.ra, Mac{}).status() : absl::OkStatus(), s.ra);
  for (const PartStatus* part : {&s.v4, &s.v6, &s.ra})
    if (part->state == PartStatus::State::kFailed && !part->retrying) return s.Overall();
  return absl::OkStatus();
}

ServedInterface::ServedInterface(uint64_t id, api::DhcpPlan plan, LoopShared& shared)
    : id_(id), plan_(std::move(plan)), shared_(shared) {
  (void)ValidatePlan(plan_, &status_);
}

std::unique_ptr<RateLimiter> ServedInterface::NewLimiter() const {
  const ServerOptions& o = shared_.options;
  return std::make_unique<RateLimiter>(o.client_rate, o.client_burst, o.max_clients);
}

void ServedInterface::Fail(PartStatus& part, const char* name, absl::Status error, bool log) {
  // Logged once per distinct failure, not at every retry.
  const bool changed = part.state != PartStatus::State::kFailed ||
                       part.error.code() != error.code() || part.error.message() != error.message();
  part.state = PartStatus::State::kFailed;
  part.retrying = Retryable(error) && shared_.options.retry_interval.count() > 0;
  part.error = std::move(error);
  if (changed && log)
    spdlog::warn("dhcp {}: {} not served: {}{}", plan_.bridge, name, part.error.ToString(),
                 part.retrying ? absl::StrCat(" (trying again every ",
                                              shared_.options.retry_interval.count(), " ms)")
                               : std::string());
}

absl::Status ServedInterface::OpenV4() {
  auto r = Dhcpv4Responder::Create(*plan_.v4, plan_.client_mac, link_->mtu);
  if (!r.ok()) return r.status();
  auto listen = OpenDhcpv4Listener(plan_.bridge);
  if (!listen.ok()) return listen.status();
  auto send = OpenPacketSender(plan_.bridge, link_->ifindex);
  if (!send.ok()) return send.status();
  if (absl::Status st = shared_.watch(listen->get(), Token(id_, kV4)); !st.ok()) return st;
  v4_.listen = std::move(*listen);
  v4_.send = std::move(*send);
  v4_.limit = NewLimiter();
  status_.v4_left_out = r->left_out();
  if (!r->left_out().empty() && !warned_left_out_) {
    warned_left_out_ = true;
    spdlog::warn("dhcp {}: the DHCPv4 offer leaves out {}{}", plan_.bridge,
                 absl::StrJoin(r->left_out(), "; "),
                 r->max_message() > kDhcpv4MinMaxMessage
                     ? absl::StrCat(" (in a ", kDhcpv4MinMaxMessage,
                                    "-byte reply; clients that accept up to ", r->max_message(),
                                    " bytes with option 57 get more)")
                     : std::string());
  }
  v4_.responder = std::move(*r);
  return absl::OkStatus();
}

absl::Status ServedInterface::OpenV6() {
  auto r = Dhcpv6Responder::Create(*plan_.v6, link_->mac, plan_.client_mac);
  if (!r.ok()) return r.status();
  auto listen = OpenDhcpv6Listener(plan_.bridge, link_->ifindex);
  if (!listen.ok()) return listen.status();
  if (absl::Status st = shared_.watch(listen->get(), Token(id_, kV6)); !st.ok()) return st;
  v6_.listen = std::move(*listen);
  v6_.limit = NewLimiter();
  status_.v6_left_out = r->left_out();
  if (!r->left_out().empty())
    spdlog::warn("dhcp {}: the DHCPv6 offer leaves out {}", plan_.bridge,
                 absl::StrJoin(r->left_out(), "; "));
  v6_.responder = std::move(*r);
  return absl::OkStatus();
}

absl::Status ServedInterface::OpenRa() {
  auto params = MakeRouterAdvert(*plan_.ra, link_->mac);
  if (!params.ok()) return params.status();
  params->router_lifetime = shared_.options.ra_router_lifetime;
  auto sock = OpenRouterSocket(plan_.bridge, link_->ifindex);
  if (!sock.ok()) return sock.status();
  auto timer = OpenTimer();
  if (!timer.ok()) return timer.status();
  if (absl::Status st = ArmTimer(timer->get(), 0); !st.ok()) return st;
  if (absl::Status st = shared_.watch(sock->get(), Token(id_, kRs)); !st.ok()) return st;
  if (absl::Status st = shared_.watch(timer->get(), Token(id_, kRaTimer)); !st.ok()) return st;
  ra_.sock = std::move(*sock);
  ra_.timer = std::move(*timer);
  ra_.limit = NewLimiter();
  ra_.initial_left = shared_.options.initial_ras;
  ra_.bytes = EncodeRouterAdvert(*params);
  return absl::OkStatus();
}

bool ServedInterface::Open() {
  using State = PartStatus::State;
  if (!opened_before_) {  // an invalid offer is reported once, here; it is never retried
    opened_before_ = true;
    for (auto [part, name] : {std::pair{&status_.v4, "dhcpv4"}, std::pair{&status_.v6, "dhcpv6"},
                              std::pair{&status_.ra, "ra"}})
      if (part->state == State::kFailed && !part->retrying)
        spdlog::warn("dhcp {}: {} not served: {}", plan_.bridge, name, part->error.ToString());
  }
  auto wanted = [](const PartStatus& p) { return p.state == State::kFailed && p.retrying; };
  if (!wanted(status_.v4) && !wanted(status_.v6) && !wanted(status_.ra)) return false;
  if (!link_) {
    auto link = GetLinkInfo(plan_.bridge);
    if (!link.ok()) {
      bool logged = false;  // one line for the bridge, not one per part
      for (PartStatus* part : {&status_.v4, &status_.v6, &status_.ra})
        if (wanted(*part)) {
          const bool changed = part->error.message() != link.status().message();
          Fail(*part, "DHCP/RA", link.status(), /*log=*/changed && !logged);
          logged = logged || changed;
        }
      return wanted(status_.v4) || wanted(status_.v6) || wanted(status_.ra);
    }
    link_ = *link;
  }
  struct Part {
    PartStatus& status;
    absl::Status (ServedInterface::*open)();
    const char* name;
  };
  std::vector<std::string> served;
  for (Part p : {Part{status_.v4, &ServedInterface::OpenV4, "dhcpv4"},
                 Part{status_.v6, &ServedInterface::OpenV6, "dhcpv6"},
                 Part{status_.ra, &ServedInterface::OpenRa, "ra"}}) {
    if (!wanted(p.status)) continue;
    absl::Status st = (this->*p.open)();
    if (st.ok()) {
      p.status = PartStatus{State::kServing, absl::OkStatus(), false};
      served.push_back(p.name);
    } else {
      Fail(p.status, p.name, std::move(st), /*log=*/true);
    }
  }
  if (!served.empty())
    spdlog::info("dhcp: serving {} (ifindex {}, mac {}, mtu {}): {}{}{}{}{}", plan_.bridge,
                 link_->ifindex, FormatMac(link_->mac), link_->mtu, absl::StrJoin(served, " "),
                 plan_.v4 && status_.v4.state == State::kServing ? " " + plan_.v4->client_ip : "",
                 plan_.v6 && status_.v6.state == State::kServing ? " " + plan_.v6->client_ip : "",
                 plan_.ra && status_.ra.state == State::kServing ? " " + plan_.ra->prefix : "",
                 plan_.client_mac.empty() ? "" : " only for " + plan_.client_mac);
  return wanted(status_.v4) || wanted(status_.v6) || wanted(status_.ra);
}

void ServedInterface::Dispatch(Kind kind) {
  using State = PartStatus::State;
  switch (kind) {
    case kV4:
      if (status_.v4.state == State::kServing) HandleV4();
      break;
    case kV6:
      if (status_.v6.state == State::kServing) HandleV6();
      break;
    case kRs:
      if (status_.ra.state == State::kServing) HandleRs();
      break;
    case kRaTimer:
      if (status_.ra.state == State::kServing) HandleRaTimer();
      break;
    default:
      break;
  }
}

void ServedInterface::Note(const std::string& note, bool replied) {
  if (!shared_.log_budget.Allow(Clock::now())) return;
  if (replied) {
    spdlog::debug("dhcp {}: {}", plan_.bridge, note);
  } else {
    spdlog::debug("dhcp {}: no reply: {}", plan_.bridge, note);
  }
}

void ServedInterface::Count(const std::string& note) {
  if (note.rfind("malformed", 0) == 0) {
    ++status_.stats.malformed;
  } else {
    ++status_.stats.ignored;
  }
  Note(note, false);
}

// Reads one datagram; returns its length, kDrained, or kSkip.
ssize_t ServedInterface::Receive(int fd, void* from, socklen_t from_len, int* hop_limit) {
  iovec iov{shared_.buffer.data(), shared_.buffer.size()};
  alignas(cmsghdr) char control[256];
  msghdr msg{};
  msg.msg_name = from;
  msg.msg_namelen = from_len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  const ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
        shared_.log_budget.Allow(Clock::now()))
      spdlog::warn("dhcp {}: recvmsg: {}", plan_.bridge, std::strerror(errno));
    return errno == EINTR ? kSkip : kDrained;
  }
  ++status_.stats.received;
  if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    Count("malformed: datagram larger than 64 KiB");
    return kSkip;
  }
  int ifindex = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof(pi));
      ifindex = pi.ipi_ifindex;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof(pi));
      ifindex = static_cast<int>(pi.ipi6_ifindex);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT && hop_limit) {
      std::memcpy(hop_limit, CMSG_DATA(c), sizeof(int));
    }
  }
  // SO_BINDTODEVICE already filters; the ifindex check keeps that true if a socket is
  // ever opened without it.
  if (ifindex != link_->ifindex) {
    Count("received on another interface");
    return kSkip;
  }
  return n;
}

void ServedInterface::HandleV4() {
  for (int k = 0; k < shared_.options.max_packets_per_wakeup; ++k) {
    sockaddr_in from{};
    const ssize_t n = Receive(v4_.listen.get(), &from, sizeof(from), nullptr);
    if (n == kDrained) return;
    if (n == kSkip) continue;
    Dhcpv4Outcome out = v4_.responder->Respond(std::span<const uint8_t>(shared_.buffer.data(), n));
    if (!out.reply) {
      Count(out.note);
      continue;
    }
    if (!v4_.limit->Allow(MacKey(out.reply->message.client_mac()), Clock::now())) {
      ++status_.stats.rate_limited;
      continue;
    }
    const Dhcpv4Reply& r = *out.reply;
    const std::vector<uint8_t> frame = BuildUdp4(r.src_ip, r.dst_ip, 67, 68, r.payload);
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_IP);
    to.sll_ifindex = link_->ifindex;
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, r.dst_mac.data(), 6);
    if (sendto(v4_.send.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to),
               sizeof(to)) < 0) {
      ++status_.stats.send_errors;
      if (shared_.log_budget.Allow(Clock::now()))
        spdlog::warn("dhcp {}: send to {}: {}", plan_.bridge, FormatIpv4(r.dst_ip),
                     std::strerror(errno));
      continue;
    }
    ++status_.stats.replied;
    const std::string client = FormatMac(r.message.client_mac());
    if (r.message.Type() == Dhcpv4Type::kAck && r.message.yiaddr != Ipv4{} &&
        client != v4_.last_client) {
      v4_.last_client = client;
      spdlog::info("dhcp {}: leased {} to {}", plan_.bridge, FormatIpv4(r.message.yiaddr), client);
    }
    Note(out.note, true);
  }
}

void ServedInterface::HandleV6() {
  for (int k = 0; k < shared_.options.max_packets_per_wakeup; ++k) {
    sockaddr_in6 from{};
    const ssize_t n = Receive(v6_.listen.get(), &from, sizeof(from), nullptr);
    if (n == kDrained) return;
    if (n == kSkip) continue;
    Ipv6 src;
    std::memcpy(src.data(), &from.sin6_addr, 16);
    Dhcpv6Outcome out =
        v6_.responder->Respond(std::span<const uint8_t>(shared_.buffer.data(), n), src);
    if (!out.reply) {
      Count(out.note);
      continue;
    }
    const std::string* duid = out.reply->Find(opt6::kClientId);
    const uint64_t key = duid ? BytesKey(duid->data(), duid->size()) : BytesKey(&src, 16);
    if (!v6_.limit->Allow(key, Clock::now())) {
      ++status_.stats.rate_limited;
      continue;
    }
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_port = htons(kDhcpv6ClientPort);
    to.sin6_addr = from.sin6_addr;
    to.sin6_scope_id = static_cast<uint32_t>(link_->ifindex);
    if (sendto(v6_.listen.get(), out.payload.data(), out.payload.size(), 0,
               reinterpret_cast<sockaddr*>(&to), sizeof(to)) < 0) {
      ++status_.stats.send_errors;
      if (shared_.log_budget.Allow(Clock::now()))
        spdlog::warn("dhcp {}: send to {}: {}", plan_.bridge, FormatIpv6(src),
                     std::strerror(errno));
      continue;
    }
    ++status_.stats.replied;
    const std::string client = FormatIpv6(src);
    if (out.reply->type == Dhcpv6Type::kReply && out.reply->Find(opt6::kIaNa) != nullptr &&
        client != v6_.last_client) {
      v6_.last_client = client;
      spdlog::info("dhcp {}: leased {} to {}", plan_.bridge, plan_.v6->client_ip, client);
    }
    Note(out.note, true);
  }
}

bool ServedInterface::SendRa(const in6_addr& dst) {
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  to.sin6_addr = dst;
  to.sin6_scope_id = static_cast<uint32_t>(link_->ifindex);
  if (sendto(ra_.sock.get(), ra_.bytes.data(), ra_.bytes.size(), 0,
             reinterpret_cast<sockaddr*>(&to), sizeof(to)) < 0) {
    ++status_.stats.send_errors;
    // EADDRNOTAVAIL: the bridge has no link-local address yet (no carrier, DAD); the
    // next periodic RA retries.
    if (shared_.log_budget.Allow(Clock::now()))
      spdlog::debug("dhcp {}: router advertisement: {}", plan_.bridge, std::strerror(errno));
    return false;
  }
  ++status_.stats.replied;
  return true;
}

void ServedInterface::SendMulticastRa() {
  in6_addr all_nodes{};
  inet_pton(AF_INET6, "ff02::1", &all_nodes);
  if (SendRa(all_nodes)) ra_.last_multicast = Clock::now();
}

void ServedInterface::HandleRs() {
  for (int k = 0; k < shared_.options.max_packets_per_wakeup; ++k) {
    sockaddr_in6 from{};
    int hop_limit = -1;
    const ssize_t n = Receive(ra_.sock.get(), &from, sizeof(from), &hop_limit);
    if (n == kDrained) return;
    if (n == kSkip) continue;
    if (hop_limit != 255) {
      Count(absl::StrCat("malformed: router solicitation with hop limit ", hop_limit));
      continue;
    }
    auto rs = ParseRouterSolicit(std::span<const uint8_t>(shared_.buffer.data(), n));
    if (!rs.ok()) {
      Count(absl::StrCat("malformed: ", rs.status().message()));
      continue;
    }
    const bool unspecified = IN6_IS_ADDR_UNSPECIFIED(&from.sin6_addr);
    if (unspecified && rs->source_link_addr) {  // RFC 4861 §6.1.1
      Count("malformed: solicitation from :: with a link-layer address");
      continue;
    }
    if (!ra_.limit->Allow(BytesKey(&from.sin6_addr, 16), Clock::now())) {
      ++status_.stats.rate_limited;
      continue;
    }
    if (!unspecified) {
      SendRa(from.sin6_addr);
    } else if (Clock::now() - ra_.last_multicast >= kMinMulticastRaGap) {
      SendMulticastRa();
    } else {
      ++status_.stats.rate_limited;
    }
  }
}

void ServedInterface::HandleRaTimer() {
  uint64_t expirations = 0;
  if (read(ra_.timer.get(), &expirations, sizeof(expirations)) < 0) return;
  SendMulticastRa();
  long next = static_cast<long>(shared_.options.ra_interval.count());
  if (ra_.initial_left > 0 && --ra_.initial_left > 0)
    next = static_cast<long>(shared_.options.ra_initial_interval.count());
  if (absl::Status st = ArmTimer(ra_.timer.get(), next); !st.ok())
    spdlog::warn("dhcp {}: {}", plan_.bridge, st.ToString());
}

}  // namespace k6t::dhcp::internal
