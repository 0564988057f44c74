// `k6t-handler watch`.
#pragma once

namespace k6t::handler {

int RunWatch(int argc, char** argv);

}  // namespace k6t::handler
