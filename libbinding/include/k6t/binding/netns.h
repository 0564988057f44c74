// Running code inside another network namespace. setns() switches one thread only, so a
// NetnsThread owns a thread that entered the namespace once and runs closures there; no
// other code in k6t calls setns(). Code that takes "somewhere to run in the pod" takes a
// NetnsRunner: a NetnsThread, or InlineNetns for a caller whose thread is already inside
// (a process started by `ip netns exec`, a launcher in its pod, a test on a fake kernel).
//
// Errors: Enter returns NotFound (no such path), InvalidArgument (not a network namespace),
// PermissionDenied (setns: EPERM) or FailedPrecondition, with the path and errno text; Run
// returns the closure's status, or FailedPrecondition once the thread is stopping.
// Thread-safety: Run/Call may be called from any number of threads; closures are serialised
// on the one namespace thread (a closure may Run on its own NetnsThread: it runs inline).
// Privileges: CAP_SYS_ADMIN (setns into a network namespace) and read access to the path.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace k6t::binding {

// Runs closures inside one network namespace and waits for them.
class NetnsRunner {
 public:
  virtual ~NetnsRunner() = default;

  // Runs `fn` in the namespace and returns its status.
  virtual absl::Status Run(std::function<absl::Status()> fn) = 0;

  template <typename T>
  absl::StatusOr<T> Call(std::function<absl::StatusOr<T>()> fn) {
    absl::StatusOr<T> out = absl::UnknownError("not run");
    absl::Status st = Run([&]() -> absl::Status {
      out = fn();
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    return out;
  }
};

// The calling thread is already in the namespace: closures run right there.
class InlineNetns final : public NetnsRunner {
 public:
  absl::Status Run(std::function<absl::Status()> fn) override { return fn(); }
};

class NetnsThread final : public NetnsRunner {
 public:
  // Opens `path` (/run/netns/NAME, /proc/PID/ns/net) and starts a thread inside it.
  // Fails with the path and errno text when the namespace cannot be opened or entered.
  static absl::StatusOr<std::unique_ptr<NetnsThread>> Enter(const std::string& path);
  ~NetnsThread() override;  // joins the thread

  NetnsThread(const NetnsThread&) = delete;
  NetnsThread& operator=(const NetnsThread&) = delete;

  // Runs `fn` on the namespace thread and waits for it. Closures run one at a time, in
  // the order submitted.
  absl::Status Run(std::function<absl::Status()> fn) override;

  const std::string& path() const { return path_; }
  // An fd of the namespace, valid for the life of this object (for IFLA_NET_NS_FD).
  int fd() const { return fd_; }

 private:
  struct Impl;
  NetnsThread(std::string path, int fd, std::unique_ptr<Impl> impl);
  std::string path_;
  int fd_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace k6t::binding
