// Running commands from tests (observing the kernel with `ip`/`nft` is allowed in tests).
#pragma once

#include <string>

namespace k6t::testsupport {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `cmd` through /bin/sh.
CommandResult Sh(const std::string& cmd);
// Sh, and fails the current test (ADD_FAILURE) when the exit code is not 0.
std::string ShOk(const std::string& cmd);

// $K6T_SOURCE_DIR / $K6T_BUILD_DIR, with defaults for running a test binary by hand.
std::string SourceDir();
std::string BuildDir();

// A unique short name for netns and pods: prefix + pid + counter (fits IFNAMSIZ uses).
std::string UniqueName(const std::string& prefix);

// A fresh temporary directory.
std::string TempDir();

}  // namespace k6t::testsupport
