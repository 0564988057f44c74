#include "file_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "k6t/api/errno_status.h"

namespace k6t::handler {
namespace {

constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO;

}  // namespace

absl::StatusOr<std::unique_ptr<FileWatch>> FileWatch::Open(const std::vector<std::string>& files) {
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return api::ErrnoStatus("inotify_init1", errno);
  std::vector<Watched> watched;
  for (const std::string& f : files) {
    const std::filesystem::path p(f);
    const std::string dir = p.has_parent_path() ? p.parent_path().string() : std::string(".");
    // The same directory twice gives the same watch descriptor: files share it.
    const int wd = inotify_add_watch(fd, dir.c_str(), kMask);
    if (wd < 0) {
      const int err = errno;
      close(fd);
      return api::ErrnoStatus(absl::StrCat("watch ", dir, " (for ", f, ")"), err);
    }
    watched.push_back({wd, p.filename().string(), f});
  }
  return std::unique_ptr<FileWatch>(new FileWatch(fd, std::move(watched)));
}

FileWatch::~FileWatch() { close(fd_); }

absl::StatusOr<std::set<std::string>> FileWatch::Changed() {
  std::set<std::string> out;
  alignas(inotify_event) char buf[16 * 1024];
  for (;;) {
    const ssize_t n = read(fd_, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return out;
      return api::ErrnoStatus("read inotify events", errno);
    }
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      if (ev->mask & IN_Q_OVERFLOW) {
        for (const auto& w : files_) out.insert(w.path);
        continue;
      }
      if (!(ev->mask & kMask) || ev->len == 0) continue;
      for (const auto& w : files_)
        if (w.wd == ev->wd && w.name == ev->name) out.insert(w.path);
    }
  }
}

}  // namespace k6t::handler
