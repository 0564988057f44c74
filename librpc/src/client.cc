// The synchronous JSON-RPC client (see k6t/rpc/client.h).
#include "k6t/rpc/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "k6t/rpc/frame.h"
#include "spdlog/spdlog.h"
#include "unix_socket.h"

namespace k6t::rpc {
namespace {

namespace msg = ::k6t::api::rpc;

// Milliseconds until `deadline` for poll(), at least 0.
int PollMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1 << 30));
}

}  // namespace

struct Client::Impl {
  Impl(int fd, std::string path, const sockaddr_un& addr, size_t max_frame_bytes)
      : fd(fd),
        path(std::move(path)),
        addr(addr),
        max_frame_bytes(max_frame_bytes),
        decoder(max_frame_bytes) {}
  ~Impl() {
    if (fd >= 0) close(fd);
  }

  int fd;
  const std::string path;
  const sockaddr_un addr;
  const size_t max_frame_bytes;
  mutable std::mutex mu;
  FrameDecoder decoder;
  uint64_t next_id = 1;
  absl::Status broken;  // OK while usable

  absl::Status Broken(const absl::Status& why) {
    broken = absl::UnavailableError(absl::StrCat("launcher at ", path, ": ", why.message()));
    spdlog::warn("{}", std::string(broken.message()));
    return broken;
  }

  absl::Status SendAll(const std::string& frame, absl::Time deadline, const std::string& method) {
    size_t off = 0;
    while (off < frame.size()) {
      const ssize_t w = send(fd, frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
      if (w >= 0) {
        off += static_cast<size_t>(w);
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        return Broken(
            absl::UnavailableError(absl::StrCat("send ", method, ": ", ErrnoText(errno))));
      }
      pollfd p{fd, POLLOUT, 0};
      const int n = poll(&p, 1, PollMs(deadline));
      if (n == 0) {
        // Part of the frame is out: the stream is no longer at a frame boundary.
        if (off > 0) return Broken(absl::DeadlineExceededError("timed out mid-request"));
        return absl::DeadlineExceededError(
            absl::StrCat(method, ": launcher at ", path, " is not accepting requests"));
      }
      if (n < 0 && errno != EINTR) {
        return Broken(absl::UnavailableError(absl::StrCat("poll: ", ErrnoText(errno))));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<msg::Response> Receive(const std::string& id_json, absl::Time deadline,
                                        const std::string& method) {
    char buf[64 * 1024];
    while (true) {
      while (auto frame = decoder.Pop()) {
        auto resp = msg::ParseResponse(*frame);
        if (!resp.ok()) return Broken(resp.status());
        // An id-less error is about the connection itself (unauthorized, busy): it answers us.
        if (resp->id_json == id_json || resp->id_json == "null") return resp;
        spdlog::debug("launcher at {}: skipping late response {}", path, resp->id_json);
      }
      pollfd p{fd, POLLIN, 0};
      const int n = poll(&p, 1, PollMs(deadline));
      if (n == 0) {
        return absl::DeadlineExceededError(
            absl::StrCat(method, ": launcher at ", path, " did not answer in time"));
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        return Broken(absl::UnavailableError(absl::StrCat("poll: ", ErrnoText(errno))));
      }
      const ssize_t r = recv(fd, buf, sizeof(buf), 0);
      if (r == 0) {
        return Broken(absl::UnavailableError(
            absl::StrCat("closed the connection while ", method, " was pending")));
      }
      if (r < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
        return Broken(absl::UnavailableError(absl::StrCat("recv: ", ErrnoText(errno))));
      }
      if (auto s = decoder.Feed(buf, static_cast<size_t>(r)); !s.ok()) return Broken(s);
    }
  }

  // The server closes idle connections; a clean EOF seen between calls reconnects once.
  absl::Status ReconnectIfClosedWhileIdle() {
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    if (poll(&p, 1, 0) <= 0) return absl::OkStatus();
    char c;
    const ssize_t r = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (r != 0 || decoder.partial_bytes() != 0) return absl::OkStatus();  // data, or mid-frame
    // Clean EOF between calls: the server closed an idle connection (or restarted). Nothing
    // was in flight, so one fresh connection is safe; if that fails the client is broken.
    const int fresh = ConnectUnix(addr, SOCK_NONBLOCK);
    if (fresh < 0) {
      return Broken(absl::UnavailableError(
          absl::StrCat("closed the connection and refused a new one: ", ErrnoText(-fresh))));
    }
    close(fd);
    fd = fresh;
    decoder = FrameDecoder(max_frame_bytes);
    spdlog::debug("launcher at {}: reconnected after the idle connection was closed", path);
    return absl::OkStatus();
  }

  // The connection-level error frame (id null) the server sent before closing, if any.
  absl::Status PendingRefusal() {
    char buf[4096];
    while (true) {
      const ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (r <= 0 || !decoder.Feed(buf, static_cast<size_t>(r)).ok()) break;
    }
    while (auto frame = decoder.Pop()) {
      auto resp = msg::ParseResponse(*frame);
      if (resp.ok() && resp->error && resp->id_json == "null") return Refused(*resp->error);
    }
    return absl::OkStatus();
  }

  // The server refused the connection (and closes it): every later call fails the same.
  absl::Status Refused(const msg::Error& error) {
    const absl::Status s = msg::ErrorToStatus(error);
    broken = absl::Status(s.code(), absl::StrCat("launcher at ", path, ": ", s.message()));
    return broken;
  }

  absl::StatusOr<std::string> Call(const std::string& method, const std::string& params_json,
                                   absl::Duration timeout) {
    std::lock_guard<std::mutex> g(mu);
    if (!broken.ok()) return broken;
    if (auto s = ReconnectIfClosedWhileIdle(); !s.ok()) return s;
    const absl::Time deadline = absl::Now() + timeout;
    msg::Request req;
    req.id_json = absl::StrCat(next_id++);
    req.method = method;
    req.params_json = params_json;
    const std::string payload = msg::EncodeRequest(req);
    if (payload.size() > max_frame_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat(method, ": request of ", payload.size(),
                                                       " bytes exceeds the frame limit of ",
                                                       max_frame_bytes, " bytes"));
    }
    const absl::Time start = absl::Now();
    if (auto s = SendAll(EncodeFrame(payload), deadline, method); !s.ok()) {
      // A server that refused us (uid, too many clients) sent one error frame and closed, so
      // our send can fail before we read it: that frame says more than EPIPE.
      if (auto refusal = PendingRefusal(); !refusal.ok()) return refusal;
      return s;
    }
    auto resp = Receive(req.id_json, deadline, method);
    if (!resp.ok()) return resp.status();
    spdlog::debug("launcher at {}: {} answered in {}", path, method,
                  absl::FormatDuration(absl::Now() - start));
    if (resp->error) {
      if (resp->id_json == "null") return Refused(*resp->error);
      const absl::Status s = msg::ErrorToStatus(*resp->error);
      return absl::Status(s.code(), absl::StrCat(method, ": ", s.message()));
    }
    return std::move(resp->result_json);
  }
};

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(const std::string& path,
                                                        absl::Duration timeout,
                                                        size_t max_frame_bytes) {
  sockaddr_un addr;
  if (!FillUnixAddress(path, &addr)) {
    return absl::InvalidArgumentError(absl::StrCat("launcher socket path \"", path,
                                                   "\" is empty or longer than ",
                                                   kMaxSocketPathBytes, " bytes"));
  }
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration backoff = absl::Milliseconds(10);
  while (true) {
    const int fd = ConnectUnix(addr, SOCK_NONBLOCK);
    if (fd >= 0) {
      spdlog::debug("connected to launcher at {}", path);
      return std::unique_ptr<Client>(
          new Client(std::make_unique<Impl>(fd, path, addr, max_frame_bytes)));
    }
    const int err = -fd;
    const bool retryable = err == ENOENT || err == ECONNREFUSED || err == EAGAIN || err == EINTR;
    if (!retryable) {
      const std::string m = absl::StrCat("connect to launcher at ", path, ": ", ErrnoText(err));
      return err == EACCES || err == EPERM ? absl::PermissionDeniedError(m)
                                           : absl::UnavailableError(m);
    }
    if (absl::Now() + backoff > deadline) {
      return absl::UnavailableError(absl::StrCat("connect to launcher at ", path, ": ",
                                                 ErrnoText(err), " (gave up after ",
                                                 absl::FormatDuration(timeout), ")"));
    }
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(backoff));
    backoff = std::min(backoff * 2, absl::Milliseconds(200));
  }
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Client::~Client() = default;

absl::StatusOr<std::string> Client::Call(const std::string& method, const std::string& params_json,
                                         absl::Duration timeout) {
  return impl_->Call(method, params_json, timeout);
}

const std::string& Client::path() const { return impl_->path; }

bool Client::broken() const {
  std::lock_guard<std::mutex> g(impl_->mu);
  return !impl_->broken.ok();
}

}  // namespace k6t::rpc
