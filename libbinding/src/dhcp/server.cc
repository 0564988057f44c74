#include "k6t/binding/dhcp/server.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "dhcp/frames.h"
#include "dhcp/rate_limiter.h"
#include "dhcp/sockets.h"
#include "k6t/api/hash.h"
#include "k6t/api/net.h"
#include "k6t/binding/dhcp/responder.h"
#include "spdlog/spdlog.h"

namespace k6t::binding::dhcp {
namespace {

using internal::Fd;
using Clock = std::chrono::steady_clock;

enum Kind : uint64_t { kWake = 0, kV4 = 1, kV6 = 2, kRs = 3, kRaTimer = 4 };
constexpr ssize_t kDrained = -2;
constexpr ssize_t kSkip = -1;
constexpr size_t kRecvBuffer = 65536;  // the largest UDP datagram; larger is truncated
constexpr auto kMinMulticastRaGap = std::chrono::seconds(3);  // RFC 4861 MIN_DELAY_BETWEEN_RAS

uint64_t Token(uint64_t id, Kind k) { return id << 3 | k; }

uint64_t MacKey(const Mac& m) {
  uint64_t k = 0;
  for (uint8_t b : m) k = k << 8 | b;
  return k;
}

uint64_t BytesKey(const void* data, size_t n) {
  return api::Fnv1a64(std::string_view(static_cast<const char*>(data), n));
}

// Log lines a guest can trigger are limited, so a flood cannot flood the log too.
class LogBudget {
 public:
  bool Allow(Clock::time_point now) { return limiter_.Allow(0, now); }

 private:
  internal::RateLimiter limiter_{1.0, 20.0, 1};
};

}  // namespace

struct Server::Impl {
  struct Iface {
    uint64_t id = 0;
    DhcpPlan plan;
    internal::LinkInfo link;
    std::optional<Dhcpv4Responder> v4;
    std::optional<Dhcpv6Responder> v6;
    std::optional<RouterAdvertParams> ra;
    std::vector<uint8_t> ra_bytes;
    Fd v4_listen, v4_send, v6_listen, rs_sock, ra_timer;
    int initial_ras_left = 0;
    Clock::time_point last_multicast_ra{};
    std::string last_v4_client, last_v6_client;  // to log a new lease once at info
    std::unique_ptr<internal::RateLimiter> v4_limit, v6_limit, rs_limit;
    InterfaceStats stats;
  };

  struct Command {
    std::optional<DhcpPlan> add;  // else remove `bridge`
    std::string bridge;
    std::promise<absl::Status> done;
  };

  explicit Impl(ServerOptions o) : opts(std::move(o)) {}

  ServerOptions opts;
  mutable std::mutex mu;
  std::map<std::string, DhcpPlan> plans;                 // desired state, kept across Run()s
  std::map<std::string, std::unique_ptr<Iface>> ifaces;  // open, loop thread only (under mu)
  std::deque<std::unique_ptr<Command>> commands;
  bool running = false;
  bool stop = false;
  int epoll_fd = -1;
  Fd wake_fd;
  uint64_t next_id = 1;
  std::thread thread;
  std::function<void(absl::Status)> on_started;
  std::atomic<bool> loop_started{false};  // Run() got past opening the sockets
  std::condition_variable stopped_cv;     // running became false
  std::thread::id loop_thread;
  std::vector<uint8_t> buf = std::vector<uint8_t>(kRecvBuffer);
  LogBudget log_budget;

  absl::Status Validate(const DhcpPlan& p) const {
    if (p.bridge.empty()) return absl::InvalidArgumentError("DHCP plan without a bridge");
    const std::string where = absl::StrCat("DHCP plan for ", p.bridge, ": ");
    auto wrap = [&](absl::Status st, const char* part) {
      return absl::Status(st.code(), absl::StrCat(where, part, ": ", st.message()));
    };
    if (p.v4)
      if (auto r = Dhcpv4Responder::Create(*p.v4, p.client_mac); !r.ok())
        return wrap(r.status(), "v4");
    if (p.v6)
      if (auto r = Dhcpv6Responder::Create(*p.v6, Mac{}, p.client_mac); !r.ok())
        return wrap(r.status(), "v6");
    if (p.ra)
      if (auto r = MakeRouterAdvert(*p.ra, Mac{}); !r.ok()) return wrap(r.status(), "ra");
    if (!p.v4 && !p.v6 && !p.ra) return absl::InvalidArgumentError(where + "nothing to serve");
    return absl::OkStatus();
  }

  absl::Status Watch(int fd, uint64_t token) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = token;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
      return absl::InternalError(absl::StrCat("epoll_ctl: ", std::strerror(errno)));
    return absl::OkStatus();
  }

  // Loop thread, under mu. Opens every socket first so a failure leaves nothing behind.
  absl::Status Open(const DhcpPlan& p) {
    auto it = ifaces.find(p.bridge);
    if (it != ifaces.end()) Close(it);
    auto iface = std::make_unique<Iface>();
    iface->id = next_id++;
    iface->plan = p;
    auto link = internal::GetLinkInfo(p.bridge);
    if (!link.ok()) return link.status();
    iface->link = *link;
    const std::string mac = p.client_mac;
    auto limiter = [&] {
      return std::make_unique<internal::RateLimiter>(opts.client_rate, opts.client_burst,
                                                     opts.max_clients);
    };
    if (p.v4) {
      auto r = Dhcpv4Responder::Create(*p.v4, mac);
      if (!r.ok()) return r.status();
      iface->v4 = std::move(*r);
      auto l = internal::OpenDhcpv4Listener(p.bridge);
      if (!l.ok()) return l.status();
      auto s = internal::OpenPacketSender(p.bridge, link->ifindex);
      if (!s.ok()) return s.status();
      iface->v4_listen = std::move(*l);
      iface->v4_send = std::move(*s);
      iface->v4_limit = limiter();
    }
    if (p.v6) {
      auto r = Dhcpv6Responder::Create(*p.v6, link->mac, mac);
      if (!r.ok()) return r.status();
      iface->v6 = std::move(*r);
      auto l = internal::OpenDhcpv6Listener(p.bridge, link->ifindex);
      if (!l.ok()) return l.status();
      iface->v6_listen = std::move(*l);
      iface->v6_limit = limiter();
    }
    if (p.ra) {
      auto r = MakeRouterAdvert(*p.ra, link->mac);
      if (!r.ok()) return r.status();
      r->router_lifetime = opts.ra_router_lifetime;
      iface->ra = *r;
      iface->ra_bytes = EncodeRouterAdvert(*r);
      auto s = internal::OpenRouterSocket(p.bridge, link->ifindex);
      if (!s.ok()) return s.status();
      auto t = internal::OpenTimer();
      if (!t.ok()) return t.status();
      iface->rs_sock = std::move(*s);
      iface->ra_timer = std::move(*t);
      iface->rs_limit = limiter();
      iface->initial_ras_left = opts.initial_ras;
      if (absl::Status st = internal::ArmTimer(iface->ra_timer.get(), 0); !st.ok()) return st;
    }
    const std::pair<const Fd*, Kind> watched[] = {{&iface->v4_listen, kV4},
                                                  {&iface->v6_listen, kV6},
                                                  {&iface->rs_sock, kRs},
                                                  {&iface->ra_timer, kRaTimer}};
    for (const auto& [fd, kind] : watched)
      if (fd->valid())
        if (absl::Status st = Watch(fd->get(), Token(iface->id, kind)); !st.ok()) return st;
    spdlog::info("dhcp: serving {} (ifindex {}, mac {}):{}{}{}{}", p.bridge, link->ifindex,
                 api::MacAddress(link->mac).ToString(), p.v4 ? " dhcpv4 " + p.v4->client_ip : "",
                 p.v6 ? " dhcpv6 " + p.v6->client_ip : "", p.ra ? " ra " + p.ra->prefix : "",
                 p.client_mac.empty() ? "" : " only for " + p.client_mac);
    ifaces[p.bridge] = std::move(iface);
    return absl::OkStatus();
  }

  void Close(std::map<std::string, std::unique_ptr<Iface>>::iterator it) {
    // Closing an fd removes it from the epoll set; events already returned for it are
    // looked up by id and find nothing.
    spdlog::info("dhcp: stopped serving {}", it->first);
    ifaces.erase(it);
  }

  Iface* Find(uint64_t id) {
    for (auto& [name, i] : ifaces)
      if (i->id == id) return i.get();
    return nullptr;
  }

  void Note(Iface& i, const std::string& note, bool replied) {
    if (!log_budget.Allow(Clock::now())) return;
    if (replied) {
      spdlog::debug("dhcp {}: {}", i.plan.bridge, note);
    } else {
      spdlog::debug("dhcp {}: no reply: {}", i.plan.bridge, note);
    }
  }

  void Count(Iface& i, const std::string& note) {
    if (note.rfind("malformed", 0) == 0) {
      ++i.stats.malformed;
    } else {
      ++i.stats.ignored;
    }
    Note(i, note, false);
  }

  // Reads one datagram; returns its length, kDrained, or kSkip.
  ssize_t Receive(Iface& i, int fd, void* from, socklen_t from_len, int* ifindex, int* hop_limit) {
    iovec iov{buf.data(), buf.size()};
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
          log_budget.Allow(Clock::now()))
        spdlog::warn("dhcp {}: recvmsg: {}", i.plan.bridge, std::strerror(errno));
      return errno == EINTR ? kSkip : kDrained;
    }
    ++i.stats.received;
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
      Count(i, "malformed: datagram larger than 64 KiB");
      return kSkip;
    }
    *ifindex = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo pi;
        std::memcpy(&pi, CMSG_DATA(c), sizeof(pi));
        *ifindex = pi.ipi_ifindex;
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo pi;
        std::memcpy(&pi, CMSG_DATA(c), sizeof(pi));
        *ifindex = static_cast<int>(pi.ipi6_ifindex);
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT && hop_limit) {
        std::memcpy(hop_limit, CMSG_DATA(c), sizeof(int));
      }
    }
    // SO_BINDTODEVICE already filters; the ifindex check keeps that true if a socket is
    // ever opened without it.
    if (*ifindex != i.link.ifindex) {
      Count(i, "received on another interface");
      return kSkip;
    }
    return n;
  }

  void HandleV4(Iface& i) {
    for (int k = 0; k < opts.max_packets_per_wakeup; ++k) {
      sockaddr_in from{};
      int ifindex = 0;
      const ssize_t n = Receive(i, i.v4_listen.get(), &from, sizeof(from), &ifindex, nullptr);
      if (n == kDrained) return;
      if (n == kSkip) continue;
      Dhcpv4Outcome out = i.v4->Respond(std::span<const uint8_t>(buf.data(), n));
      if (!out.reply) {
        Count(i, out.note);
        continue;
      }
      if (!i.v4_limit->Allow(MacKey(out.reply->message.client_mac()), Clock::now())) {
        ++i.stats.rate_limited;
        continue;
      }
      const Dhcpv4Reply& r = *out.reply;
      const std::vector<uint8_t> frame = internal::BuildUdp4(r.src_ip, r.dst_ip, 67, 68, r.payload);
      sockaddr_ll to{};
      to.sll_family = AF_PACKET;
      to.sll_protocol = htons(ETH_P_IP);
      to.sll_ifindex = i.link.ifindex;
      to.sll_halen = 6;
      std::memcpy(to.sll_addr, r.dst_mac.data(), 6);
      if (sendto(i.v4_send.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof(to)) < 0) {
        ++i.stats.send_errors;
        if (log_budget.Allow(Clock::now()))
          spdlog::warn("dhcp {}: send to {}: {}", i.plan.bridge, FormatIpv4(r.dst_ip),
                       std::strerror(errno));
        continue;
      }
      ++i.stats.replied;
      const std::string client = api::MacAddress(r.message.client_mac()).ToString();
      if (r.message.Type() == Dhcpv4Type::kAck && r.message.yiaddr != Ipv4{} &&
          client != i.last_v4_client) {
        i.last_v4_client = client;
        spdlog::info("dhcp {}: leased {} to {}", i.plan.bridge, FormatIpv4(r.message.yiaddr),
                     client);
      }
      Note(i, out.note, true);
    }
  }

  void HandleV6(Iface& i) {
    for (int k = 0; k < opts.max_packets_per_wakeup; ++k) {
      sockaddr_in6 from{};
      int ifindex = 0;
      const ssize_t n = Receive(i, i.v6_listen.get(), &from, sizeof(from), &ifindex, nullptr);
      if (n == kDrained) return;
      if (n == kSkip) continue;
      Ipv6 src;
      std::memcpy(src.data(), &from.sin6_addr, 16);
      Dhcpv6Outcome out = i.v6->Respond(std::span<const uint8_t>(buf.data(), n), src);
      if (!out.reply) {
        Count(i, out.note);
        continue;
      }
      const std::string* duid = out.reply->Find(opt6::kClientId);
      const uint64_t key = duid ? BytesKey(duid->data(), duid->size()) : BytesKey(&src, 16);
      if (!i.v6_limit->Allow(key, Clock::now())) {
        ++i.stats.rate_limited;
        continue;
      }
      sockaddr_in6 to{};
      to.sin6_family = AF_INET6;
      to.sin6_port = htons(kDhcpv6ClientPort);
      to.sin6_addr = from.sin6_addr;
      to.sin6_scope_id = static_cast<uint32_t>(i.link.ifindex);
      if (sendto(i.v6_listen.get(), out.payload.data(), out.payload.size(), 0,
                 reinterpret_cast<sockaddr*>(&to), sizeof(to)) < 0) {
        ++i.stats.send_errors;
        if (log_budget.Allow(Clock::now()))
          spdlog::warn("dhcp {}: send to {}: {}", i.plan.bridge, FormatIpv6(src),
                       std::strerror(errno));
        continue;
      }
      ++i.stats.replied;
      const std::string client = FormatIpv6(src);
      if (out.reply->type == Dhcpv6Type::kReply && out.reply->Find(opt6::kIaNa) != nullptr &&
          client != i.last_v6_client) {
        i.last_v6_client = client;
        spdlog::info("dhcp {}: leased {} to {}", i.plan.bridge, i.plan.v6->client_ip, client);
      }
      Note(i, out.note, true);
    }
  }

  bool SendRa(Iface& i, const in6_addr& dst) {
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_addr = dst;
    to.sin6_scope_id = static_cast<uint32_t>(i.link.ifindex);
    if (sendto(i.rs_sock.get(), i.ra_bytes.data(), i.ra_bytes.size(), 0,
               reinterpret_cast<sockaddr*>(&to), sizeof(to)) < 0) {
      ++i.stats.send_errors;
      // EADDRNOTAVAIL: the bridge has no link-local address yet (no carrier, DAD); the
      // next periodic RA retries.
      if (log_budget.Allow(Clock::now()))
        spdlog::debug("dhcp {}: router advertisement: {}", i.plan.bridge, std::strerror(errno));
      return false;
    }
    ++i.stats.replied;
    return true;
  }

  void SendMulticastRa(Iface& i) {
    in6_addr all_nodes{};
    inet_pton(AF_INET6, "ff02::1", &all_nodes);
    if (SendRa(i, all_nodes)) i.last_multicast_ra = Clock::now();
  }

  void HandleRs(Iface& i) {
    for (int k = 0; k < opts.max_packets_per_wakeup; ++k) {
      sockaddr_in6 from{};
      int ifindex = 0;
      int hop_limit = -1;
      const ssize_t n = Receive(i, i.rs_sock.get(), &from, sizeof(from), &ifindex, &hop_limit);
      if (n == kDrained) return;
      if (n == kSkip) continue;
      if (hop_limit != 255) {
        Count(i, absl::StrCat("malformed: router solicitation with hop limit ", hop_limit));
        continue;
      }
      auto rs = ParseRouterSolicit(std::span<const uint8_t>(buf.data(), n));
      if (!rs.ok()) {
        Count(i, absl::StrCat("malformed: ", rs.status().message()));
        continue;
      }
      const bool unspecified = IN6_IS_ADDR_UNSPECIFIED(&from.sin6_addr);
      if (unspecified && rs->source_link_addr) {  // RFC 4861 §6.1.1
        Count(i, "malformed: solicitation from :: with a link-layer address");
        continue;
      }
      if (!i.rs_limit->Allow(BytesKey(&from.sin6_addr, 16), Clock::now())) {
        ++i.stats.rate_limited;
        continue;
      }
      if (!unspecified) {
        SendRa(i, from.sin6_addr);
      } else if (Clock::now() - i.last_multicast_ra >= kMinMulticastRaGap) {
        SendMulticastRa(i);
      } else {
        ++i.stats.rate_limited;
      }
    }
  }

  void HandleRaTimer(Iface& i) {
    uint64_t expirations = 0;
    if (read(i.ra_timer.get(), &expirations, sizeof(expirations)) < 0) return;
    SendMulticastRa(i);
    long next = static_cast<long>(opts.ra_interval.count());
    if (i.initial_ras_left > 0 && --i.initial_ras_left > 0)
      next = static_cast<long>(opts.ra_initial_interval.count());
    if (absl::Status st = internal::ArmTimer(i.ra_timer.get(), next); !st.ok())
      spdlog::warn("dhcp {}: {}", i.plan.bridge, st.ToString());
  }

  void Dispatch(uint64_t token) {
    Iface* i = Find(token >> 3);
    if (i == nullptr) return;
    switch (token & 7) {
      case kV4:
        HandleV4(*i);
        break;
      case kV6:
        HandleV6(*i);
        break;
      case kRs:
        HandleRs(*i);
        break;
      case kRaTimer:
        HandleRaTimer(*i);
        break;
      default:
        break;
    }
  }

  void RunCommands() {
    while (!commands.empty()) {
      std::unique_ptr<Command> c = std::move(commands.front());
      commands.pop_front();
      absl::Status st;
      if (c->add) {
        st = Open(*c->add);
        if (st.ok()) {
          plans[c->add->bridge] = *c->add;
        } else {
          // Open() closed the previous sockets of a replaced plan: it is no longer served.
          if (!ifaces.count(c->add->bridge)) plans.erase(c->add->bridge);
          st =
              absl::Status(st.code(), absl::StrCat("serving ", c->add->bridge, ": ", st.message()));
        }
      } else {
        auto it = ifaces.find(c->bridge);
        if (it != ifaces.end()) Close(it);
        plans.erase(c->bridge);
      }
      c->done.set_value(st);
    }
  }

  absl::Status Run() {
    {
      std::lock_guard<std::mutex> l(mu);
      if (running) return absl::FailedPreconditionError("DHCP server already running");
      running = true;
      stop = false;
      loop_started = false;
      loop_thread = std::this_thread::get_id();
    }
    Fd epoll(epoll_create1(EPOLL_CLOEXEC));
    Fd wake(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    absl::Status st;
    std::unique_lock<std::mutex> l(mu);
    if (!epoll.valid() || !wake.valid())
      st = absl::InternalError(absl::StrCat("epoll/eventfd: ", std::strerror(errno)));
    epoll_fd = epoll.get();
    if (st.ok()) st = Watch(wake.get(), Token(0, kWake));
    if (st.ok()) wake_fd = std::move(wake);
    if (st.ok())
      for (const auto& [name, plan] : plans) {
        st = Open(plan);
        if (!st.ok()) {
          st = absl::Status(st.code(), absl::StrCat("serving ", name, ": ", st.message()));
          break;
        }
      }
    if (!st.ok()) {
      Shutdown();
      l.unlock();
      if (on_started) on_started(st);
      return st;
    }
    loop_started = true;
    if (on_started) on_started(absl::OkStatus());
    std::array<epoll_event, 32> events;
    while (!stop) {
      l.unlock();
      const int n = epoll_wait(epoll.get(), events.data(), events.size(), -1);
      const int err = errno;
      l.lock();
      if (n < 0) {
        if (err == EINTR) continue;
        st = absl::InternalError(absl::StrCat("epoll_wait: ", std::strerror(err)));
        break;
      }
      for (int k = 0; k < n && !stop; ++k) {
        if (events[k].data.u64 == Token(0, kWake)) {
          uint64_t v;
          while (read(wake_fd.get(), &v, sizeof(v)) > 0) {
          }
          continue;
        }
        Dispatch(events[k].data.u64);
      }
      RunCommands();
    }
    Shutdown();
    return st;
  }

  // Under mu: closes every socket, fails queued commands; the plans stay for a next Run().
  void Shutdown() {
    ifaces.clear();
    for (auto& c : commands) c->done.set_value(absl::CancelledError("DHCP server stopped"));
    commands.clear();
    wake_fd.reset();
    epoll_fd = -1;
    running = false;
    loop_thread = std::thread::id();
    stopped_cv.notify_all();
  }

  void Wake() {
    if (!wake_fd.valid()) return;
    const uint64_t one = 1;
    if (write(wake_fd.get(), &one, sizeof(one)) < 0) {
      // Only EAGAIN (counter saturated) is possible, and then a wake-up is pending anyway.
    }
  }

  absl::Status Submit(std::unique_ptr<Command> c) {
    std::future<absl::Status> f = c->done.get_future();
    {
      std::lock_guard<std::mutex> l(mu);
      if (!running) {
        if (c->add) {
          plans[c->add->bridge] = *c->add;
          return absl::OkStatus();
        }
        return plans.erase(c->bridge)
                   ? absl::OkStatus()
                   : absl::NotFoundError(absl::StrCat("DHCP server does not serve ", c->bridge));
      }
      if (!c->add && !plans.count(c->bridge))
        return absl::NotFoundError(absl::StrCat("DHCP server does not serve ", c->bridge));
      commands.push_back(std::move(c));
      Wake();
    }
    return f.get();
  }
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() { Stop(); }

absl::Status Server::AddInterface(const DhcpPlan& plan) {
  if (absl::Status st = impl_->Validate(plan); !st.ok()) return st;
  auto c = std::make_unique<Impl::Command>();
  c->add = plan;
  c->bridge = plan.bridge;
  return impl_->Submit(std::move(c));
}

absl::Status Server::RemoveInterface(const std::string& bridge) {
  auto c = std::make_unique<Impl::Command>();
  c->bridge = bridge;
  return impl_->Submit(std::move(c));
}

absl::Status Server::Run() { return impl_->Run(); }

absl::Status Server::Start() {
  if (impl_->thread.joinable()) return absl::FailedPreconditionError("DHCP server already started");
  std::promise<absl::Status> started;
  std::future<absl::Status> f = started.get_future();
  impl_->on_started = [&started](absl::Status st) { started.set_value(std::move(st)); };
  impl_->thread = std::thread([this] {
    absl::Status st = impl_->Run();
    // An error before the loop started is Start()'s return value; log only a loop failure.
    if (!st.ok() && impl_->loop_started)
      spdlog::error("dhcp: server loop ended: {}", st.ToString());
  });
  absl::Status st = f.get();
  impl_->on_started = nullptr;
  if (!st.ok()) impl_->thread.join();
  return st;
}

void Server::Stop() {
  {
    std::unique_lock<std::mutex> l(impl_->mu);
    impl_->stop = true;
    impl_->Wake();
    // Also when the loop runs in a caller's Run(): the server must not be destroyed under it.
    if (impl_->loop_thread != std::this_thread::get_id())
      impl_->stopped_cv.wait(l, [&] { return !impl_->running; });
  }
  if (impl_->thread.joinable() && impl_->thread.get_id() != std::this_thread::get_id())
    impl_->thread.join();
}

std::optional<InterfaceStats> Server::Stats(const std::string& bridge) const {
  std::lock_guard<std::mutex> l(impl_->mu);
  auto it = impl_->ifaces.find(bridge);
  if (it == impl_->ifaces.end()) return std::nullopt;
  return it->second->stats;
}

}  // namespace k6t::binding::dhcp
