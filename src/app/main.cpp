// netpulse: the entry point. Everything else lives in the app library (cli.cpp, serve.cpp).
#include "cli.hpp"

int main(int argc, char** argv) {
  return netpulse::app::run(argc, argv);
}
