#include "test/support/shell.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"

namespace k6t::testsupport {

CommandResult Sh(const std::string& cmd) {
  CommandResult r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  int st = ::pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

std::string ShOk(const std::string& cmd) {
  CommandResult r = Sh(cmd);
  if (r.exit_code != 0)
    ADD_FAILURE() << "command failed (" << r.exit_code << "): " << cmd << "\n" << r.output;
  return r.output;
}

std::string SourceDir() {
  const char* s = getenv("K6T_SOURCE_DIR");
  return s ? s : K6T_DEFAULT_SOURCE_DIR;
}

std::string BuildDir() {
  const char* s = getenv("K6T_BUILD_DIR");
  return s ? s : K6T_DEFAULT_BUILD_DIR;
}

std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return absl::StrCat(prefix, ::getpid() % 100000, "x", counter++);
}

std::string TempDir() {
  char tmpl[] = "/tmp/k6t-test-XXXXXX";
  if (!mkdtemp(tmpl)) ADD_FAILURE() << "mkdtemp failed";
  return tmpl;
}

}  // namespace k6t::testsupport
