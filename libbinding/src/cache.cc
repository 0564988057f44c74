#include "k6t/binding/cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "k6t/api/errno_status.h"
#include "plan_json_value.h"

namespace k6t::binding {
namespace {

constexpr size_t kMaxCacheFile = 4 << 20;

absl::Status MakeDirs(const std::string& dir, mode_t mode) {
  std::string cur;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      if (!cur.empty() && ::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST)
        return api::ErrnoStatus(absl::StrCat("mkdir ", cur), errno);
    }
    if (i < dir.size()) cur += dir[i];
  }
  return absl::OkStatus();
}

bool ValidName(const std::string& name) {
  return !name.empty() && name.size() <= 64 && name.find('/') == std::string::npos && name != "." &&
         name != "..";
}

std::string EntryPath(const std::string& state_dir, const std::string& name) {
  return absl::StrCat(state_dir, "/interfaces/", name, ".json");
}

const char* PhaseName(PlumbingPhase p) {
  switch (p) {
    case PlumbingPhase::kPending:
      return "pending";
    case PlumbingPhase::kStarted:
      return "started";
    case PlumbingPhase::kFinished:
      return "finished";
  }
  return "pending";
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, const std::string& contents, int mode) {
  const std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return api::ErrnoStatus(absl::StrCat("create ", tmp), errno);
  size_t off = 0;
  while (off < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + off, contents.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto st = api::ErrnoStatus(absl::StrCat("write ", tmp), errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return st;
    }
    off += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    auto st = api::ErrnoStatus(absl::StrCat("close ", tmp), errno);
    ::unlink(tmp.c_str());
    return st;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto st = api::ErrnoStatus(absl::StrCat("rename ", tmp), errno);
    ::unlink(tmp.c_str());
    return st;
  }
  return absl::OkStatus();
}

absl::Status WriteCachedInterface(const std::string& state_dir, const CachedInterface& entry) {
  if (!ValidName(entry.plan.interface_name))
    return absl::InvalidArgumentError(
        absl::StrCat("bad interface name for the cache: \"", entry.plan.interface_name, "\""));
  if (auto st = MakeDirs(state_dir + "/interfaces", 0750); !st.ok()) return st;
  nlohmann::json j{{"version", kCacheSchemaVersion},
                   {"phase", PhaseName(entry.phase)},
                   {"plan", PlanToJsonValue(entry.plan)}};
  return WriteFileAtomically(EntryPath(state_dir, entry.plan.interface_name), j.dump(2) + "\n");
}

absl::StatusOr<std::optional<CachedInterface>> ReadCachedInterface(const std::string& state_dir,
                                                                   const std::string& name) {
  if (!ValidName(name))
    return absl::InvalidArgumentError(absl::StrCat("bad interface name \"", name, "\""));
  const std::string path = EntryPath(state_dir, name);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::optional<CachedInterface>();
    return api::ErrnoStatus(absl::StrCat("open ", path), errno);
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > kMaxCacheFile) return absl::OutOfRangeError(path + ": too large");
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return absl::DataLossError(absl::StrCat(path, ": not valid JSON"));
  const int version = j.value("version", 0);
  if (version < kOldestCacheSchemaVersion || version > kCacheSchemaVersion)
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": schema version ", version, ", this k6t reads ",
                     kOldestCacheSchemaVersion, " to ", kCacheSchemaVersion));
  auto plan = PlanFromJsonValue(j.value("plan", nlohmann::json::object()));
  if (!plan.ok()) return absl::DataLossError(absl::StrCat(path, ": ", plan.status().message()));
  CachedInterface c;
  c.plan = *std::move(plan);
  const std::string phase = j.value("phase", "pending");
  c.phase = phase == "finished"  ? PlumbingPhase::kFinished
            : phase == "started" ? PlumbingPhase::kStarted
                                 : PlumbingPhase::kPending;
  return std::optional<CachedInterface>(std::move(c));
}

absl::StatusOr<std::vector<CachedInterface>> ReadCachedInterfaces(const std::string& state_dir) {
  std::vector<CachedInterface> out;
  const std::string dir = state_dir + "/interfaces";
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    return api::ErrnoStatus(absl::StrCat("opendir ", dir), errno);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string f = e->d_name;
    if (absl::EndsWith(f, ".json")) names.push_back(f.substr(0, f.size() - 5));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    auto c = ReadCachedInterface(state_dir, n);
    if (!c.ok()) return c.status();
    if (*c) out.push_back(**c);
  }
  return out;
}

absl::Status RemoveCachedInterface(const std::string& state_dir, const std::string& name) {
  if (!ValidName(name))
    return absl::InvalidArgumentError(absl::StrCat("bad interface name \"", name, "\""));
  const std::string path = EntryPath(state_dir, name);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return api::ErrnoStatus(absl::StrCat("unlink ", path), errno);
  return absl::OkStatus();
}

}  // namespace k6t::binding
