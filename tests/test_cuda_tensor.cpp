// Device memory, copies and random fills on a real GPU (skipped without one).
#include <doctest/doctest.h>

#include <cmath>

#include "kernels/random.h"
#include "tensor/allocator.h"
#include "tensor/tensor.h"

using namespace pans;

TEST_CASE("cuda tensor round trip host -> device -> device -> host") {
  const Tensor host = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor device = host.to(Device::cuda(0));
  CHECK(device.device() == Device::cuda(0));
  const Tensor copy = device.clone();
  CHECK(copy.to(Device::cpu()).to_vector<float>() == host.to_vector<float>());
}

TEST_CASE("cuda allocator reports current and peak bytes") {
  Allocator& gpu = allocator_for(Device::cuda(0));
  gpu.reset_peak();
  const std::size_t before = gpu.stats().current_bytes;
  {
    Tensor a = Tensor::zeros({1 << 20}, DType::F32, Device::cuda(0));
    CHECK(gpu.stats().current_bytes == before + (4u << 20));
    CHECK(a.to(Device::cpu()).to_vector<float>()[12345] == 0.0f);
  }
  CHECK(gpu.stats().current_bytes == before);
  CHECK(gpu.stats().peak_bytes >= before + (4u << 20));
}

TEST_CASE("cuda random fills draw the cpu's numbers") {
  Tensor cpu_uniform = Tensor::empty({100003}), gpu_uniform = Tensor::empty({100003}, DType::F32, Device::cuda(0));
  fill_uniform(cpu_uniform, 42, 7, -0.5, 2.0);
  fill_uniform(gpu_uniform, 42, 7, -0.5, 2.0);
  CHECK(gpu_uniform.to(Device::cpu()).to_vector<float>() == cpu_uniform.to_vector<float>());  // bit for bit

  Tensor cpu_normal = Tensor::empty({100003}), gpu_normal = Tensor::empty({100003}, DType::F32, Device::cuda(0));
  fill_normal(cpu_normal, 42, 7, 0.0, 1.0);
  fill_normal(gpu_normal, 42, 7, 0.0, 1.0);
  const std::vector<float> expected = cpu_normal.to_vector<float>(), actual = gpu_normal.to(Device::cpu()).to_vector<float>();
  // CUDA's logf/cosf/sqrtf are within 1-2 ulp of glibc's; through Box-Muller that stays < 1e-5 absolute
  // for |z| < 6.
  double worst = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) worst = std::max(worst, double(std::abs(expected[i] - actual[i])));
  CHECK(worst < 1e-5);
}
