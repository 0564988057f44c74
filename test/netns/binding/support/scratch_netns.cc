#include "support/scratch_netns.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace k6t::testing {
namespace {
std::atomic<int> g_counter{0};
}

CmdResult Sh(const std::string& cmd) {
  CmdResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

absl::StatusOr<std::unique_ptr<ScratchNetns>> ScratchNetns::Create(const std::string& tag) {
  std::string name = absl::StrCat("k6t-test-", getpid(), "-", g_counter.fetch_add(1));
  if (!tag.empty()) name += "-" + tag;
  CmdResult r = Sh(absl::StrCat("ip netns add ", name));
  if (r.code != 0) return absl::InternalError(absl::StrCat("ip netns add ", name, ": ", r.out));
  std::unique_ptr<ScratchNetns> ns(new ScratchNetns(name));
  r = Sh(absl::StrCat("ip -n ", name, " link set lo up"));
  if (r.code != 0) return absl::InternalError(absl::StrCat("lo up in ", name, ": ", r.out));
  return ns;
}

ScratchNetns::~ScratchNetns() {
  CmdResult r = Sh(absl::StrCat("ip netns del ", name_));
  if (r.code != 0)
    std::fprintf(stderr, "cannot delete netns %s: %s\n", name_.c_str(), r.out.c_str());
}

CmdResult ScratchNetns::Exec(const std::string& cmd) const {
  std::string quoted;
  for (char c : cmd) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += c;
  }
  return Sh(absl::StrCat("ip netns exec ", name_, " sh -c '", quoted, "'"));
}

}  // namespace k6t::testing
