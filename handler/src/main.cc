#include "cli.h"

int main(int argc, char** argv) { return k6t::handler::RunCli(argc, argv); }
