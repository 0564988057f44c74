#include "qemu_user.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "k6t/api/errno_status.h"

namespace k6t::launcher {
namespace {

// The permission bits of `st` that apply to `user`.
mode_t BitsFor(const struct stat& st, const QemuUser& user) {
  if (user.root()) return 07;
  if (st.st_uid == user.uid) return (st.st_mode >> 6) & 07;
  if (st.st_gid == user.gid) return (st.st_mode >> 3) & 07;
  return st.st_mode & 07;
}

}  // namespace

absl::StatusOr<QemuUser> ParseQemuUser(const std::string& spec) {
  if (spec == "root") return QemuUser{0, 0};
  std::vector<std::string> parts = absl::StrSplit(spec, absl::MaxSplits(':', 1));
  uint32_t uid = 0, gid = 0;
  if (absl::SimpleAtoi(parts[0], &uid)) {
    gid = uid;
    if (parts.size() == 2 && !absl::SimpleAtoi(parts[1], &gid))
      return absl::InvalidArgumentError(
          absl::StrCat("--qemu-user \"", spec, "\": the group must be a number"));
    return QemuUser{uid, gid};
  }
  if (parts.size() == 2)
    return absl::InvalidArgumentError(
        absl::StrCat("--qemu-user \"", spec, "\": want UID, UID:GID or a user name"));
  const passwd* pw = ::getpwnam(spec.c_str());
  if (!pw) return absl::NotFoundError(absl::StrCat("--qemu-user: no user \"", spec, "\""));
  return QemuUser{pw->pw_uid, pw->pw_gid};
}

absl::Status CheckAccessAs(const std::string& path, const QemuUser& user, int mode) {
  const std::filesystem::path abs = std::filesystem::absolute(path);
  const std::filesystem::path rel = abs.relative_path();
  std::filesystem::path at = abs.root_path();
  for (auto it = rel.begin(); it != rel.end(); ++it) {
    struct stat st;
    if (::stat(at.c_str(), &st) != 0) return api::ErrnoStatus(at.string(), errno);
    if (!(BitsFor(st, user) & 01))
      return absl::PermissionDeniedError(absl::StrCat(
          "uid ", user.uid, " gid ", user.gid, " cannot enter ", at.string(), " (owner ", st.st_uid,
          ":", st.st_gid, " mode ", absl::Hex(st.st_mode & 07777), "), needed for ", path));
    at /= *it;
  }
  struct stat st;
  if (::stat(abs.c_str(), &st) != 0) return api::ErrnoStatus(path, errno);
  const mode_t want =
      ((mode & R_OK) ? 04 : 0) | ((mode & W_OK) ? 02 : 0) | ((mode & X_OK) ? 01 : 0);
  if ((BitsFor(st, user) & want) != want)
    return absl::PermissionDeniedError(absl::StrCat("uid ", user.uid, " gid ", user.gid, " cannot ",
                                                    (mode & W_OK)   ? "write "
                                                    : (mode & R_OK) ? "read "
                                                                    : "enter ",
                                                    path, " (owner ", st.st_uid, ":", st.st_gid,
                                                    " mode ", absl::Hex(st.st_mode & 07777), ")"));
  return absl::OkStatus();
}

absl::Status PrepareStateDirFor(const std::string& state_dir, const std::string& serial_log,
                                const QemuUser& user) {
  if (user.root()) return absl::OkStatus();
  if (::chown(state_dir.c_str(), static_cast<uid_t>(-1), user.gid) != 0 ||
      ::chmod(state_dir.c_str(), 0710) != 0)
    return api::ErrnoStatus(absl::StrCat("giving QEMU's group ", user.gid, " entry to ", state_dir),
                            errno);
  const int fd =
      ::open(serial_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return api::ErrnoStatus(serial_log, errno);
  const bool ok = ::fchown(fd, user.uid, user.gid) == 0 && ::fchmod(fd, 0600) == 0;
  const int e = errno;
  ::close(fd);
  if (!ok)
    return api::ErrnoStatus(absl::StrCat("chown ", user.uid, ":", user.gid, " ", serial_log), e);
  return absl::OkStatus();
}

absl::Status PrepareQemuOwnedDir(const std::string& dir, const QemuUser& user) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return api::ErrnoStatus("mkdir " + dir, errno);
  if (::chown(dir.c_str(), user.uid, user.gid) != 0 || ::chmod(dir.c_str(), 0700) != 0)
    return api::ErrnoStatus(
        absl::StrCat("giving ", dir, " to QEMU (", user.uid, ":", user.gid, ")"), errno);
  return absl::OkStatus();
}

}  // namespace k6t::launcher
