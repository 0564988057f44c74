// `k6t-handler console`: attaches the terminal to the VM's serial console (verb_console.cc).
#pragma once

namespace k6t::handler {

int RunConsole(int argc, char** argv);

}  // namespace k6t::handler
