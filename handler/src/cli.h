// The verbs of k6t-handler; each returns the process exit code.
#pragma once

namespace k6t::handler {

int RunCli(int argc, char** argv);

}  // namespace k6t::handler
