// `k6t-handler vnc`: checks the VM's VNC socket and prints how to connect (verb_vnc.cc).
#pragma once

namespace k6t::handler {

int RunVnc(int argc, char** argv);

}  // namespace k6t::handler
