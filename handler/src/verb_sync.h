// `k6t-handler sync`.
#pragma once

namespace k6t::handler {

// Exit code of sync when everything else converged but interfaces wait for their pod link or
// need a VM restart.
inline constexpr int kExitPending = 4;

int RunSync(int argc, char** argv);

}  // namespace k6t::handler
