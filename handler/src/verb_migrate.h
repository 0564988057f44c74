// `k6t-handler migrate`: live migration of a running VM from its launcher to a launcher
// started with --incoming in another pod (launcher/README.md "Live migration").
#pragma once

#include <string>

#include "k6t/api/rpc.h"

namespace k6t::handler {

// One line on a migration job: "running: pass 2, 12.0 MiB of 144.6 MiB left, dirty rate ...",
// "completed", "failed: why". Shown by `migrate` while it follows the job and by `status`.
std::string DescribeMigration(const api::rpc::GetMigrationResult& m);

int RunMigrate(int argc, char** argv);

}  // namespace k6t::handler
