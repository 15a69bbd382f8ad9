// The doctest runner of the CUDA test binaries, native and emulated. It prints where the kernels
// run, and configures them from the environment as an app would (PANS_SYNC_CHECK=1 pins a GPU fault
// on its kernel). Natively without a usable GPU every test case exits with ctest's skip code (77)
// after saying why; listing the cases (ctest discovery) still works. tests/case_counter.h fails a
// run without a test case.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>

#include "config/environment.h"
#include "kernels/configuration.h"
#include "tensor/cuda_runtime.h"
#include "tests/case_counter.h"

namespace {

bool only_lists_tests(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strstr(argv[i], "list-test") != nullptr || std::strstr(argv[i], "-ltc") != nullptr) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (!only_lists_tests(argc, argv)) {
    if (pans::cuda_device_count() == 0) {
      std::printf("SKIPPED: no usable CUDA device (%s)\n", pans::cuda_unavailable_reason().c_str());
      return 77;
    }
    std::printf("CUDA kernels run on: %s\n", pans::cuda_device_name(0).c_str());
  }
  pans::configure_kernels(pans::implementations_from_environment());
  doctest::Context context(argc, argv);
  return pans::test::fail_without_cases(context.run());
}
