// k6t-handler's command line: `k6t-handler [--log-level LEVEL] VERB [ARGS...]`.
// The verbs live in verbs.h; each returns the process exit code.
#pragma once

namespace k6t::handler {

int RunCli(int argc, char** argv);

}  // namespace k6t::handler
