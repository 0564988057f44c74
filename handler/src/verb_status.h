// `k6t-handler status`: asks a running launcher for the VM's status.interfaces and prints it.
#pragma once

namespace k6t::handler {

// argv[0] is the verb ("status") or the program name; flags follow:
//   --launcher-socket PATH   the launcher's command socket (required)
//   --output table|json      default table
//   --timeout SECONDS        connect + call timeout, default 10
// Exit codes: 0 printed, 1 the launcher could not be reached or failed, 2 usage error.
int RunStatus(int argc, char** argv);

}  // namespace k6t::handler
