#include "launcher_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "k6t/api/errno_status.h"
#include "spdlog/spdlog.h"

namespace k6t::handler {

namespace rpc = ::k6t::api::rpc;

namespace {

// Milliseconds until `deadline` for poll(), at least 0.
int PollMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1 << 30));
}

template <typename T>
absl::StatusOr<T> ParseResult(const absl::StatusOr<std::string>& raw, const char* method) {
  if (!raw.ok()) return raw.status();
  T out;
  if (auto s = rpc::FromJson(*raw, &out); !s.ok()) {
    return absl::DataLossError(absl::StrCat(method, ": launcher sent a bad result: ", s.message()));
  }
  return out;
}

absl::StatusOr<bool> Changed(const absl::StatusOr<std::string>& raw, const char* method) {
  auto r = ParseResult<rpc::ChangedResult>(raw, method);
  if (!r.ok()) return r.status();
  return r->changed;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LauncherClient>> LauncherClient::Connect(const std::string& path,
                                                                        absl::Duration timeout,
                                                                        size_t max_frame_bytes) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("launcher socket path \"", path,
                                                   "\" is empty or longer than ",
                                                   sizeof(addr.sun_path) - 1, " bytes"));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration backoff = absl::Milliseconds(10);
  while (true) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return api::ErrnoStatus("socket", errno);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      spdlog::debug("connected to launcher at {}", path);
      return std::unique_ptr<LauncherClient>(new LauncherClient(fd, path, max_frame_bytes));
    }
    const int err = errno;
    close(fd);
    const bool retryable = err == ENOENT || err == ECONNREFUSED || err == EAGAIN || err == EINTR;
    if (!retryable) {
      const std::string msg =
          absl::StrCat("connect to launcher at ", path, ": ", api::ErrnoText(err));
      return err == EACCES || err == EPERM ? absl::PermissionDeniedError(msg)
                                           : absl::UnavailableError(msg);
    }
    if (absl::Now() + backoff > deadline) {
      return absl::UnavailableError(absl::StrCat("connect to launcher at ", path, ": ",
                                                 api::ErrnoText(err), " (gave up after ",
                                                 absl::FormatDuration(timeout), ")"));
    }
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(backoff));
    backoff = std::min(backoff * 2, absl::Milliseconds(200));
  }
}

LauncherClient::LauncherClient(int fd, std::string path, size_t max_frame_bytes)
    : fd_(fd),
      path_(std::move(path)),
      max_frame_bytes_(max_frame_bytes),
      decoder_(max_frame_bytes) {}

LauncherClient::~LauncherClient() {
  if (fd_ >= 0) close(fd_);
}

bool LauncherClient::broken() const {
  std::lock_guard<std::mutex> g(mu_);
  return !broken_.ok();
}

absl::Status LauncherClient::Broken(absl::Status why) {
  broken_ = absl::UnavailableError(absl::StrCat("launcher at ", path_, ": ", why.message()));
  spdlog::warn("{}", std::string(broken_.message()));
  return broken_;
}

absl::Status LauncherClient::SendAll(const std::string& frame, absl::Time deadline,
                                     const std::string& method) {
  size_t off = 0;
  while (off < frame.size()) {
    const ssize_t w = send(fd_, frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
    if (w >= 0) {
      off += static_cast<size_t>(w);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return Broken(api::ErrnoStatus(absl::StrCat("send ", method), errno));
    }
    pollfd p{fd_, POLLOUT, 0};
    const int n = poll(&p, 1, PollMs(deadline));
    if (n == 0) {
      // Part of the frame is out: the stream is no longer at a frame boundary.
      if (off > 0) return Broken(absl::DeadlineExceededError("timed out mid-request"));
      return absl::DeadlineExceededError(
          absl::StrCat(method, ": launcher at ", path_, " is not accepting requests"));
    }
    if (n < 0 && errno != EINTR) {
      return Broken(api::ErrnoStatus("poll", errno));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<rpc::Response> LauncherClient::Receive(const std::string& id_json,
                                                      absl::Time deadline,
                                                      const std::string& method) {
  char buf[64 * 1024];
  while (true) {
    while (auto frame = decoder_.Pop()) {
      auto resp = rpc::ParseResponse(*frame);
      if (!resp.ok()) return Broken(resp.status());
      // An id-less error is about the connection itself (unauthorized, busy): it answers us.
      if (resp->id_json == id_json || resp->id_json == "null") return resp;
      spdlog::debug("launcher at {}: skipping late response {}", path_, resp->id_json);
    }
    pollfd p{fd_, POLLIN, 0};
    const int n = poll(&p, 1, PollMs(deadline));
    if (n == 0) {
      return absl::DeadlineExceededError(
          absl::StrCat(method, ": launcher at ", path_, " did not answer in time"));
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return Broken(api::ErrnoStatus("poll", errno));
    }
    const ssize_t r = recv(fd_, buf, sizeof(buf), 0);
    if (r == 0) {
      return Broken(absl::UnavailableError(
          absl::StrCat("closed the connection while ", method, " was pending")));
    }
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return Broken(api::ErrnoStatus("recv", errno));
    }
    if (auto s = decoder_.Feed(buf, static_cast<size_t>(r)); !s.ok()) return Broken(s);
  }
}

absl::Status LauncherClient::ReconnectIfClosedWhileIdle() {
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
  if (poll(&p, 1, 0) <= 0) return absl::OkStatus();
  char c;
  const ssize_t r = recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (r != 0 || decoder_.partial_bytes() != 0) return absl::OkStatus();  // data, or mid-frame
  // Clean EOF between calls: the launcher closed an idle connection (or restarted). Nothing
  // was in flight, so one fresh connection is safe; if that fails the client is broken.
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    if (fd >= 0) close(fd);
    return Broken(absl::UnavailableError(
        absl::StrCat("closed the connection and refused a new one: ", api::ErrnoText(err))));
  }
  close(fd_);
  fd_ = fd;
  decoder_ = rpc::FrameDecoder(max_frame_bytes_);
  spdlog::debug("launcher at {}: reconnected after the idle connection was closed", path_);
  return absl::OkStatus();
}

absl::Status LauncherClient::PendingRefusal() {
  char buf[4096];
  while (true) {
    const ssize_t r = recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    if (r <= 0 || !decoder_.Feed(buf, static_cast<size_t>(r)).ok()) break;
  }
  while (auto frame = decoder_.Pop()) {
    auto resp = rpc::ParseResponse(*frame);
    if (resp.ok() && resp->error && resp->id_json == "null") {
      const absl::Status s = rpc::ErrorToStatus(*resp->error);
      broken_ = absl::Status(s.code(), absl::StrCat("launcher at ", path_, ": ", s.message()));
      return broken_;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> LauncherClient::Call(const std::string& method,
                                                 const std::string& params_json,
                                                 absl::Duration timeout) {
  std::lock_guard<std::mutex> g(mu_);
  if (!broken_.ok()) return broken_;
  if (auto s = ReconnectIfClosedWhileIdle(); !s.ok()) return s;
  const absl::Time deadline = absl::Now() + timeout;
  rpc::Request req;
  req.id_json = absl::StrCat(next_id_++);
  req.method = method;
  req.params_json = params_json;
  const std::string payload = rpc::EncodeRequest(req);
  if (payload.size() > max_frame_bytes_) {
    return absl::ResourceExhaustedError(absl::StrCat(method, ": request of ", payload.size(),
                                                     " bytes exceeds the frame limit of ",
                                                     max_frame_bytes_, " bytes"));
  }
  const absl::Time start = absl::Now();
  if (auto s = SendAll(rpc::EncodeFrame(payload), deadline, method); !s.ok()) {
    // A launcher that refused us (uid, too many clients) sent one error frame and closed, so
    // our send can fail before we read it: that frame says more than EPIPE.
    if (auto refusal = PendingRefusal(); !refusal.ok()) return refusal;
    return s;
  }
  auto resp = Receive(req.id_json, deadline, method);
  if (!resp.ok()) return resp.status();
  spdlog::debug("launcher at {}: {} answered in {}", path_, method,
                absl::FormatDuration(absl::Now() - start));
  if (resp->error) {
    const absl::Status s = rpc::ErrorToStatus(*resp->error);
    if (resp->id_json == "null") {
      // The launcher refused the connection; it will close it.
      broken_ = absl::Status(s.code(), absl::StrCat("launcher at ", path_, ": ", s.message()));
      return broken_;
    }
    return absl::Status(s.code(), absl::StrCat(method, ": ", s.message()));
  }
  return std::move(resp->result_json);
}

absl::StatusOr<rpc::PingResult> LauncherClient::Ping(absl::Duration timeout) {
  return ParseResult<rpc::PingResult>(Call(rpc::kMethodPing, "{}", timeout), rpc::kMethodPing);
}

absl::StatusOr<rpc::SyncVmiResult> LauncherClient::SyncVMI(const std::string& vmi_json,
                                                           absl::Duration timeout) {
  rpc::SyncVmiParams p{vmi_json};
  if (!rpc::IsValidJson(vmi_json)) {
    return absl::InvalidArgumentError("SyncVMI: the VMI is not valid JSON");
  }
  return ParseResult<rpc::SyncVmiResult>(Call(rpc::kMethodSyncVmi, rpc::ToJson(p), timeout),
                                         rpc::kMethodSyncVmi);
}

absl::Status LauncherClient::Shutdown(int64_t timeout_seconds) {
  rpc::ShutdownParams p{timeout_seconds};
  return Call(rpc::kMethodShutdown, rpc::ToJson(p),
              absl::Seconds(std::max<int64_t>(timeout_seconds, 0)) + absl::Seconds(30))
      .status();
}

absl::Status LauncherClient::Kill(absl::Duration timeout) {
  return Call(rpc::kMethodKill, "{}", timeout).status();
}

absl::StatusOr<rpc::GetDomainResult> LauncherClient::GetDomain(absl::Duration timeout) {
  return ParseResult<rpc::GetDomainResult>(Call(rpc::kMethodGetDomain, "{}", timeout),
                                           rpc::kMethodGetDomain);
}

absl::StatusOr<rpc::GetStatusResult> LauncherClient::GetStatus(absl::Duration timeout) {
  return ParseResult<rpc::GetStatusResult>(Call(rpc::kMethodGetStatus, "{}", timeout),
                                           rpc::kMethodGetStatus);
}

absl::StatusOr<bool> LauncherClient::AttachInterface(const std::string& name,
                                                     absl::Duration timeout) {
  return Changed(
      Call(rpc::kMethodAttachInterface, rpc::ToJson(rpc::InterfaceParams{name}), timeout),
      rpc::kMethodAttachInterface);
}

absl::StatusOr<bool> LauncherClient::DetachInterface(const std::string& name,
                                                     absl::Duration timeout) {
  return Changed(
      Call(rpc::kMethodDetachInterface, rpc::ToJson(rpc::InterfaceParams{name}), timeout),
      rpc::kMethodDetachInterface);
}

absl::StatusOr<bool> LauncherClient::SetLinkState(const std::string& name, bool up,
                                                  absl::Duration timeout) {
  rpc::SetLinkStateParams p{name, up ? "up" : "down"};
  return Changed(Call(rpc::kMethodSetLinkState, rpc::ToJson(p), timeout), rpc::kMethodSetLinkState);
}

}  // namespace k6t::handler
