// Test support: throw-away named network namespaces (made the way `ip netns add` makes
// them, by `ip` itself) and small helpers to run code or commands inside them.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "k6t/binding/netns.h"

namespace k6t::testing {

struct CmdResult {
  int code = -1;    // exit status, -1 when the command could not run
  std::string out;  // stdout and stderr
};

// Runs `cmd` with /bin/sh; tests use it to observe the kernel with ip/nft/bridge.
CmdResult Sh(const std::string& cmd);

// A named netns `k6t-test-<pid>-<n>[-tag]` with lo up; deleted (with `ip netns del`) by the
// destructor, whatever happened in between.
class ScratchNetns {
 public:
  static absl::StatusOr<std::unique_ptr<ScratchNetns>> Create(const std::string& tag = "");
  ~ScratchNetns();
  ScratchNetns(const ScratchNetns&) = delete;
  ScratchNetns& operator=(const ScratchNetns&) = delete;

  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }
  // `cmd` run by /bin/sh inside the namespace.
  CmdResult Exec(const std::string& cmd) const;

 private:
  explicit ScratchNetns(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

// Runs `f` on `thread` and returns what it returned; aborts the process if the thread is
// gone (a test bug, not a kernel result).
template <typename F>
auto In(binding::NetnsThread& thread, F f) -> decltype(f()) {
  std::optional<decltype(f())> out;
  absl::Status st = thread.Run([&]() -> absl::Status {
    out.emplace(f());
    return absl::OkStatus();
  });
  if (!st.ok() || !out) std::abort();
  return std::move(*out);
}

// Fixture base: a scratch namespace and a thread inside it for each test case. A derived
// fixture that needs more calls this SetUp() first and returns on HasFatalFailure().
class ScratchNetnsTest : public ::testing::Test {
 protected:
  explicit ScratchNetnsTest(std::string tag) : tag_(std::move(tag)) {}
  void SetUp() override {
    auto ns = ScratchNetns::Create(tag_);
    ASSERT_TRUE(ns.ok()) << ns.status();
    ns_ = std::move(*ns);
    auto t = binding::NetnsThread::Enter(ns_->path());
    ASSERT_TRUE(t.ok()) << t.status();
    thread_ = std::move(*t);
  }
  // The thread leaves the namespace before it is deleted.
  void TearDown() override {
    thread_.reset();
    ns_.reset();
  }

  std::unique_ptr<ScratchNetns> ns_;
  std::unique_ptr<binding::NetnsThread> thread_;

 private:
  std::string tag_;
};

}  // namespace k6t::testing
