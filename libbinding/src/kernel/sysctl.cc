// Sysctls under /proc/sys/net. procfs resolves net/ entries against the network namespace
// of the task that opens them, so this reads and writes the calling thread's namespace.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "k6t/api/errno_status.h"
#include "k6t/binding/kernel.h"

namespace k6t::binding {
namespace {

constexpr size_t kMaxValue = 4096;

absl::Status CheckKey(const std::string& key) {
  bool ok = !key.empty() && key.size() < 256 && key.front() != '/' && key.back() != '/' &&
            key.find("..") == std::string::npos && key.find("//") == std::string::npos;
  for (char c : key)
    ok &= (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '/' ||
          c == '-';
  if (!ok) return absl::InvalidArgumentError(absl::StrCat("sysctl key \"", key, "\" is invalid"));
  return absl::OkStatus();
}

class SysctlImpl : public Sysctl {
 public:
  absl::StatusOr<std::string> Read(const std::string& key) override {
    if (auto st = CheckKey(key); !st.ok()) return st;
    const std::string path = "/proc/sys/net/" + key;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return api::ErrnoStatus("read sysctl " + path, errno);
    absl::Cleanup close_fd = [fd] { close(fd); };
    std::string out;
    char buf[512];
    for (;;) {
      ssize_t n = read(fd, buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        return api::ErrnoStatus("read sysctl " + path, errno);
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
      if (out.size() > kMaxValue) return absl::OutOfRangeError("sysctl " + path + " is too long");
    }
    return std::string(absl::StripAsciiWhitespace(out));
  }

  absl::Status Write(const std::string& key, const std::string& value) override {
    if (auto st = CheckKey(key); !st.ok()) return st;
    const std::string path = "/proc/sys/net/" + key;
    if (value.size() > kMaxValue) return absl::InvalidArgumentError("value too long for " + path);
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return api::ErrnoStatus("write sysctl " + path, errno);
    absl::Cleanup close_fd = [fd] { close(fd); };
    std::string v = absl::StrCat(value, "\n");
    ssize_t n;
    do {
      n = write(fd, v.data(), v.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) return api::ErrnoStatus(absl::StrCat("write sysctl ", path, " = ", value), errno);
    if (static_cast<size_t>(n) != v.size())
      return absl::InternalError(absl::StrCat("write sysctl ", path, ": short write"));
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<Sysctl> NewSysctl() { return std::make_unique<SysctlImpl>(); }

}  // namespace k6t::binding
