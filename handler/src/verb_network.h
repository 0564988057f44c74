// The pod network verbs of k6t-handler.
#pragma once

namespace k6t::handler {

// Exit code when the kernel or libvirt refused an operation (it was rolled back).
inline constexpr int kExitFailed = 3;

int RunPlan(int argc, char** argv);
int RunSetup(int argc, char** argv);
int RunTeardown(int argc, char** argv);

}  // namespace k6t::handler
