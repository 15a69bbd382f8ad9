#include "kernels/configuration.h"

#include "kernels/cpu_fast/parallel.h"

namespace pans {
namespace {

Implementations& current() {
  static Implementations implementations;
  return implementations;
}

}  // namespace

int configure_kernels(const Implementations& implementations) {
  const int threads = cpu_fast::set_threads(implementations.cpu_threads, "--threads");
  current() = implementations;
  return threads;
}

const Implementations& kernel_configuration() { return current(); }

}  // namespace pans
