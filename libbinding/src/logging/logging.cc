#include "k6t/binding/logging.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "logging/json_log.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace k6t::binding {
namespace {

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string line =
        JsonLogLine(absl::FromChrono(msg.time), std::string_view(level.data(), level.size()),
                    std::string_view(msg.logger_name.data(), msg.logger_name.size()),
                    std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

absl::StatusOr<LogFormat> ParseLogFormat(std::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log format \"", std::string(text), "\" (want text or json)"));
}

void SetupLogging(std::string_view name, LogFormat format, LogStream stream) {
  spdlog::sink_ptr sink;
  if (stream == LogStream::kStderr)
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  else
    sink = std::make_shared<spdlog::sinks::stdout_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(std::string(name), std::move(sink));
  // The registry refuses a second logger of one name; the previous one goes first.
  spdlog::drop(std::string(name));
  spdlog::initialize_logger(logger);  // takes the global level and pattern
  if (format == LogFormat::kJson) logger->set_formatter(std::make_unique<JsonFormatter>());
  spdlog::set_default_logger(std::move(logger));
}

absl::Status SetupLogging(std::string_view name, std::string_view format, LogStream stream) {
  auto f = ParseLogFormat(format);
  if (!f.ok()) return f.status();
  SetupLogging(name, *f, stream);
  return absl::OkStatus();
}

}  // namespace k6t::binding
