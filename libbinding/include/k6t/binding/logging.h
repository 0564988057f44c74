// Log set-up shared by k6t-handler and k6t-launcher, and open to embedders. k6t logs through
// spdlog's default logger; this replaces it with one that has the program's name and writes
// either spdlog's usual text lines or JSON lines for log collectors.
//
// JSON: one object per line, {"time":"2026-12-01T18:40:00.123456Z","level":"info",
// "logger":"k6t-handler","msg":"setup vmi=ns/vm interfaces=2 apply_ms=3.10", "vmi":"ns/vm",
// "interfaces":2,"apply_ms":3.1}. `msg` is the whole text; each `key=value` word before the
// first ": " of the text (after it comes free text such as an error message) is also a
// field of its own, a number or true/false when it reads as one, else a string. A key that
// is one of time/level/logger/msg, or repeats, is not duplicated.
//
// Thread-safety: logging is thread-safe; SetupLogging itself swaps the default logger and
// must run before other threads log (at start-up). No privileges needed.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace k6t::binding {

enum class LogFormat { kText, kJson };
enum class LogStream { kStdout, kStderr };

// "text" or "json"; InvalidArgument naming the value otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(std::string_view text);

// Makes a logger named `name` writing to `stream` in `format` spdlog's default logger (it
// keeps spdlog's global level). Calling it again replaces the previous one. Text lines are
// coloured only when the stream is a terminal.
void SetupLogging(std::string_view name, LogFormat format, LogStream stream);

// ParseLogFormat + SetupLogging; InvalidArgument (nothing changed) for an unknown format.
absl::Status SetupLogging(std::string_view name, std::string_view format, LogStream stream);

}  // namespace k6t::binding
