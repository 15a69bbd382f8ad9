// Device memory, copies and random fills, on a GPU or on the emulator.
#include <doctest/doctest.h>

#include <cmath>

#include "kernels/random.h"
#include "tensor/allocator.h"
#include "tensor/tensor.h"
#include "tests/cuda_test_util.h"
#include "tests/test_helpers.h"

using namespace pans;
using namespace pans::test;

TEST_CASE("cuda tensor round trip host -> device -> device -> host") {
  const Tensor host = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor device = host.to(gpu());
  CHECK(device.device() == gpu());
  const Tensor copy = device.clone();
  CHECK(on_cpu(copy).to_vector<float>() == host.to_vector<float>());
}

TEST_CASE("cuda allocator reports current and peak bytes") {
  Allocator& allocator = allocator_for(gpu());
  allocator.reset_peak();
  const std::size_t before = allocator.stats().current_bytes;
  {
    Tensor a = Tensor::zeros({1 << 20}, DType::F32, gpu());
    CHECK(allocator.stats().current_bytes == before + (4u << 20));
    CHECK(on_cpu(a).to_vector<float>()[12345] == 0.0f);
  }
  CHECK(allocator.stats().current_bytes == before);
  CHECK(allocator.stats().peak_bytes >= before + (4u << 20));
}

// More than the device has (the emulator's 80 GiB, any GPU's today): an error with the request and
// what is free, not a CUDA error code; the allocator works on afterwards.
TEST_CASE("cuda out of device memory names the request and the free memory") {
  const std::int64_t elements = std::int64_t(1) << 40;  // 4 TiB of float32
  check_error_mentions([&] { Tensor::empty({elements}, DType::F32, gpu()); },
                       {"out of device memory", "cannot allocate 4194304.0 MiB", " free of ", "pans holds"});
  const Tensor after = Tensor::zeros({16}, DType::F32, gpu());
  CHECK(on_cpu(after).to_vector<float>() == std::vector<float>(16, 0.0f));
}

TEST_CASE("cuda random fills draw the cpu's numbers") {
  Tensor cpu_uniform = Tensor::empty({10003}), gpu_uniform = nan_tensor({10003});
  fill_uniform(cpu_uniform, 42, 7, -0.5, 2.0);
  fill_uniform(gpu_uniform, 42, 7, -0.5, 2.0);
  CHECK(on_cpu(gpu_uniform).to_vector<float>() == cpu_uniform.to_vector<float>());  // bit for bit

  Tensor cpu_normal = Tensor::empty({10003}), gpu_normal = nan_tensor({10003});
  fill_normal(cpu_normal, 42, 7, 0.0, 1.0);
  fill_normal(gpu_normal, 42, 7, 0.0, 1.0);
  // CUDA's logf/cosf/sqrtf are within 1-2 ulp of glibc's; through Box-Muller that stays below 1e-5
  // absolute for |z| < 6 (on the emulator the functions are glibc's own).
  CHECK(max_scaled_error(gpu_normal, cpu_normal) < 1e-5);
}

TEST_CASE("cuda random fills have no bfloat16 kernel and say so") {
  Tensor values = Tensor::zeros({7}, DType::BF16, gpu());
  CHECK_THROWS_WITH_AS(fill_uniform(values, 42, 7, 0.0, 1.0), doctest::Contains("fill_uniform has no bfloat16 kernel"),
                       Error);
  CHECK_THROWS_WITH_AS(fill_normal(values, 42, 7, 0.0, 1.0), doctest::Contains("fill_normal has no bfloat16 kernel"),
                       Error);
}
