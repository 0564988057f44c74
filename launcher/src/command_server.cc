#include "command_server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "k6t/api/errno_status.h"
#include "spdlog/spdlog.h"

namespace k6t::launcher {

namespace rpc = ::k6t::api::rpc;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint64_t kListenId = 0;
constexpr uint64_t kWakeId = 1;
constexpr size_t kReadChunk = 64 * 1024;
constexpr auto kTick = std::chrono::milliseconds(100);

rpc::Error MakeError(rpc::ErrorCode code, std::string message) {
  rpc::Error e;
  e.code = static_cast<int>(code);
  e.message = std::move(message);
  return e;
}

// Creates every missing directory of `dir` with mode 0700 (existing ones are left alone).
absl::Status MakeParentDirs(const std::string& dir) {
  if (dir.empty()) return absl::OkStatus();
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    const std::string prefix = dir.substr(0, pos);
    if (prefix.empty()) continue;
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return api::ErrnoStatus(absl::StrCat("command socket: mkdir ", prefix), errno);
    }
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("command socket: ", dir, " is not a directory"));
  }
  return absl::OkStatus();
}

bool FillAddress(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr->sun_path)) return false;
  std::memcpy(addr->sun_path, path.data(), path.size());
  return true;
}

// Best effort: a refused peer gets one error frame before we close. The socket is fresh, so a
// small frame fits in its buffer; if it does not, the peer just sees the close.
void SendAndClose(int fd, const std::string& payload) {
  const std::string frame = rpc::EncodeFrame(payload);
  (void)!send(fd, frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  close(fd);
}

}  // namespace

struct CommandServer::Impl {
  struct Method {
    Handler handler;
    MethodOptions options;
  };

  struct Conn {
    explicit Conn(size_t max_frame) : decoder(max_frame) {}
    int fd = -1;
    uint64_t id = 0;
    pid_t pid = 0;
    uid_t uid = 0;
    rpc::FrameDecoder decoder;
    std::deque<std::string> out;
    size_t out_offset = 0;
    size_t out_bytes = 0;
    size_t inflight = 0;
    Clock::time_point frame_start{};
    Clock::time_point last_activity{};
    Clock::time_point last_write_progress{};
    bool read_closed = false;  // EOF seen, or framing lost: nothing more will be read
    bool dead = false;         // close at the next opportunity, drop what is pending
    uint32_t events = 0;
  };

  struct Task {
    uint64_t conn_id = 0;
    std::string id_json;
    std::string method;
    std::string params_json;
    Handler handler;
    bool exclusive = false;
  };

  struct Completion {
    uint64_t conn_id = 0;
    std::string payload;
  };

  explicit Impl(CommandServerOptions o) : opt(std::move(o)) {}

  // ---- configuration and methods (mu)
  CommandServerOptions opt;
  std::vector<uid_t> allowed;
  mutable std::mutex mu;
  std::unordered_map<std::string, Method> methods;

  // ---- worker pool (qmu)
  std::mutex qmu;
  std::condition_variable qcv;
  std::deque<Task> queue;
  std::set<std::string> running_exclusive;
  bool workers_stop = false;
  std::vector<std::thread> workers;
  std::vector<std::thread::id> worker_ids;

  // ---- completions from workers to the I/O thread (cmu)
  std::mutex cmu;
  std::vector<Completion> completions;

  // ---- I/O thread state (only touched by the I/O thread while it runs)
  int epfd = -1;
  int wakefd = -1;
  int listen_fd = -1;
  bool listen_paused = false;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns;
  uint64_t next_id = 2;
  std::thread io;
  std::thread::id io_id;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> nclients{0};
  Clock::time_point next_sweep{};

  // ---- lifecycle (stop_mu)
  std::mutex stop_mu;
  bool started = false;
  bool stopped = false;
  dev_t sock_dev = 0;
  ino_t sock_ino = 0;

  // ---- counters
  std::atomic<uint64_t> st_accepted{0}, st_refused_uid{0}, st_refused_full{0}, st_frames{0},
      st_malformed{0}, st_timed_out{0}, st_handled{0};

  // ===========================================================================================
  // Setup

  absl::Status CreateSocket() {
    const std::string& path = opt.socket_path;
    if (path.empty()) return absl::InvalidArgumentError("command socket: empty socket path");
    sockaddr_un addr;
    if (!FillAddress(path, &addr)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "command socket: path ", path, " is longer than ", sizeof(addr.sun_path) - 1, " bytes"));
    }
    const size_t slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) {
      if (auto s = MakeParentDirs(path.substr(0, slash)); !s.ok()) return s;
    }
    struct stat st;
    if (lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) {
        return absl::FailedPreconditionError(
            absl::StrCat("command socket: ", path, " exists and is not a socket"));
      }
      // A socket someone still listens on belongs to a live launcher: do not steal it.
      int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (probe >= 0) {
        const bool live = connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
        close(probe);
        if (live) {
          return absl::AlreadyExistsError(
              absl::StrCat("command socket: another server is listening on ", path));
        }
      }
      if (unlink(path.c_str()) != 0 && errno != ENOENT) {
        return api::ErrnoStatus(absl::StrCat("command socket: unlink stale ", path), errno);
      }
      spdlog::info("command socket: replaced stale socket file {}", path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return api::ErrnoStatus("command socket: socket", errno);
    // bind() creates the file with the socket inode's mode (minus umask): 0600 from the start.
    (void)fchmod(fd, 0600);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      const int err = errno;
      close(fd);
      return api::ErrnoStatus(absl::StrCat("command socket: bind ", path), err);
    }
    // Nobody can connect before listen(), so fixing the mode here leaves no window either way.
    if (chmod(path.c_str(), 0600) != 0 || stat(path.c_str(), &st) != 0 ||
        (st.st_mode & 07777) != 0600) {
      const int err = errno;
      close(fd);
      unlink(path.c_str());
      return api::ErrnoStatus(absl::StrCat("command socket: cannot make ", path, " mode 0600"),
                              err);
    }
    sock_dev = st.st_dev;
    sock_ino = st.st_ino;
    if (listen(fd, 128) != 0) {
      const int err = errno;
      close(fd);
      unlink(path.c_str());
      return api::ErrnoStatus(absl::StrCat("command socket: listen ", path), err);
    }
    listen_fd = fd;
    return absl::OkStatus();
  }

  absl::Status Start() {
    std::lock_guard<std::mutex> g(stop_mu);
    if (started) return absl::FailedPreconditionError("command socket: already started");
    allowed = opt.allowed_uids;
    if (allowed.empty()) allowed = {0, geteuid()};
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    if (opt.worker_threads < 1) opt.worker_threads = 1;
    if (opt.max_clients < 1) opt.max_clients = 1;
    if (opt.max_inflight_per_client < 1) opt.max_inflight_per_client = 1;
    if (auto s = CreateSocket(); !s.ok()) return s;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epfd < 0 || wakefd < 0) {
      const int err = errno;
      CloseFds();
      unlink(opt.socket_path.c_str());
      return api::ErrnoStatus("command socket: epoll/eventfd", err);
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenId;
    epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev);
    ev.data.u64 = kWakeId;
    epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev);
    started = true;
    stopping = false;
    workers_stop = false;
    for (int i = 0; i < opt.worker_threads; ++i) {
      workers.emplace_back([this] { WorkerLoop(); });
      worker_ids.push_back(workers.back().get_id());
    }
    io = std::thread([this] { IoLoop(); });
    io_id = io.get_id();
    spdlog::info("command socket: listening on {} (mode 0600, uids {}, {} workers)",
                 opt.socket_path, absl::StrJoin(allowed, ","), opt.worker_threads);
    return absl::OkStatus();
  }

  void CloseFds() {
    for (int* fd : {&listen_fd, &wakefd, &epfd}) {
      if (*fd >= 0) close(*fd);
      *fd = -1;
    }
  }

  void Stop() {
    const auto self = std::this_thread::get_id();
    if (self == io_id ||
        std::find(worker_ids.begin(), worker_ids.end(), self) != worker_ids.end()) {
      spdlog::error("command socket: Stop() called from a server thread; ignored");
      return;
    }
    std::lock_guard<std::mutex> g(stop_mu);
    if (!started || stopped) return;
    stopped = true;
    stopping = true;
    Wake();
    io.join();
    {
      std::lock_guard<std::mutex> q(qmu);
      workers_stop = true;
      queue.clear();
    }
    qcv.notify_all();
    for (auto& t : workers) t.join();
    workers.clear();
    CloseFds();
    // Remove the socket only if it is still the one we created (a successor may own the path).
    struct stat st;
    if (lstat(opt.socket_path.c_str(), &st) == 0 && st.st_dev == sock_dev &&
        st.st_ino == sock_ino) {
      unlink(opt.socket_path.c_str());
    }
    spdlog::info("command socket: stopped ({} accepted, {} refused, {} malformed frames)",
                 st_accepted.load(), st_refused_uid.load() + st_refused_full.load(),
                 st_malformed.load());
  }

  void Wake() {
    const uint64_t one = 1;
    (void)!write(wakefd, &one, sizeof(one));
  }

  // ===========================================================================================
  // Workers

  std::deque<Task>::iterator Runnable() {
    return std::find_if(queue.begin(), queue.end(), [this](const Task& t) {
      return !t.exclusive || running_exclusive.count(t.method) == 0;
    });
  }

  void WorkerLoop() {
    std::unique_lock<std::mutex> lk(qmu);
    while (true) {
      qcv.wait(lk, [this] { return workers_stop || Runnable() != queue.end(); });
      if (workers_stop) return;
      auto it = Runnable();
      Task task = std::move(*it);
      queue.erase(it);
      if (task.exclusive) running_exclusive.insert(task.method);
      lk.unlock();

      const auto start = Clock::now();
      absl::StatusOr<std::string> result;
      try {
        result = task.handler(task.params_json);
      } catch (const std::exception& e) {
        result =
            absl::InternalError(absl::StrCat(task.method, ": unexpected exception: ", e.what()));
      } catch (...) {
        result = absl::InternalError(absl::StrCat(task.method, ": unexpected exception"));
      }
      const auto ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
      if (result.ok()) {
        spdlog::debug("command socket: {} id={} ok in {} ms", task.method, task.id_json, ms);
      } else {
        spdlog::info("command socket: {} id={} failed in {} ms: {}", task.method, task.id_json, ms,
                     result.status().ToString());
      }
      PostCompletion(task.conn_id, MakeResponse(task.id_json, result));

      lk.lock();
      if (task.exclusive) {
        running_exclusive.erase(task.method);
        qcv.notify_all();
      }
    }
  }

  std::string MakeResponse(const std::string& id_json, const absl::StatusOr<std::string>& r) {
    std::string payload = r.ok() ? rpc::EncodeResult(id_json, *r)
                                 : rpc::EncodeError(id_json, rpc::StatusToError(r.status()));
    if (payload.size() > opt.max_frame_bytes) {
      auto e = rpc::StatusToError(absl::ResourceExhaustedError(
          absl::StrCat("response of ", payload.size(), " bytes exceeds the frame limit of ",
                       opt.max_frame_bytes, " bytes")));
      payload = rpc::EncodeError(id_json, e);
    }
    return payload;
  }

  void PostCompletion(uint64_t conn_id, std::string payload) {
    {
      std::lock_guard<std::mutex> g(cmu);
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
        spdlog::error("command socket: epoll_wait: {}", api::ErrnoText(errno));
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
    for (auto& [id, c] : conns) close(c->fd);
    conns.clear();
    nclients = 0;
  }

  bool UidAllowed(uid_t uid) const {
    return std::find(allowed.begin(), allowed.end(), uid) != allowed.end();
  }

  void AcceptAll() {
    while (true) {
      const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: stop polling the listener for a tick instead of spinning on it.
          spdlog::error("command socket: accept: {}; pausing accepts", api::ErrnoText(errno));
          SetListenInterest(false);
        }
        return;
      }
      ucred cred{};
      socklen_t len = sizeof(cred);
      if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        spdlog::warn("command socket: SO_PEERCRED: {}; connection refused", api::ErrnoText(errno));
        close(fd);
        ++st_refused_uid;
        continue;
      }
      if (!UidAllowed(cred.uid)) {
        ++st_refused_uid;
        spdlog::warn(
            "command socket: refused connection from pid {} uid {} gid {}: uid not allowed",
            cred.pid, cred.uid, cred.gid);
        SendAndClose(fd, rpc::EncodeError(
                             "null", MakeError(rpc::ErrorCode::kUnauthorized,
                                               absl::StrCat("uid ", cred.uid, " is not allowed"))));
        continue;
      }
      if (conns.size() >= static_cast<size_t>(opt.max_clients)) {
        ++st_refused_full;
        spdlog::warn("command socket: refused connection from pid {} uid {}: {} clients connected",
                     cred.pid, cred.uid, conns.size());
        SendAndClose(fd, rpc::EncodeError("null", MakeError(rpc::ErrorCode::kBusy,
                                                            absl::StrCat("too many clients (limit ",
                                                                         opt.max_clients, ")"))));
        continue;
      }
      auto c = std::make_unique<Conn>(opt.max_frame_bytes);
      c->fd = fd;
      c->id = next_id++;
      c->pid = cred.pid;
      c->uid = cred.uid;
      c->last_activity = Clock::now();
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = c->id;
      if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        spdlog::error("command socket: epoll_ctl add: {}", api::ErrnoText(errno));
        close(fd);
        continue;
      }
      c->events = EPOLLIN;
      ++st_accepted;
      spdlog::debug("command socket: client {} connected (pid {} uid {})", c->id, c->pid, c->uid);
      conns.emplace(c->id, std::move(c));
      nclients = conns.size();
    }
  }

  void SetListenInterest(bool on) {
    epoll_event ev{};
    ev.events = on ? static_cast<uint32_t>(EPOLLIN) : 0u;
    ev.data.u64 = kListenId;
    epoll_ctl(epfd, EPOLL_CTL_MOD, listen_fd, &ev);
    listen_paused = !on;
  }

  Conn* Find(uint64_t id) {
    auto it = conns.find(id);
    return it == conns.end() ? nullptr : it->second.get();
  }

  void OnConnEvent(uint64_t id, uint32_t events) {
    Conn* c = Find(id);
    if (!c) return;
    if (events & EPOLLIN) Read(c);
    if (!c->dead && (events & EPOLLOUT)) Flush(c);
    // The peer closed both directions (or the socket failed): nothing we send can arrive, and
    // level-triggered HUP would spin while we wait for workers. Requests already handed to
    // workers still run; their responses are discarded.
    if (events & (EPOLLHUP | EPOLLERR)) {
      if (!c->dead && !c->read_closed && ReadAllowed(*c)) Read(c);
      c->dead = true;
    }
    Settle(c);
  }

  bool ReadAllowed(const Conn& c) const {
    return !c.read_closed && !c.dead && c.inflight < opt.max_inflight_per_client &&
           c.out_bytes < opt.max_pending_output_bytes && c.decoder.pending_frames() == 0;
  }

  void Read(Conn* c) {
    char buf[kReadChunk];
    // A budget per wakeup keeps one fast client from starving the others; level-triggered
    // epoll brings us back for the rest.
    for (int budget = 16; budget > 0 && ReadAllowed(*c); --budget) {
      const ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          spdlog::debug("command socket: client {} read: {}", c->id, api::ErrnoText(errno));
          c->dead = true;
        }
        return;
      }
      if (r == 0) {
        c->read_closed = true;
        return;
      }
      const auto now = Clock::now();
      c->last_activity = now;
      const bool had_partial = c->decoder.partial_bytes() > 0;
      const uint64_t before = c->decoder.frames_completed();
      const absl::Status s = c->decoder.Feed(buf, static_cast<size_t>(r));
      if (c->decoder.partial_bytes() > 0 &&
          (!had_partial || c->decoder.frames_completed() != before))
        c->frame_start = now;
      if (!s.ok()) {
        ++st_malformed;
        spdlog::warn("command socket: client {} (pid {} uid {}): {}; closing", c->id, c->pid,
                     c->uid, std::string(s.message()));
        c->read_closed = true;
        // Frames decoded before the bad header are still answered, then the error, then close.
        Dispatch(c);
        Enqueue(c, rpc::EncodeError("null", rpc::StatusToError(s)));
        return;
      }
      Dispatch(c);
    }
  }

  void Dispatch(Conn* c) {
    while (!c->dead && c->inflight < opt.max_inflight_per_client &&
           c->out_bytes < opt.max_pending_output_bytes) {
      auto frame = c->decoder.Pop();
      if (!frame) return;
      ++st_frames;
      HandleFrame(c, *frame);
    }
  }

  void HandleFrame(Conn* c, const std::string& frame) {
    rpc::ParsedRequest parsed = rpc::ParseRequest(frame);
    if (parsed.error) {
      ++st_malformed;
      spdlog::debug("command socket: client {}: bad request: {}", c->id, parsed.error->message);
      Enqueue(c, rpc::EncodeError(parsed.id_json, *parsed.error));
      return;
    }
    rpc::Request& req = *parsed.request;
    if (req.method == rpc::kMethodPing) {
      rpc::Empty empty;
      if (auto s = rpc::FromJson(req.params_json, &empty); !s.ok()) {
        ++st_malformed;
        Enqueue(c, rpc::EncodeError(req.id_json, rpc::StatusToError(s)));
      } else {
        spdlog::trace("command socket: client {}: Ping", c->id);
        Enqueue(c, rpc::EncodeResult(req.id_json, rpc::ToJson(rpc::PingResult{opt.version})));
      }
      return;
    }
    Method method;
    {
      std::lock_guard<std::mutex> g(mu);
      auto it = methods.find(req.method);
      if (it == methods.end()) {
        ++st_malformed;
        Enqueue(c, rpc::EncodeError(req.id_json,
                                    MakeError(rpc::ErrorCode::kMethodNotFound,
                                              absl::StrCat("method \"", SanitizedMethod(req.method),
                                                           "\" not found"))));
        return;
      }
      method = it->second;
    }
    {
      std::lock_guard<std::mutex> q(qmu);
      if (queue.size() >= opt.max_queued_requests) {
        Enqueue(c, rpc::EncodeError(
                       req.id_json,
                       MakeError(rpc::ErrorCode::kBusy,
                                 absl::StrCat("server busy: ", queue.size(), " requests queued"))));
        return;
      }
      Task t;
      t.conn_id = c->id;
      t.id_json = req.id_json;
      t.method = req.method;
      t.params_json = std::move(req.params_json);
      t.handler = std::move(method.handler);
      t.exclusive = method.options.exclusive;
      queue.push_back(std::move(t));
    }
    ++c->inflight;
    qcv.notify_one();
  }

  // Method names come from the peer; keep log/error text printable and short.
  static std::string SanitizedMethod(const std::string& m) {
    std::string out;
    for (char ch : m.substr(0, 64)) out.push_back(ch >= 0x20 && ch < 0x7f && ch != '"' ? ch : '?');
    return out;
  }

  void Enqueue(Conn* c, std::string payload) {
    if (c->dead) return;
    if (c->out.empty()) c->last_write_progress = Clock::now();
    std::string frame = rpc::EncodeFrame(payload);
    c->out_bytes += frame.size();
    c->out.push_back(std::move(frame));
    Flush(c);
  }

  void Flush(Conn* c) {
    while (!c->out.empty() && !c->dead) {
      const std::string& front = c->out.front();
      const ssize_t w = send(c->fd, front.data() + c->out_offset, front.size() - c->out_offset,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          spdlog::debug("command socket: client {} write: {}", c->id, api::ErrnoText(errno));
          c->dead = true;
        }
        return;
      }
      c->out_offset += static_cast<size_t>(w);
      c->out_bytes -= static_cast<size_t>(w);
      c->last_write_progress = Clock::now();
      if (c->out_offset == front.size()) {
        c->out.pop_front();
        c->out_offset = 0;
      }
    }
  }

  // After any change to a connection: answer frames that can now be answered, update the epoll
  // interest, and close it if it is finished.
  void Settle(Conn* c) {
    if (!c->dead) Dispatch(c);
    const bool finished =
        c->read_closed && c->inflight == 0 && c->out.empty() && c->decoder.pending_frames() == 0;
    if (c->dead || finished) {
      CloseConn(c->id);
      return;
    }
    uint32_t want = 0;
    if (ReadAllowed(*c)) want |= EPOLLIN;
    if (!c->out.empty()) want |= EPOLLOUT;
    if (want != c->events) {
      epoll_event ev{};
      ev.events = want;
      ev.data.u64 = c->id;
      epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
      c->events = want;
    }
  }

  void CloseConn(uint64_t id) {
    auto it = conns.find(id);
    if (it == conns.end()) return;
    spdlog::debug("command socket: client {} disconnected", id);
    epoll_ctl(epfd, EPOLL_CTL_DEL, it->second->fd, nullptr);
    close(it->second->fd);
    conns.erase(it);
    nclients = conns.size();
  }

  void ProcessCompletions() {
    std::vector<Completion> done;
    {
      std::lock_guard<std::mutex> g(cmu);
      done.swap(completions);
    }
    for (auto& d : done) {
      ++st_handled;
      Conn* c = Find(d.conn_id);
      if (!c) continue;  // the client went away; its answer has nowhere to go
      --c->inflight;
      Enqueue(c, std::move(d.payload));
      Settle(c);
    }
  }

  void Sweep(Clock::time_point now) {
    if (listen_paused) SetListenInterest(true);
    std::vector<uint64_t> drop;
    for (auto& [id, cp] : conns) {
      Conn& c = *cp;
      const char* why = nullptr;
      // Only while we are reading: a client whose reading we paused is not stalling.
      if (c.decoder.partial_bytes() > 0 && ReadAllowed(c) &&
          now - c.frame_start > opt.frame_timeout) {
        why = "frame not completed in time";
      } else if (!c.out.empty() && now - c.last_write_progress > opt.frame_timeout) {
        why = "not reading its responses";
      } else if (c.inflight == 0 && c.out.empty() && c.decoder.partial_bytes() == 0 &&
                 c.decoder.pending_frames() == 0 && now - c.last_activity > opt.idle_timeout) {
        spdlog::debug("command socket: client {} idle; closing", id);
        drop.push_back(id);
        continue;
      }
      if (why) {
        ++st_timed_out;
        spdlog::warn("command socket: dropping client {} (pid {} uid {}): {}", id, c.pid, c.uid,
                     why);
        drop.push_back(id);
      }
    }
    for (uint64_t id : drop) CloseConn(id);
  }
};

// =============================================================================================

CommandServer::CommandServer(CommandServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

CommandServer::~CommandServer() { Stop(); }

void CommandServer::Register(std::string method, Handler handler, MethodOptions options) {
  if (method == rpc::kMethodPing) {
    spdlog::error("command socket: Ping is built in and cannot be registered");
    return;
  }
  std::lock_guard<std::mutex> g(impl_->mu);
  impl_->methods[std::move(method)] = Impl::Method{std::move(handler), options};
}

absl::Status CommandServer::Start() { return impl_->Start(); }

void CommandServer::Stop() { impl_->Stop(); }

CommandServer::Stats CommandServer::stats() const {
  Stats s;
  s.accepted = impl_->st_accepted;
  s.refused_uid = impl_->st_refused_uid;
  s.refused_full = impl_->st_refused_full;
  s.frames = impl_->st_frames;
  s.malformed = impl_->st_malformed;
  s.timed_out = impl_->st_timed_out;
  s.handled = impl_->st_handled;
  return s;
}

size_t CommandServer::client_count() const { return impl_->nclients.load(); }

const std::string& CommandServer::socket_path() const { return impl_->opt.socket_path; }

}  // namespace k6t::launcher
