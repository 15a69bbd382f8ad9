// The non-finite check on CUDA (a GPU or the emulator) against the CPU: exact (isfinite has no
// rounding and the flag is an OR), so the same indices.
#include <doctest/doctest.h>

#include <limits>
#include <vector>

#include "kernels/nonfinite.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

TEST_CASE("cuda nonfinite: the same tensors as the cpu, wherever in a tensor the value is") {
  // 3000 elements: more than the emulator's 4 x 256 threads take in one pass, so the grid-stride
  // loop iterates, and a NaN at the end is seen by a thread's later iteration.
  std::vector<Tensor> host;
  for (const std::int64_t at : {std::int64_t(-1), std::int64_t(0), std::int64_t(1500), std::int64_t(2999)}) {
    Tensor t = uniform_f32({3000}, std::uint64_t(at + 2), -1.0, 1.0, 5);
    if (at >= 0) t.data<float>()[at] = at == 1500 ? -std::numeric_limits<float>::infinity()
                                                   : std::numeric_limits<float>::quiet_NaN();
    host.push_back(t);
  }
  host.push_back(Tensor::zeros({0}));
  std::vector<Tensor> device;
  for (const Tensor& t : host) device.push_back(t.to(gpu()));
  CHECK(tensors_with_nonfinite(host) == std::vector<std::size_t>{1, 2, 3});
  CHECK(tensors_with_nonfinite(device) == tensors_with_nonfinite(host));
}
