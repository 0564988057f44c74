#include "k6t/dhcp/server.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

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
#include "served_interface.h"
#include "sockets.h"
#include "spdlog/spdlog.h"

namespace k6t::dhcp {

using internal::Fd;
using internal::Kind;
using internal::ServedInterface;
using internal::Token;

namespace {
constexpr size_t kRecvBuffer = 65536;  // the largest UDP datagram; larger is truncated
}  // namespace

absl::Status InterfaceStatus::Overall() const {
  for (const auto& [part, name] :
       {std::pair{&v4, "dhcpv4"}, std::pair{&v6, "dhcpv6"}, std::pair{&ra, "ra"}})
    if (part->state == PartStatus::State::kFailed)
      return absl::Status(part->error.code(), absl::StrCat("DHCP on ", bridge, ": ", name, ": ",
                                                           part->error.message()));
  return absl::OkStatus();
}

struct Server::Impl {
  struct Command {
    std::optional<api::DhcpPlan> add;  // else remove `bridge`
    std::string bridge;
    std::promise<absl::Status> done;
  };

  explicit Impl(ServerOptions o) : opts(std::move(o)) {}

  ServerOptions opts;
  mutable std::mutex mu;
  std::map<std::string, api::DhcpPlan> plans;  // desired state, kept across Run()s
  std::map<std::string, std::unique_ptr<ServedInterface>> ifaces;  // loop thread only (under mu)
  std::deque<std::unique_ptr<Command>> commands;
  bool running = false;
  bool stop = false;
  int epoll_fd = -1;
  Fd wake_fd;
  Fd retry_timer;
  bool retry_armed = false;
  uint64_t next_id = 1;
  std::thread thread;
  std::function<void(absl::Status)> on_started;
  std::atomic<bool> loop_started{false};  // Run() got past opening the sockets
  std::condition_variable stopped_cv;     // running became false
  std::thread::id loop_thread;
  std::vector<uint8_t> buf = std::vector<uint8_t>(kRecvBuffer);
  internal::LogBudget log_budget;
  internal::LoopShared shared{opts, buf, log_budget,
                              [this](int fd, uint64_t token) { return Watch(fd, token); }};

  absl::Status Watch(int fd, uint64_t token) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = token;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
      return absl::InternalError(absl::StrCat("epoll_ctl: ", std::strerror(errno)));
    return absl::OkStatus();
  }

  // Loop thread, under mu. Replaces what served the bridge; whatever fails is in the
  // interface's status, and a failure a retry may cure arms the retry timer.
  absl::Status Open(const api::DhcpPlan& p) {
    ifaces.erase(p.bridge);  // closing an fd removes it from the epoll set
    auto iface = std::make_unique<ServedInterface>(next_id++, p, shared);
    if (iface->Open()) ArmRetry();
    absl::Status st = iface->status().Overall();
    ifaces[p.bridge] = std::move(iface);
    return st;
  }

  void ArmRetry() {
    if (retry_armed || !retry_timer.valid() || opts.retry_interval.count() <= 0) return;
    if (internal::ArmTimer(retry_timer.get(), static_cast<long>(opts.retry_interval.count())).ok())
      retry_armed = true;
  }

  void Retry() {
    uint64_t expirations = 0;
    if (read(retry_timer.get(), &expirations, sizeof(expirations)) < 0) return;
    retry_armed = false;
    bool again = false;
    for (auto& [name, iface] : ifaces) again = iface->Open() || again;
    if (again) ArmRetry();
  }

  ServedInterface* Find(uint64_t id) {
    for (auto& [name, i] : ifaces)
      if (i->id() == id) return i.get();
    return nullptr;
  }

  void Dispatch(uint64_t token) {
    if (token == Token(0, internal::kRetry)) {
      Retry();
      return;
    }
    ServedInterface* i = Find(token >> 3);
    if (i != nullptr) i->Dispatch(static_cast<Kind>(token & 7));
  }

  void RunCommands() {
    while (!commands.empty()) {
      std::unique_ptr<Command> c = std::move(commands.front());
      commands.pop_front();
      absl::Status st;
      if (c->add) {
        plans[c->add->bridge] = *c->add;
        st = Open(*c->add);
      } else {
        if (ifaces.erase(c->bridge)) spdlog::info("dhcp: stopped serving {}", c->bridge);
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
    auto retry = internal::OpenTimer();
    absl::Status st;
    std::unique_lock<std::mutex> l(mu);
    if (!epoll.valid() || !wake.valid())
      st = absl::InternalError(absl::StrCat("epoll/eventfd: ", std::strerror(errno)));
    if (st.ok() && !retry.ok()) st = retry.status();
    epoll_fd = epoll.get();
    if (st.ok()) st = Watch(wake.get(), Token(0, internal::kWake));
    if (st.ok()) st = Watch(retry->get(), Token(0, internal::kRetry));
    if (st.ok()) {
      wake_fd = std::move(wake);
      retry_timer = std::move(*retry);
    }
    if (!st.ok()) {
      Shutdown();
      l.unlock();
      if (on_started) on_started(st);
      return st;
    }
    // One interface that cannot be served never stops the others: Open() only records it.
    for (const auto& [name, plan] : plans) (void)Open(plan);
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
        if (events[k].data.u64 == Token(0, internal::kWake)) {
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
    retry_timer.reset();
    retry_armed = false;
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
          return internal::ValidatePlan(*c->add, nullptr);
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

absl::Status Server::AddInterface(const api::DhcpPlan& plan) {
  // Only a plan that names no bridge or asks for nothing is refused outright.
  if (plan.bridge.empty() || (!plan.v4 && !plan.v6 && !plan.ra))
    return internal::ValidatePlan(plan, nullptr);
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

std::optional<InterfaceStatus> Server::Status(const std::string& bridge) const {
  std::lock_guard<std::mutex> l(impl_->mu);
  auto it = impl_->ifaces.find(bridge);
  if (it == impl_->ifaces.end()) return std::nullopt;
  return it->second->status();
}

std::vector<InterfaceStatus> Server::Statuses() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  std::vector<InterfaceStatus> out;
  for (const auto& [name, iface] : impl_->ifaces) out.push_back(iface->status());
  return out;
}

std::optional<InterfaceStats> Server::Stats(const std::string& bridge) const {
  auto s = Status(bridge);
  if (!s) return std::nullopt;
  return s->stats;
}

}  // namespace k6t::dhcp
