// Nesterov SGD on CUDA (a GPU or the emulator), single-tensor and fused, against the CPU oracle.
//
// Tolerance: none. The kernels do PyTorch's operations in the oracle's order with the scalars
// rounded to float32 on the host as the oracle does, each multiply and add through
// __fmul_rn/__fadd_rn/__fsub_rn, which nvcc never contracts into an FMA; the oracle has no FMA to
// contract into, being built for the x86-64 baseline (g++ would contract a*b + c with an FMA target
// such as -march=haswell or aarch64, even in ISO C++ mode). So parameters and momentum buffers must
// equal the CPU's bit for bit after every step.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/random.h"
#include "kernels/sgd.h"
#include "optim/poly_lr.h"
#include "optim/sgd.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

Tensor uniform(const Shape& shape, std::uint64_t stream) { return uniform_f32(shape, stream, -1.0, 1.0, 1234); }

// A device copy of `host` that starts `offset` floats into a NaN-filled allocation with spare
// floats after it: offsets 1..3 are not 16-byte aligned, and the spare floats must stay NaN.
constexpr std::int64_t kSpare = 8;
struct Placed {
  Tensor base, view;
  std::int64_t offset;
};
Placed placed_copy(const Tensor& host, std::int64_t offset) {
  Tensor base = nan_tensor({host.numel() + kSpare});
  Placed placed{base, base.narrow(0, offset, host.numel()).reshape(host.shape()), offset};
  placed.view.copy_from(host);
  return placed;
}
bool spare_untouched(const Placed& placed) {
  const std::vector<float> all = on_cpu(placed.base).to_vector<float>();
  const std::int64_t count = placed.view.numel();
  for (std::int64_t i = 0; i < std::int64_t(all.size()); ++i)
    if ((i < placed.offset || i >= placed.offset + count) && all[std::size_t(i)] == all[std::size_t(i)]) return false;
  return true;
}

enum class Path { SingleTensor, Fused };

// 10 steps of a poly schedule on parameters of the given sizes, with a fresh gradient each step:
// the CPU oracle on host copies and the CUDA path on views placed at the given offsets (param,
// grad, buffer), compared bit for bit after every step.
void check_steps(Path path, const std::vector<std::int64_t>& sizes, double weight_decay,
                 const std::vector<std::int64_t>& offsets) {
  const double momentum = 0.9;
  const PolyLearningRate schedule(0.01, 10);
  std::vector<Tensor> cpu_param, cpu_buffer, gpu_param, gpu_grad, gpu_buffer;
  std::vector<Placed> placed;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    cpu_param.push_back(uniform({sizes[i]}, 10 + i));
    cpu_buffer.push_back(uniform({sizes[i]}, 20 + i));  // a buffer mid-training: nonzero
    placed.push_back(placed_copy(cpu_param.back(), offsets[0]));
    gpu_param.push_back(placed.back().view);
    placed.push_back(placed_copy(cpu_buffer.back(), offsets[2]));
    gpu_buffer.push_back(placed.back().view);
  }
  for (int step = 0; step < 10; ++step) {
    CAPTURE(step);
    const SgdParams params{schedule.at(step), momentum, weight_decay};
    gpu_grad.clear();
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const Tensor grad = uniform({sizes[i]}, 100 * std::uint64_t(step + 1) + i);
      sgd_nesterov_step(cpu_param[i], grad, cpu_buffer[i], params);
      placed.push_back(placed_copy(grad, offsets[1]));
      gpu_grad.push_back(placed.back().view);
    }
    if (path == Path::Fused) {
      sgd_nesterov_step_all(gpu_param, gpu_grad, gpu_buffer, params);
    } else {
      for (std::size_t i = 0; i < sizes.size(); ++i)
        sgd_nesterov_step(gpu_param[i], gpu_grad[i], gpu_buffer[i], params);
    }
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      CAPTURE(sizes[i]);
      CHECK(same_bits(gpu_param[i], cpu_param[i]));
      CHECK(same_bits(gpu_buffer[i], cpu_buffer[i]));
    }
  }
  for (const Placed& p : placed) CHECK(spare_untouched(p));
}

}  // namespace

TEST_CASE("cuda sgd nesterov over 10 steps equals the cpu bit for bit") {
  // 1 element (scalar only), 31 (float4s and a tail of 3), 1000, and 4097 (several of the
  // emulator's 1024-element chunks in the fused path, grid-stride iterations in the single-tensor
  // path, and a 1-element tail).
  const std::vector<std::int64_t> sizes = {1, 31, 1000, 4097};
  for (Path path : {Path::SingleTensor, Path::Fused})
    for (double weight_decay : {1e-4, 0.0}) {
      CAPTURE(int(path));
      CAPTURE(weight_decay);
      check_steps(path, sizes, weight_decay, {0, 0, 0});
    }
}

TEST_CASE("cuda sgd nesterov on misaligned views") {
  // {1,1,1} and {3,3,3}: a common misalignment (scalar head, float4s, tail); {0,2,1}: none (all
  // scalar). With weight decay only: the alignment logic does not depend on it.
  const std::vector<std::int64_t> sizes = {1, 31, 4097};
  for (Path path : {Path::SingleTensor, Path::Fused})
    for (const std::vector<std::int64_t>& offsets :
         std::vector<std::vector<std::int64_t>>{{1, 1, 1}, {3, 3, 3}, {0, 2, 1}}) {
      CAPTURE(int(path));
      CAPTURE(offsets[0]);
      CAPTURE(offsets[1]);
      CAPTURE(offsets[2]);
      check_steps(path, sizes, 1e-4, offsets);
    }
}

TEST_CASE("cuda sgd optimizer steps like the cpu optimizer") {
  const double momentum = 0.9, weight_decay = 1e-4;
  const std::vector<Shape> shapes = {{3, 3, 5, 7}, {7}, {1}};
  SgdOptimizer cpu_optimizer(momentum, weight_decay), gpu_optimizer(momentum, weight_decay);
  std::vector<Tensor> cpu_param, cpu_grad, gpu_param, gpu_grad;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    cpu_param.push_back(uniform(shapes[i], 30 + i));
    cpu_grad.push_back(uniform(shapes[i], 40 + i));
    gpu_param.push_back(cpu_param.back().to(gpu()));
    gpu_grad.push_back(cpu_grad.back().to(gpu()));
    cpu_optimizer.add(cpu_param.back(), cpu_grad.back());
    gpu_optimizer.add(gpu_param.back(), gpu_grad.back());
  }
  for (const Tensor& buffer : gpu_optimizer.momentum_buffers()) CHECK(buffer.device() == gpu());
  for (double lr : {0.05, 0.04, 0.03}) {
    cpu_optimizer.step(lr);
    gpu_optimizer.step(lr);
  }
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    CAPTURE(i);
    CHECK(same_bits(gpu_param[i], cpu_param[i]));
    CHECK(same_bits(gpu_optimizer.momentum_buffers()[i], cpu_optimizer.momentum_buffers()[i]));
  }
  gpu_optimizer.zero_grad();
  for (const Tensor& grad : gpu_grad)
    for (float g : on_cpu(grad).to_vector<float>()) CHECK(g == 0.0f);
}

TEST_CASE("cuda sgd with empty parameters") {
  // An empty tensor has no chunks; with only empty tensors the fused step launches nothing.
  std::vector<Tensor> params = {Tensor::zeros({0}, DType::F32, gpu())},
                      buffers = {Tensor::zeros({0}, DType::F32, gpu())};
  const std::vector<Tensor> grads = {Tensor::zeros({0}, DType::F32, gpu())};
  CHECK_NOTHROW(sgd_nesterov_step_all(params, grads, buffers, {0.1, 0.9, 1e-4}));
  CHECK_NOTHROW(sgd_nesterov_step(params[0], grads[0], buffers[0], {0.1, 0.9, 1e-4}));
  std::vector<Tensor> none;
  CHECK_NOTHROW(sgd_nesterov_step_all(none, none, none, {0.1, 0.9, 1e-4}));

  const Tensor param = uniform({5}, 50), grad = uniform({5}, 51);
  Tensor expected = param.clone(), buffer = Tensor::zeros({5});
  sgd_nesterov_step(expected, grad, buffer, {0.1, 0.9, 1e-4});
  params.push_back(param.to(gpu()));
  buffers.push_back(Tensor::zeros({5}, DType::F32, gpu()));
  std::vector<Tensor> grads_with_one = grads;
  grads_with_one.push_back(grad.to(gpu()));
  sgd_nesterov_step_all(params, grads_with_one, buffers, {0.1, 0.9, 1e-4});
  CHECK(same_bits(params[1], expected));
  CHECK(same_bits(buffers[1], buffer));
}

TEST_CASE("cuda sgd takes float32 only and one device") {
  Tensor param = Tensor::zeros({5}, DType::F64, gpu()), buffer = Tensor::zeros({5}, DType::F64, gpu());
  const Tensor grad = Tensor::zeros({5}, DType::F64, gpu());
  CHECK_THROWS_WITH_AS(sgd_nesterov_step(param, grad, buffer, {0.1, 0.9, 0.0}),
                       doctest::Contains("float64 is CPU-only; CUDA kernels take float32"), Error);
  std::vector<Tensor> params = {param}, grads = {grad}, buffers = {buffer};
  CHECK_THROWS_WITH_AS(sgd_nesterov_step_all(params, grads, buffers, {0.1, 0.9, 0.0}),
                       doctest::Contains("float64 is CPU-only; CUDA kernels take float32"), Error);
  // Parameters are float32 masters: the optimizer has no bfloat16 kernel.
  Tensor param16 = Tensor::zeros({5}, DType::BF16, gpu()), buffer16 = Tensor::zeros({5}, DType::BF16, gpu());
  const Tensor grad16 = Tensor::zeros({5}, DType::BF16, gpu());
  CHECK_THROWS_WITH_AS(sgd_nesterov_step(param16, grad16, buffer16, {0.1, 0.9, 0.0}),
                       doctest::Contains("sgd_nesterov_step has no bfloat16 kernel"), Error);
  std::vector<Tensor> params16 = {param16}, grads16 = {grad16}, buffers16 = {buffer16};
  CHECK_THROWS_WITH_AS(sgd_nesterov_step_all(params16, grads16, buffers16, {0.1, 0.9, 0.0}),
                       doctest::Contains("sgd_nesterov_step_all[0] has no bfloat16 kernel"), Error);

  std::vector<Tensor> mixed_params = {Tensor::zeros({5}, DType::F32, gpu()), Tensor::zeros({5})};
  const std::vector<Tensor> mixed_grads = {Tensor::zeros({5}, DType::F32, gpu()), Tensor::zeros({5})};
  std::vector<Tensor> mixed_buffers = {Tensor::zeros({5}, DType::F32, gpu()), Tensor::zeros({5})};
  CHECK_THROWS_WITH_AS(sgd_nesterov_step_all(mixed_params, mixed_grads, mixed_buffers, {0.1, 0.9, 0.0}),
                       doctest::Contains("all tensors must be on one device, param is on cpu and params[0] on cuda:0"),
                       Error);
}
