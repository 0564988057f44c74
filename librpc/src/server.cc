// The server's I/O thread and lifecycle: accepts (peer check, client limit), moves bytes
// between the sockets and the Connections, hands request frames to the Dispatcher and its
// answers back, and drops clients that stall. See k6t/rpc/server.h.
#include "k6t/rpc/server.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "connection.h"
#include "dispatcher.h"
#include "k6t/rpc/frame.h"
#include "peer_credentials.h"
#include "socket_file.h"
#include "spdlog/spdlog.h"
#include "unix_socket.h"

namespace k6t::rpc {
namespace {

namespace msg = ::k6t::api::rpc;

constexpr uint64_t kListenId = 0;
constexpr uint64_t kWakeId = 1;
constexpr int kBacklog = 128;
constexpr auto kTick = std::chrono::milliseconds(100);
// Reads per connection per wakeup: one fast client does not starve the others (level-triggered
// epoll brings us back for the rest).
constexpr int kReadBudget = 16;

// Best effort: a refused peer gets one error frame before we close. The socket is fresh, so a
// small frame fits in its buffer; if it does not, the peer just sees the close.
void SendAndClose(int fd, const msg::Error& error) {
  const std::string frame = EncodeFrame(msg::EncodeError("null", error));
  (void)!send(fd, frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  close(fd);
}

}  // namespace

struct Server::Impl {
  explicit Impl(ServerOptions o)
      : opt(std::move(o)), dispatcher(opt, [this](uint64_t conn_id, std::string payload) {
          Complete(conn_id, std::move(payload));
        }) {}

  ServerOptions opt;
  ConnectionLimits limits;
  UidAllowList allowed;
  Dispatcher dispatcher;

  // ---- answers from the workers to the I/O thread (completions_mu)
  struct Completion {
    uint64_t conn_id = 0;
    std::string payload;
  };
  std::mutex completions_mu;
  std::vector<Completion> completions;

  // ---- I/O thread state (only touched by the I/O thread while it runs)
  int epfd = -1;
  int wakefd = -1;
  SocketFile socket;
  bool listen_paused = false;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> conns;
  uint64_t next_id = 2;  // 0 and 1 are the listener's and the wake fd's epoll ids
  std::thread io;
  std::thread::id io_id;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> nclients{0};
  Clock::time_point next_sweep{};

  // ---- lifecycle (lifecycle_mu)
  std::mutex lifecycle_mu;
  bool started = false;
  bool stopped = false;

  // ---- counters
  std::atomic<uint64_t> accepted{0}, refused_uid{0}, refused_full{0}, frames{0}, malformed{0},
      timed_out{0}, handled{0};

  // ===========================================================================================
  // Lifecycle

  absl::Status Start() {
    std::lock_guard<std::mutex> g(lifecycle_mu);
    if (started) return absl::FailedPreconditionError("command socket: already started");
    allowed = UidAllowList(opt.allowed_uids);
    opt.worker_threads = std::max(opt.worker_threads, 1);
    opt.max_clients = std::max(opt.max_clients, 1);
    opt.max_inflight_per_client = std::max<size_t>(opt.max_inflight_per_client, 1);
    limits = ConnectionLimits{opt.max_frame_bytes, opt.max_inflight_per_client,
                              opt.max_pending_output_bytes, opt.frame_timeout, opt.idle_timeout};
    auto sock = ListenOn(opt.socket_path, kBacklog);
    if (!sock.ok()) return sock.status();
    socket = *sock;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epfd < 0 || wakefd < 0) {
      const int err = errno;
      CloseFds();
      RemoveSocketFile(opt.socket_path, socket);
      return absl::InternalError(absl::StrCat("command socket: epoll/eventfd: ", ErrnoText(err)));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenId;
    epoll_ctl(epfd, EPOLL_CTL_ADD, socket.fd, &ev);
    ev.data.u64 = kWakeId;
    epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev);
    started = true;
    stopping = false;
    dispatcher.Start(opt.worker_threads);
    io = std::thread([this] { IoLoop(); });
    io_id = io.get_id();
    spdlog::info("command socket: listening on {} (mode 0600, uids {}, {} workers)",
                 opt.socket_path, allowed.ToString(), opt.worker_threads);
    return absl::OkStatus();
  }

  void CloseFds() {
    for (int* fd : {&socket.fd, &wakefd, &epfd}) {
      if (*fd >= 0) close(*fd);
      *fd = -1;
    }
  }

  void Stop() {
    const auto self = std::this_thread::get_id();
    if (self == io_id || dispatcher.IsWorker(self)) {
      spdlog::error("command socket: Stop() called from a server thread; ignored");
      return;
    }
    std::lock_guard<std::mutex> g(lifecycle_mu);
    if (!started || stopped) return;
    stopped = true;
    stopping = true;
    Wake();
    io.join();
    dispatcher.Stop();
    CloseFds();
    RemoveSocketFile(opt.socket_path, socket);
    spdlog::info("command socket: stopped ({} accepted, {} refused, {} malformed frames)",
                 accepted.load(), refused_uid.load() + refused_full.load(), malformed.load());
  }

  void Wake() {
    const uint64_t one = 1;
    (void)!write(wakefd, &one, sizeof(one));
  }

  // Called on a worker thread.
  void Complete(uint64_t conn_id, std::string payload) {
    {
      std::lock_guard<std::mutex> g(completions_mu);
      completions.push_back({conn_id, std::move(payload)});
    }
    Wake();
  }

  // ===========================================================================================
  // I/O thread

  void IoLoop() {
    epoll_event events[64];
    while (!stopping.load()) {
      const int timeout = conns.empty() && !listen_paused ? -1 : static_cast<int>(kTick.count());
      const int n = epoll_wait(epfd, events, 64, timeout);
      if (n < 0 && errno != EINTR) {
        spdlog::error("command socket: epoll_wait: {}", ErrnoText(errno));
        break;
      }
      for (int i = 0; i < n; ++i) {
        const uint64_t id = events[i].data.u64;
        if (id == kListenId) {
          AcceptAll();
        } else if (id == kWakeId) {
          uint64_t v;
          (void)!read(wakefd, &v, sizeof(v));
        } else {
          OnConnEvent(id, events[i].events);
        }
      }
      ProcessCompletions();
      const auto now = Clock::now();
      if (now >= next_sweep) {
        Sweep(now);
        next_sweep = now + kTick;
      }
    }
    conns.clear();
    nclients = 0;
  }

  void AcceptAll() {
    while (true) {
      const int fd = accept4(socket.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: stop polling the listener for a tick instead of spinning on it.
          spdlog::error("command socket: accept: {}; pausing accepts", ErrnoText(errno));
          SetListenInterest(false);
        }
        return;
      }
      auto peer = PeerOf(fd);
      if (!peer.ok()) {
        spdlog::warn("command socket: {}; connection refused",
                     std::string(peer.status().message()));
        close(fd);
        ++refused_uid;
        continue;
      }
      if (!allowed.Allows(peer->uid)) {
        ++refused_uid;
        spdlog::warn(
            "command socket: refused connection from pid {} uid {} gid {}: uid not allowed",
            peer->pid, peer->uid, peer->gid);
        SendAndClose(fd, msg::MakeError(msg::ErrorCode::kUnauthorized,
                                        absl::StrCat("uid ", peer->uid, " is not allowed")));
        continue;
      }
      if (conns.size() >= static_cast<size_t>(opt.max_clients)) {
        ++refused_full;
        spdlog::warn("command socket: refused connection from pid {} uid {}: {} clients connected",
                     peer->pid, peer->uid, conns.size());
        SendAndClose(
            fd, msg::MakeError(msg::ErrorCode::kBusy,
                               absl::StrCat("too many clients (limit ", opt.max_clients, ")")));
        continue;
      }
      auto c = std::make_unique<Connection>(fd, next_id++, *peer, limits);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = c->id();
      if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        spdlog::error("command socket: epoll_ctl add: {}", ErrnoText(errno));
        continue;  // the Connection closes the fd
      }
      c->registered_events = EPOLLIN;
      ++accepted;
      spdlog::debug("command socket: client {} connected (pid {} uid {})", c->id(), peer->pid,
                    peer->uid);
      conns.emplace(c->id(), std::move(c));
      nclients = conns.size();
    }
  }

  void SetListenInterest(bool on) {
    epoll_event ev{};
    ev.events = on ? static_cast<uint32_t>(EPOLLIN) : 0u;
    ev.data.u64 = kListenId;
    epoll_ctl(epfd, EPOLL_CTL_MOD, socket.fd, &ev);
    listen_paused = !on;
  }

  Connection* Find(uint64_t id) {
    auto it = conns.find(id);
    return it == conns.end() ? nullptr : it->second.get();
  }

  void OnConnEvent(uint64_t id, uint32_t events) {
    Connection* c = Find(id);
    if (!c) return;
    if (events & EPOLLIN) Read(*c);
    if (!c->dead() && (events & EPOLLOUT)) c->Flush();
    // The peer closed both directions (or the socket failed): nothing we send can arrive, and
    // level-triggered HUP would spin while we wait for workers. Requests already handed to
    // workers still run; their responses are discarded.
    if (events & (EPOLLHUP | EPOLLERR)) {
      if (c->ReadAllowed()) Read(*c);
      c->MarkDead();
    }
    Settle(*c);
  }

  void Read(Connection& c) {
    for (int budget = kReadBudget; budget > 0 && c.ReadAllowed(); --budget) {
      switch (c.ReadOnce()) {
        case Connection::ReadOutcome::kData:
          Dispatch(c);
          continue;
        case Connection::ReadOutcome::kFramingLost:
          ++malformed;
          spdlog::warn("command socket: client {} (pid {} uid {}): {}; closing", c.id(),
                       c.peer().pid, c.peer().uid, std::string(c.framing_error().message()));
          // Frames decoded before the bad header are still answered, then the error, then
          // the connection closes.
          Dispatch(c);
          c.Send(msg::EncodeError("null", msg::StatusToError(c.framing_error())));
          return;
        case Connection::ReadOutcome::kWouldBlock:
        case Connection::ReadOutcome::kEof:
        case Connection::ReadOutcome::kFailed:
          return;
      }
    }
  }

  void Dispatch(Connection& c) {
    while (auto frame = c.NextRequest()) {
      ++frames;
      Dispatcher::Outcome out = dispatcher.Handle(c.id(), *frame);
      if (out.malformed) ++malformed;
      if (out.answer) {
        c.Send(*out.answer);
      } else {
        c.RequestQueued();
      }
    }
  }

  // After any change to a connection: answer frames that can now be answered, update the epoll
  // interest, and close it if it is finished.
  void Settle(Connection& c) {
    if (!c.dead()) Dispatch(c);
    if (c.dead() || c.Finished()) {
      CloseConn(c.id());
      return;
    }
    const uint32_t want = c.WantedEvents();
    if (want != c.registered_events) {
      epoll_event ev{};
      ev.events = want;
      ev.data.u64 = c.id();
      epoll_ctl(epfd, EPOLL_CTL_MOD, c.fd(), &ev);
      c.registered_events = want;
    }
  }

  void CloseConn(uint64_t id) {
    auto it = conns.find(id);
    if (it == conns.end()) return;
    spdlog::debug("command socket: client {} disconnected", id);
    epoll_ctl(epfd, EPOLL_CTL_DEL, it->second->fd(), nullptr);
    conns.erase(it);
    nclients = conns.size();
  }

  void ProcessCompletions() {
    std::vector<Completion> done;
    {
      std::lock_guard<std::mutex> g(completions_mu);
      done.swap(completions);
    }
    for (auto& d : done) {
      ++handled;
      Connection* c = Find(d.conn_id);
      if (!c) continue;  // the client went away; its answer has nowhere to go
      c->RequestDone();
      c->Send(d.payload);
      Settle(*c);
    }
  }

  void Sweep(Clock::time_point now) {
    if (listen_paused) SetListenInterest(true);
    std::vector<uint64_t> drop;
    for (auto& [id, c] : conns) {
      const char* why = nullptr;
      switch (c->Expired(now)) {
        case Connection::Expiry::kNone:
          continue;
        case Connection::Expiry::kIdle:
          spdlog::debug("command socket: client {} idle; closing", id);
          drop.push_back(id);
          continue;
        case Connection::Expiry::kFrameTimeout:
          why = "frame not completed in time";
          break;
        case Connection::Expiry::kStalledReader:
          why = "not reading its responses";
          break;
      }
      ++timed_out;
      spdlog::warn("command socket: dropping client {} (pid {} uid {}): {}", id, c->peer().pid,
                   c->peer().uid, why);
      drop.push_back(id);
    }
    for (uint64_t id : drop) CloseConn(id);
  }
};

// =============================================================================================

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() { Stop(); }

void Server::Register(std::string method, MethodHandler handler, MethodOptions options) {
  if (method == msg::kMethodPing) {
    spdlog::error("command socket: Ping is built in and cannot be registered");
    return;
  }
  impl_->dispatcher.Register(std::move(method), std::move(handler), options);
}

absl::Status Server::Start() { return impl_->Start(); }

void Server::Stop() { impl_->Stop(); }

ServerStats Server::stats() const {
  ServerStats s;
  s.accepted = impl_->accepted;
  s.refused_uid = impl_->refused_uid;
  s.refused_full = impl_->refused_full;
  s.frames = impl_->frames;
  s.malformed = impl_->malformed;
  s.timed_out = impl_->timed_out;
  s.handled = impl_->handled;
  return s;
}

size_t Server::client_count() const { return impl_->nclients.load(); }

const std::string& Server::socket_path() const { return impl_->opt.socket_path; }

}  // namespace k6t::rpc
