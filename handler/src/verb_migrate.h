// `k6t-handler migrate`: live migration of a running VM from its launcher to a launcher
// started with --incoming in another pod (launcher/README.md "Live migration").
#pragma once

namespace k6t::handler {

int RunMigrate(int argc, char** argv);

}  // namespace k6t::handler
