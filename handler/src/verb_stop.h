// `k6t-handler stop`.
#pragma once

namespace k6t::handler {

int RunStop(int argc, char** argv);

}  // namespace k6t::handler
