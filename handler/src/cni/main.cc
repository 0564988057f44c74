// k6t-cni: the CNI plugin entry point to k6t's pod plumbing (see cni_plugin.h).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cni/cni_config.h"
#include "cni/cni_plugin.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

int main() {
  // stdout belongs to the CNI result; logs go to stderr, which runtimes keep.
  spdlog::set_default_logger(spdlog::stderr_color_mt("k6t-cni"));
  const char* level = std::getenv("K6T_CNI_LOG_LEVEL");
  spdlog::set_level(level ? spdlog::level::from_str(level) : spdlog::level::warn);

  std::string in;
  char buf[65536];
  size_t n;
  // One byte past the limit is enough for the parser to refuse it with its message.
  while (in.size() <= k6t::handler::cni::kMaxConfigBytes &&
         (n = std::fread(buf, 1, sizeof(buf), stdin)) > 0)
    in.append(buf, n);
  const auto out = k6t::handler::cni::RunPlugin([](const char* k) { return std::getenv(k); }, in);
  if (!out.output.empty()) {
    std::fwrite(out.output.data(), 1, out.output.size(), stdout);
    std::fputc('\n', stdout);
  }
  return out.exit_code;
}
