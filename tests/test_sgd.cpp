#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/sgd.h"
#include "optim/poly_lr.h"
#include "optim/sgd.h"
#include "tests/gradcheck.h"

using namespace pans;

namespace {

// torch.optim.SGD's single-tensor loop for momentum > 0, dampening 0, nesterov=True, written from
// its documented algorithm: the buffer is created as a copy of d on the first step, and every
// update is `x.add(y, alpha=a)`, i.e. x + a*y with the scalar rounded to T.
template <class T>
class TorchNesterovSgd {
 public:
  TorchNesterovSgd(double momentum, double weight_decay) : momentum_(momentum), weight_decay_(weight_decay) {}

  void step(std::vector<T>& param, const std::vector<T>& grad, double lr) {
    if (buffer_.empty()) buffer_.resize(param.size());
    for (std::size_t i = 0; i < param.size(); ++i) {
      T d = grad[i];
      if (weight_decay_ != 0) d = d + T(weight_decay_) * param[i];
      buffer_[i] = first_step_ ? d : T(momentum_) * buffer_[i] + T(1) * d;
      d = d + T(momentum_) * buffer_[i];
      param[i] = param[i] + T(-lr) * d;
    }
    first_step_ = false;
  }

  const std::vector<T>& buffer() const { return buffer_; }

 private:
  double momentum_, weight_decay_;
  bool first_step_ = true;
  std::vector<T> buffer_;
};

template <class T>
void check_matches_torch_algorithm(DType dtype) {
  const double momentum = 0.9, weight_decay = 1e-4;
  const PolyLearningRate schedule(0.007, 20);
  Tensor param = test::random_tensor({37}, 1).cast(dtype);
  Tensor buffer = Tensor::zeros({37}, dtype);
  std::vector<T> reference_param = param.to_vector<T>();
  TorchNesterovSgd<T> reference(momentum, weight_decay);
  for (int it = 0; it < 20; ++it) {
    const Tensor grad = test::random_tensor({37}, 100 + it).cast(dtype);
    sgd_nesterov_step(param, grad, buffer, {schedule.at(it), momentum, weight_decay});
    reference.step(reference_param, grad.to_vector<T>(), schedule.at(it));
  }
  // The same operations on the same values in the same order: identical bits.
  CHECK(param.to_vector<T>() == reference_param);
  CHECK(buffer.to_vector<T>() == reference.buffer());
}

}  // namespace

TEST_CASE("sgd nesterov trajectory with weight decay") {
  // p0 = 1, constant g = 0.5, lr = 0.1, momentum 0.9, weight decay 0.1 (large enough to show).
  // step 1: d = 0.5 + 0.1*1 = 0.6;            buf = 0.6 (zero buffer: 0.9*0 + 0.6)
  //         d = 0.6 + 0.9*0.6 = 1.14;         p = 1 - 0.1*1.14 = 0.886
  // step 2: d = 0.5 + 0.1*0.886 = 0.5886;     buf = 0.9*0.6 + 0.5886 = 1.1286
  //         d = 0.5886 + 0.9*1.1286 = 1.60434; p = 0.886 - 0.160434 = 0.725566
  // step 3: d = 0.5 + 0.0725566 = 0.5725566;  buf = 0.9*1.1286 + 0.5725566 = 1.5882966
  //         d = 0.5725566 + 0.9*1.5882966 = 2.00202354; p = 0.725566 - 0.200202354 = 0.525363646
  const double expected_param[] = {0.886, 0.725566, 0.525363646};
  const double expected_buffer[] = {0.6, 1.1286, 1.5882966};
  Tensor param = Tensor::from_vector<double>({1.0}, {1});
  Tensor buffer = Tensor::zeros({1}, DType::F64);
  const Tensor grad = Tensor::from_vector<double>({0.5}, {1});
  for (int step = 0; step < 3; ++step) {
    CAPTURE(step);
    sgd_nesterov_step(param, grad, buffer, {0.1, 0.9, 0.1});
    // Exact decimals vs a dozen roundings of double: a few ulps.
    CHECK(param.to_vector<double>()[0] == doctest::Approx(expected_param[step]).epsilon(1e-15));
    CHECK(buffer.to_vector<double>()[0] == doctest::Approx(expected_buffer[step]).epsilon(1e-15));
  }
}

TEST_CASE("sgd nesterov step equals PyTorch's algorithm bit for bit") {
  SUBCASE("float64") { check_matches_torch_algorithm<double>(DType::F64); }
  SUBCASE("float32") { check_matches_torch_algorithm<float>(DType::F32); }
}

TEST_CASE("sgd without weight decay leaves the gradient untouched") {
  // One step from a zero buffer with weight decay 0: p = p - lr*(g + 0.9*g) = 2 - 0.5*(1.9*1) = 1.05.
  Tensor param = Tensor::from_vector<double>({2.0}, {1});
  Tensor buffer = Tensor::zeros({1}, DType::F64);
  sgd_nesterov_step(param, Tensor::from_vector<double>({1.0}, {1}), buffer, {0.5, 0.9, 0.0});
  CHECK(param.to_vector<double>()[0] == doctest::Approx(1.05).epsilon(1e-15));
  CHECK(buffer.to_vector<double>()[0] == 1.0);
}

TEST_CASE("poly learning rate schedule") {
  const PolyLearningRate schedule(0.007, 1000);
  CHECK(schedule.at(0) == 0.007);
  CHECK(schedule.at(1000) == 0.0);
  // Halfway: 0.007 * 0.5^0.9 = 0.007 * exp(-0.9 ln 2).
  CHECK(schedule.at(500) == doctest::Approx(0.007 * std::exp(-0.9 * std::log(2.0))).epsilon(1e-15));
  // 1 - 1023/1024 = 2^-10, and (2^-10)^0.9 = 2^-9.
  CHECK(PolyLearningRate(1.0, 1024).at(1023) == doctest::Approx(1.0 / 512).epsilon(1e-15));
  // Power 1 is linear: 0.01 * (1 - 25/100) = 0.0075.
  CHECK(PolyLearningRate(0.01, 100, 1.0).at(25) == doctest::Approx(0.0075).epsilon(1e-15));
  for (std::int64_t it = 1; it <= 1000; ++it) CHECK(schedule.at(it) < schedule.at(it - 1));

  CHECK_THROWS_WITH_AS(schedule.at(1001), doctest::Contains("iteration 1001 is outside [0, 1000]"), Error);
  CHECK_THROWS_WITH_AS(schedule.at(-1), doctest::Contains("iteration -1 is outside"), Error);
  CHECK_THROWS_WITH_AS(PolyLearningRate(0.007, 0), doctest::Contains("max_iterations 0"), Error);
  CHECK_THROWS_WITH_AS(PolyLearningRate(-1.0, 10), doctest::Contains("invalid base_lr -1"), Error);
}

TEST_CASE("sgd optimizer steps every parameter and zeroes every gradient") {
  const double momentum = 0.9, weight_decay = 1e-4, lr = 0.05;
  Tensor w = test::random_tensor({2, 3}, 1), b = test::random_tensor({4}, 2);
  Tensor dw = test::random_tensor({2, 3}, 3), db = test::random_tensor({4}, 4);
  // The same two steps done directly with the kernel, on copies.
  Tensor w_expected = w.clone(), b_expected = b.clone();
  Tensor w_buffer = Tensor::zeros({2, 3}, DType::F64), b_buffer = Tensor::zeros({4}, DType::F64);
  for (int step = 0; step < 2; ++step) {
    sgd_nesterov_step(w_expected, dw, w_buffer, {lr, momentum, weight_decay});
    sgd_nesterov_step(b_expected, db, b_buffer, {lr, momentum, weight_decay});
  }

  SgdOptimizer optimizer(momentum, weight_decay);
  optimizer.add(w, dw);
  optimizer.add(b, db);
  REQUIRE(optimizer.size() == 2);
  for (const Tensor& buffer : optimizer.momentum_buffers()) {
    CHECK(buffer.dtype() == DType::F64);
    for (const double v : buffer.to_vector<double>()) CHECK(v == 0.0);
  }
  optimizer.step(lr);
  optimizer.step(lr);
  // The optimizer updated the caller's tensors in place.
  CHECK(w.to_vector<double>() == w_expected.to_vector<double>());
  CHECK(b.to_vector<double>() == b_expected.to_vector<double>());
  CHECK(optimizer.momentum_buffers()[0].to_vector<double>() == w_buffer.to_vector<double>());
  CHECK(optimizer.momentum_buffers()[1].to_vector<double>() == b_buffer.to_vector<double>());
  CHECK(optimizer.momentum_buffers()[1].shape() == Shape{4});

  optimizer.zero_grad();
  for (const double g : dw.to_vector<double>()) CHECK(g == 0.0);
  for (const double g : db.to_vector<double>()) CHECK(g == 0.0);
}

TEST_CASE("sgd rejects bad arguments with the op name and shapes") {
  Tensor param = Tensor::zeros({2, 3}), buffer = Tensor::zeros({2, 3});
  CHECK_THROWS_WITH_AS(sgd_nesterov_step(param, Tensor::zeros({3, 2}), buffer, {0.1, 0.9, 0.0}),
                       doctest::Contains("sgd_nesterov_step(param [2,3] float32 cpu, grad [3,2] float32 cpu, "
                                         "momentum_buffer [2,3] float32 cpu): grad must have shape [2,3]"),
                       Error);
  CHECK_THROWS_WITH_AS(sgd_nesterov_step(param, Tensor::zeros({2, 3}, DType::F64), buffer, {0.1, 0.9, 0.0}),
                       doctest::Contains("one dtype"), Error);
  Tensor labels = Tensor::zeros({2, 3}, DType::U8);
  CHECK_THROWS_WITH_AS(sgd_nesterov_step(labels, Tensor::zeros({2, 3}), buffer, {0.1, 0.9, 0.0}),
                       doctest::Contains("param must be float32 or float64"), Error);
  CHECK_THROWS_WITH_AS(sgd_nesterov_step(param, Tensor::zeros({2, 3}), buffer, {0.1, 0.0, 0.0}),
                       doctest::Contains("invalid lr 0.1, momentum 0"), Error);

  std::vector<float> memory(6);
  const Tensor grad_cuda = Tensor::wrap(memory.data(), {2, 3}, DType::F32, Device::cuda(0));
  CHECK_THROWS_WITH_AS(sgd_nesterov_step(param, grad_cuda, buffer, {0.1, 0.9, 0.0}),
                       doctest::Contains("all tensors must be on one device, grad is on cuda:0 and param on cpu"),
                       Error);

  SgdOptimizer optimizer(0.9, 1e-4);
  CHECK_THROWS_WITH_AS(optimizer.add(param, Tensor::zeros({3, 2})), doctest::Contains("must match"), Error);
  optimizer.add(param, Tensor::zeros({2, 3}));
  std::vector<float> param_memory(6);
  const Tensor param_cuda = Tensor::wrap(param_memory.data(), {2, 3}, DType::F32, Device::cuda(0));
  CHECK_THROWS_WITH_AS(optimizer.add(param_cuda, grad_cuda), doctest::Contains("is not on cpu"), Error);
  CHECK_THROWS_WITH_AS(SgdOptimizer(1.0, 1e-4), doctest::Contains("invalid momentum 1"), Error);
}

TEST_CASE("sgd step over all parameters equals the single-tensor step on each") {
  const SgdParams params{0.05, 0.9, 1e-4};
  const std::vector<Shape> shapes = {{1}, {31}, {2, 3, 5}};
  std::vector<Tensor> param, grad, buffer, param_expected, buffer_expected;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    // float32 and float64 mixed: the CPU loop takes each triple in its own dtype.
    const DType dtype = i == 1 ? DType::F64 : DType::F32;
    param.push_back(test::random_tensor(shapes[i], 10 + i).cast(dtype));
    grad.push_back(test::random_tensor(shapes[i], 20 + i).cast(dtype));
    buffer.push_back(test::random_tensor(shapes[i], 30 + i).cast(dtype));
    param_expected.push_back(param.back().clone());
    buffer_expected.push_back(buffer.back().clone());
  }
  for (int step = 0; step < 3; ++step) {
    sgd_nesterov_step_all(param, grad, buffer, params);
    for (std::size_t i = 0; i < shapes.size(); ++i)
      sgd_nesterov_step(param_expected[i], grad[i], buffer_expected[i], params);
  }
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    CAPTURE(i);
    CHECK(param[i].cast(DType::F64).to_vector<double>() == param_expected[i].cast(DType::F64).to_vector<double>());
    CHECK(buffer[i].cast(DType::F64).to_vector<double>() == buffer_expected[i].cast(DType::F64).to_vector<double>());
  }
  std::vector<Tensor> none;
  CHECK_NOTHROW(sgd_nesterov_step_all(none, none, none, params));
}

TEST_CASE("sgd step over all parameters checks every triple before updating any") {
  const SgdParams params{0.05, 0.9, 0.0};
  std::vector<Tensor> param = {Tensor::zeros({4}), Tensor::zeros({2, 3})};
  std::vector<Tensor> grad = {Tensor::zeros({4}), Tensor::zeros({3, 2})};
  std::vector<Tensor> buffer = {Tensor::zeros({4}), Tensor::zeros({2, 3})};
  grad[0].copy_from(Tensor::from_vector<float>({1, 2, 3, 4}, {4}));
  CHECK_THROWS_WITH_AS(sgd_nesterov_step_all(param, grad, buffer, params),
                       doctest::Contains("sgd_nesterov_step_all[1](param [2,3] float32 cpu, grad [3,2] float32 cpu, "
                                         "momentum_buffer [2,3] float32 cpu): grad must have shape [2,3]"),
                       Error);
  for (float value : param[0].to_vector<float>()) CHECK(value == 0.0f);  // triple 0 was not stepped

  std::vector<Tensor> two_grads = {grad[0], grad[0]}, one_buffer = {buffer[0]};
  CHECK_THROWS_WITH_AS(sgd_nesterov_step_all(param, two_grads, one_buffer, params),
                       doctest::Contains("2 params, 2 grads and 1 momentum buffers"), Error);

  // Triple 1 on cuda:0 (borrowed host memory): the device check rejects it before any pointer is used.
  std::vector<float> memory_p(6), memory_g(6), memory_b(6);
  std::vector<Tensor> mixed_param = {param[0], Tensor::wrap(memory_p.data(), {2, 3}, DType::F32, Device::cuda(0))};
  const std::vector<Tensor> mixed_grad = {grad[0], Tensor::wrap(memory_g.data(), {2, 3}, DType::F32, Device::cuda(0))};
  std::vector<Tensor> mixed_buffer = {buffer[0], Tensor::wrap(memory_b.data(), {2, 3}, DType::F32, Device::cuda(0))};
  CHECK_THROWS_WITH_AS(sgd_nesterov_step_all(mixed_param, mixed_grad, mixed_buffer, params),
                       doctest::Contains("all tensors must be on one device, param is on cuda:0 and params[0] on cpu"),
                       Error);
}
