#include "cli.h"

#include <cstdio>

namespace k6t::handler {

int RunCli(int, char**) {
  std::fprintf(stderr, "k6t-handler: no verbs yet\n");
  return 2;
}

}  // namespace k6t::handler
