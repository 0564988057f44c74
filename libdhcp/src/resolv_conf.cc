#include "k6t/dhcp/resolv_conf.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "k6t/dhcp/dns_name.h"
#include "spdlog/spdlog.h"

namespace k6t::dhcp {
namespace {

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

ResolvConf ParseResolvConf(std::string_view text, const ResolvConfLimits& limits) {
  ResolvConf rc;
  if (text.size() > limits.max_file_bytes) {
    text = text.substr(0, limits.max_file_bytes);
    rc.truncated = true;
  }
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    start = nl + 1;
    if (line.size() > limits.max_line_length) {
      ++rc.skipped;
      continue;
    }
    if (size_t c = line.find_first_of("#;"); c != std::string_view::npos) line = line.substr(0, c);
    auto f = Fields(line);
    if (f.empty()) continue;
    if (f[0] == "nameserver") {
      if (f.size() < 2) {
        ++rc.skipped;
        continue;
      }
      std::string addr(f[1]);
      unsigned char buf[16];
      std::vector<std::string>* list = nullptr;
      if (inet_pton(AF_INET, addr.c_str(), buf) == 1) {
        list = &rc.nameservers_v4;
      } else if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) {
        list = &rc.nameservers_v6;
      }
      // A scoped server (fe80::1%eth0) fails inet_pton and is skipped: it names a pod link
      // the guest cannot reach.
      if (list == nullptr || list->size() >= limits.max_nameservers ||
          std::find(list->begin(), list->end(), addr) != list->end()) {
        ++rc.skipped;
        continue;
      }
      list->push_back(addr);
    } else if (f[0] == "search" || f[0] == "domain") {
      rc.search.clear();
      for (size_t i = 1; i < f.size(); ++i) {
        auto d = NormalizeDomainName(f[i]);
        if (!d.ok() || rc.search.size() >= limits.max_search_domains ||
            std::find(rc.search.begin(), rc.search.end(), *d) != rc.search.end()) {
          ++rc.skipped;
          continue;
        }
        rc.search.push_back(*d);
      }
    }
  }
  return rc;
}

absl::StatusOr<ResolvConf> ReadResolvConf(const std::string& path, const ResolvConfLimits& limits) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("open ", path, ": ", std::strerror(errno)));
  absl::Cleanup closer = [fd] { close(fd); };
  std::string text(limits.max_file_bytes + 1, '\0');
  size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = read(fd, text.data() + got, text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("read ", path, ": ", std::strerror(errno)));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  return ParseResolvConf(text, limits);
}

api::DhcpPlan WithPodDns(api::DhcpPlan plan, const std::string& path) {
  auto rc = ReadResolvConf(path);
  ResolvConf conf;
  if (rc.ok()) {
    conf = *rc;
  } else {
    spdlog::warn("dhcp: {}: {}; offering fallback DNS", path, rc.status().ToString());
  }
  const bool none = conf.nameservers_v4.empty() && conf.nameservers_v6.empty();
  if (none) conf.nameservers_v4 = {"8.8.8.8"};
  if (conf.search.empty()) conf.search = {"cluster.local"};
  if (plan.v4) {
    if (plan.v4->dns_servers.empty()) plan.v4->dns_servers = conf.nameservers_v4;
    if (plan.v4->search_domains.empty()) plan.v4->search_domains = conf.search;
  }
  if (plan.v6) {
    if (plan.v6->dns_servers.empty()) plan.v6->dns_servers = conf.nameservers_v6;
    if (plan.v6->search_domains.empty()) plan.v6->search_domains = conf.search;
  }
  return plan;
}

}  // namespace k6t::dhcp
