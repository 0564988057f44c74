// The JSON line of one log record (format in k6t/binding/logging.h), kept apart from spdlog
// so that it can be tested as a plain function.
#pragma once

#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace k6t::binding {

// Without the trailing newline.
std::string JsonLogLine(absl::Time time, std::string_view level, std::string_view logger,
                        std::string_view msg);

}  // namespace k6t::binding
