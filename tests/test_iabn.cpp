#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/iabn.h"
#include "kernels/iabn_cudnn.h"
#include "tests/gradcheck.h"

using namespace pans;
using pans::test::kGradientTolerance;

namespace {

constexpr double kEps = 1e-5;
constexpr double kSlope = 0.01;

// One negative weight channel, so the |w| in gamma_hat and the sign(w) in dw are both exercised.
const std::vector<double> kWeights = {0.7, -1.3, 0.4};
const std::vector<double> kBiases = {0.1, -0.2, 0.3};
const Shape kShape = {2, 5, 7, 3};

Tensor per_channel(const std::vector<double>& values) {
  return Tensor::from_vector(values, {std::int64_t(values.size())});
}

IabnParams params_for(IabnActivation activation) {
  IabnParams params;
  params.activation = activation;
  return params;
}

// The running statistics of the evaluation tests: away from the batch's, so a mix-up shows.
struct RunningStatistics {
  Tensor mean = per_channel({0.2, -0.1, 0.05});
  Tensor var = per_channel({0.5, 1.5, 0.8});
};

// The forward output z, on a copy of x (the op overwrites its input).
Tensor train_output(const Tensor& x, const Tensor& w, const Tensor& b, const IabnParams& params,
                    Tensor* saved_var = nullptr) {
  Tensor z = x.clone();
  Tensor running_mean = Tensor::zeros(w.shape(), DType::F64), running_var = Tensor::zeros(w.shape(), DType::F64);
  Tensor batch_var = Tensor::empty(w.shape(), DType::F64);
  iabn_forward_train(z, w, b, running_mean, running_var, batch_var, params);
  if (saved_var != nullptr) *saved_var = batch_var;
  return z;
}

Tensor eval_output(const Tensor& x, const Tensor& w, const Tensor& b, const RunningStatistics& running,
                   const IabnParams& params) {
  Tensor z = x.clone();
  iabn_forward_eval(z, w, b, running.mean, running.var, params);
  return z;
}

// Batch norm with gamma = |w| + eps followed by the activation, computed from the input x as an
// unfused framework would: the forward keeps x, xhat and y, and the backward is the textbook chain
// rule through mean and variance (Ioffe & Szegedy 2015, section 3), independent of the inversion
// from z that iABN's backward does.
struct UnfusedBatchNorm {
  IabnMode mode = IabnMode::Train;
  IabnActivation activation = IabnActivation::LeakyRelu;
  Shape shape;
  std::size_t count = 0, channels = 0;
  std::vector<double> x, w, mean, var, xhat, y;

  static UnfusedBatchNorm forward(const Tensor& input, const Tensor& weight, const Tensor& bias, IabnMode mode,
                                  IabnActivation activation, const RunningStatistics& running) {
    const std::size_t channels = std::size_t(input.dim(3)), count = std::size_t(input.numel()) / channels;
    UnfusedBatchNorm bn;
    bn.mode = mode;
    bn.activation = activation;
    bn.shape = input.shape();
    bn.count = count;
    bn.channels = channels;
    bn.x = input.to_vector<double>();
    bn.w = weight.to_vector<double>();
    const std::vector<double> b = bias.to_vector<double>();
    if (mode == IabnMode::Train) {
      bn.mean.assign(channels, 0.0);
      bn.var.assign(channels, 0.0);
      for (std::size_t i = 0; i < bn.x.size(); ++i) bn.mean[i % channels] += bn.x[i] / double(count);
      for (std::size_t i = 0; i < bn.x.size(); ++i)
        bn.var[i % channels] += std::pow(bn.x[i] - bn.mean[i % channels], 2) / double(count);
    } else {
      bn.mean = running.mean.to_vector<double>();
      bn.var = running.var.to_vector<double>();
    }
    for (std::size_t i = 0; i < bn.x.size(); ++i) {
      const std::size_t c = i % channels;
      bn.xhat.push_back((bn.x[i] - bn.mean[c]) / std::sqrt(bn.var[c] + kEps));
      bn.y.push_back(bn.gamma(c) * bn.xhat.back() + b[c]);
    }
    return bn;
  }

  double gamma(std::size_t c) const { return std::abs(w[c]) + kEps; }
  double activation_slope(std::size_t i) const {
    return activation == IabnActivation::LeakyRelu && y[i] < 0 ? kSlope : 1.0;
  }

  Tensor output() const {
    std::vector<double> z(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) z[i] = activation_slope(i) * y[i];
    return Tensor::from_vector(z, shape);
  }

  double min_abs_preactivation() const {
    double smallest = INFINITY;
    for (double value : y) smallest = std::min(smallest, std::abs(value));
    return smallest;
  }

  // dx, dw, db for the output gradient dz.
  void backward(const std::vector<double>& dz, std::vector<double>& dx, std::vector<double>& dw,
                std::vector<double>& db) const {
    const std::size_t n = x.size();
    std::vector<double> dxhat(n), dvar(channels, 0.0), dmean(channels, 0.0);
    dw.assign(channels, 0.0);
    db.assign(channels, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t c = i % channels;
      const double dy = dz[i] * activation_slope(i);
      const double dgamma = dy * xhat[i];
      dw[c] += w[c] >= 0 ? dgamma : -dgamma;
      db[c] += dy;
      dxhat[i] = dy * gamma(c);
      dvar[c] += dxhat[i] * (x[i] - mean[c]) * -0.5 * std::pow(var[c] + kEps, -1.5);
      // dmean's other term, dvar * mean(-2 (x - mean)), vanishes for the batch mean.
      dmean[c] -= dxhat[i] / std::sqrt(var[c] + kEps);
    }
    dx.assign(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t c = i % channels;
      dx[i] = dxhat[i] / std::sqrt(var[c] + kEps);
      if (mode == IabnMode::Train) dx[i] += dvar[c] * 2 * (x[i] - mean[c]) / double(count) + dmean[c] / double(count);
    }
  }
};

}  // namespace

TEST_CASE("gradcheck iabn train") {
  Tensor x = test::random_tensor(kShape, 1, -1.0, 2.0), w = per_channel(kWeights), b = per_channel(kBiases);
  const IabnParams params = params_for(IabnActivation::LeakyRelu);
  // Central differences straddling the leaky ReLU kink are wrong; one step moves y by ~1e-5 at most,
  // so every y must lie farther than 1e-3 from 0 (the inputs were chosen so that it does).
  const UnfusedBatchNorm unfused =
      UnfusedBatchNorm::forward(x, w, b, IabnMode::Train, params.activation, RunningStatistics{});
  REQUIRE(unfused.min_abs_preactivation() > 1e-3);

  const Tensor g = test::random_tensor(kShape, 4);
  auto loss = [&] { return test::weighted_sum(train_output(x, w, b, params), g); };
  Tensor saved_var;
  const Tensor z = train_output(x, w, b, params, &saved_var);
  Tensor dx = Tensor::empty(kShape, DType::F64);
  Tensor dw = Tensor::zeros({3}, DType::F64), db = Tensor::zeros({3}, DType::F64);
  iabn_backward(z, g, w, b, saved_var, dx, dw, db, IabnMode::Train, params);
  CHECK(test::max_gradient_error(x, dx, loss) < kGradientTolerance);
  CHECK(test::max_gradient_error(w, dw, loss) < kGradientTolerance);
  CHECK(test::max_gradient_error(b, db, loss) < kGradientTolerance);
}

TEST_CASE("gradcheck iabn eval") {
  Tensor x = test::random_tensor(kShape, 1, -1.0, 2.0), w = per_channel(kWeights), b = per_channel(kBiases);
  const IabnParams params = params_for(IabnActivation::LeakyRelu);
  const RunningStatistics running;
  // The kink band, as in the training check.
  REQUIRE(UnfusedBatchNorm::forward(x, w, b, IabnMode::Eval, params.activation, running).min_abs_preactivation() >
          1e-3);

  const Tensor g = test::random_tensor(kShape, 4);
  auto loss = [&] { return test::weighted_sum(eval_output(x, w, b, running, params), g); };
  const Tensor z = eval_output(x, w, b, running, params);
  Tensor dx = Tensor::empty(kShape, DType::F64);
  Tensor dw = Tensor::zeros({3}, DType::F64), db = Tensor::zeros({3}, DType::F64);
  iabn_backward(z, g, w, b, running.var, dx, dw, db, IabnMode::Eval, params);
  CHECK(test::max_gradient_error(x, dx, loss) < kGradientTolerance);
  CHECK(test::max_gradient_error(w, dw, loss) < kGradientTolerance);
  CHECK(test::max_gradient_error(b, db, loss) < kGradientTolerance);
}

TEST_CASE("gradcheck iabn identity activation") {
  const IabnParams params = params_for(IabnActivation::Identity);
  const RunningStatistics running;
  for (IabnMode mode : {IabnMode::Train, IabnMode::Eval}) {
    CAPTURE(int(mode));
    Tensor x = test::random_tensor(kShape, 1, -1.0, 2.0), w = per_channel(kWeights), b = per_channel(kBiases);
    const Tensor g = test::random_tensor(kShape, 4);
    Tensor saved_var;
    auto output = [&] {
      return mode == IabnMode::Train ? train_output(x, w, b, params, &saved_var)
                                     : eval_output(x, w, b, running, params);
    };
    auto loss = [&] { return test::weighted_sum(output(), g); };
    const Tensor z = output();
    Tensor dx = Tensor::empty(kShape, DType::F64);
    Tensor dw = Tensor::zeros({3}, DType::F64), db = Tensor::zeros({3}, DType::F64);
    iabn_backward(z, g, w, b, mode == IabnMode::Train ? saved_var : running.var, dx, dw, db, mode, params);
    CHECK(test::max_gradient_error(x, dx, loss) < kGradientTolerance);
    CHECK(test::max_gradient_error(w, dw, loss) < kGradientTolerance);
    CHECK(test::max_gradient_error(b, db, loss) < kGradientTolerance);
  }
}

TEST_CASE("iabn matches unfused batch norm + leaky relu") {
  // Channel 1 has a negative weight; channel 2 has w = 0, where the unfused chain rule's
  // convention sign(0) = +1 must hold and gamma_hat = eps.
  const Shape shape = {2, 5, 7, 4};
  const Tensor x = test::random_tensor(shape, 1, -1.0, 2.0), dz = test::random_tensor(shape, 4);
  const Tensor w = per_channel({0.7, -1.3, 0.0, 0.4}), b = per_channel({0.1, -0.2, 0.3, -0.05});
  RunningStatistics running;
  running.mean = per_channel({0.2, -0.1, 0.05, 0.4});
  running.var = per_channel({0.5, 1.5, 0.8, 1.1});
  for (IabnActivation activation : {IabnActivation::LeakyRelu, IabnActivation::Identity})
    for (IabnMode mode : {IabnMode::Train, IabnMode::Eval}) {
      CAPTURE(int(activation));
      CAPTURE(int(mode));
      const IabnParams params = params_for(activation);
      const UnfusedBatchNorm unfused = UnfusedBatchNorm::forward(x, w, b, mode, activation, running);
      Tensor saved_var;
      const Tensor z =
          mode == IabnMode::Train ? train_output(x, w, b, params, &saved_var) : eval_output(x, w, b, running, params);
      // Same double arithmetic in another order: a few ulps of O(1) values.
      CHECK(test::max_relative_error(z, unfused.output()) < 1e-13);

      Tensor dx = Tensor::empty(shape, DType::F64);
      Tensor dw = Tensor::zeros({4}, DType::F64), db = Tensor::zeros({4}, DType::F64);
      iabn_backward(z, dz, w, b, mode == IabnMode::Train ? saved_var : running.var, dx, dw, db, mode, params);
      std::vector<double> expected_dx, expected_dw, expected_db;
      unfused.backward(dz.to_vector<double>(), expected_dx, expected_dw, expected_db);
      // iABN recovers xhat = (y - b)/gamma_hat from z; in the w = 0 channel that divides y's rounding
      // error (ulp(0.3)/2 ~ 3e-17) by eps = 1e-5, and dw sums 70 such xhat * dy: at worst ~2e-10
      // (1e-12 seen), so 1e-9 bounds it while any wrong term is off by O(1e-2) or more.
      CHECK(test::max_relative_error(dx, Tensor::from_vector(expected_dx, shape)) < 1e-9);
      CHECK(test::max_relative_error(dw, per_channel(expected_dw)) < 1e-9);
      CHECK(test::max_relative_error(db, per_channel(expected_db)) < 1e-9);
    }
}

TEST_CASE("iabn running statistics update") {
  // x {2,1,2,2}: channel 0 holds 1, 2, 3, 6 (mean 3, biased var 14/4, unbiased 14/3);
  // channel 1 holds 0.5, -0.5, 1.5, -1.5 (mean 0, biased var 5/4, unbiased 5/3).
  Tensor x = Tensor::from_vector(std::vector<double>{1, 0.5, 2, -0.5, 3, 1.5, 6, -1.5}, {2, 1, 2, 2});
  const Tensor w = per_channel({1, 1}), b = per_channel({0, 0});
  Tensor running_mean = per_channel({0.5, 0}), running_var = per_channel({2, 1});
  Tensor saved_var = Tensor::empty({2}, DType::F64);
  iabn_forward_train(x, w, b, running_mean, running_var, saved_var, IabnParams{});
  const std::vector<double> mean = running_mean.to_vector<double>(), var = running_var.to_vector<double>();
  const std::vector<double> batch_var = saved_var.to_vector<double>();
  CHECK(batch_var[0] == doctest::Approx(3.5).epsilon(1e-15));
  CHECK(batch_var[1] == doctest::Approx(1.25).epsilon(1e-15));
  CHECK(mean[0] == doctest::Approx(0.9 * 0.5 + 0.1 * 3).epsilon(1e-15));
  CHECK(mean[1] == doctest::Approx(0.0).epsilon(1e-15));
  CHECK(var[0] == doctest::Approx(0.9 * 2 + 0.1 * 14.0 / 3).epsilon(1e-15));
  CHECK(var[1] == doctest::Approx(0.9 * 1 + 0.1 * 5.0 / 3).epsilon(1e-15));
}

TEST_CASE("iabn training forward equals its three steps") {
  const Tensor x = test::random_tensor(kShape, 1, -1.0, 2.0), w = per_channel(kWeights), b = per_channel(kBiases);
  const IabnParams params;
  Tensor fused = x.clone(), running_mean = per_channel({0.2, -0.1, 0.05}), running_var = per_channel({0.5, 1.5, 0.8});
  Tensor saved_var = Tensor::empty({3}, DType::F64);
  iabn_forward_train(fused, w, b, running_mean, running_var, saved_var, params);

  Tensor stepped = x.clone(), step_mean = per_channel({0.2, -0.1, 0.05}), step_var = per_channel({0.5, 1.5, 0.8});
  Tensor mean = Tensor::empty({3}, DType::F64), var = Tensor::empty({3}, DType::F64);
  iabn_batch_statistics(stepped, mean, var);
  iabn_normalize_inplace(stepped, w, b, mean, var, params);
  iabn_update_running_statistics(step_mean, step_var, mean, var, 2 * 5 * 7, params);
  CHECK(fused.to_vector<double>() == stepped.to_vector<double>());
  CHECK(saved_var.to_vector<double>() == var.to_vector<double>());
  CHECK(running_mean.to_vector<double>() == step_mean.to_vector<double>());
  CHECK(running_var.to_vector<double>() == step_var.to_vector<double>());
}

TEST_CASE("iabn batch variance is two-pass, exact far from zero") {
  // Values 1e8 + {-1, 0, 1, 0}: E[x^2] - E[x]^2 loses everything to cancellation in double
  // (1e16 has an ulp of 2), while two passes give 0.5 exactly.
  const Tensor x = Tensor::from_vector(std::vector<double>{1e8 - 1, 1e8, 1e8 + 1, 1e8}, {1, 2, 2, 1});
  Tensor mean = Tensor::empty({1}, DType::F64), var = Tensor::empty({1}, DType::F64);
  iabn_batch_statistics(x, mean, var);
  CHECK(mean.to_vector<double>()[0] == 1e8);
  CHECK(var.to_vector<double>()[0] == 0.5);
}

TEST_CASE("iabn backward may write dx over dz") {
  const Tensor x = test::random_tensor(kShape, 1, -1.0, 2.0), w = per_channel(kWeights), b = per_channel(kBiases);
  const IabnParams params;
  Tensor saved_var;
  const Tensor z = train_output(x, w, b, params, &saved_var), dz = test::random_tensor(kShape, 4);
  Tensor dx = Tensor::empty(kShape, DType::F64);
  Tensor dw = Tensor::zeros({3}, DType::F64), db = Tensor::zeros({3}, DType::F64);
  iabn_backward(z, dz, w, b, saved_var, dx, dw, db, IabnMode::Train, params);

  Tensor in_place = dz.clone();
  Tensor dw_in_place = Tensor::zeros({3}, DType::F64), db_in_place = Tensor::zeros({3}, DType::F64);
  iabn_backward(z, in_place, w, b, saved_var, in_place, dw_in_place, db_in_place, IabnMode::Train, params);
  CHECK(in_place.to_vector<double>() == dx.to_vector<double>());
  CHECK(dw_in_place.to_vector<double>() == dw.to_vector<double>());
  CHECK(db_in_place.to_vector<double>() == db.to_vector<double>());
}

TEST_CASE("iabn parameter gradients accumulate") {
  const Tensor x = test::random_tensor(kShape, 1, -1.0, 2.0), w = per_channel(kWeights), b = per_channel(kBiases);
  const IabnParams params;
  Tensor saved_var;
  const Tensor z = train_output(x, w, b, params, &saved_var), dz = test::random_tensor(kShape, 4);
  Tensor dx = Tensor::empty(kShape, DType::F64);
  Tensor dw = Tensor::zeros({3}, DType::F64), db = Tensor::zeros({3}, DType::F64);
  iabn_backward(z, dz, w, b, saved_var, dx, dw, db, IabnMode::Train, params);
  const std::vector<double> dw_once = dw.to_vector<double>(), db_once = db.to_vector<double>();
  iabn_backward(z, dz, w, b, saved_var, dx, dw, db, IabnMode::Train, params);
  for (std::size_t c = 0; c < 3; ++c) {
    CHECK(dw.to_vector<double>()[c] == 2 * dw_once[c]);
    CHECK(db.to_vector<double>()[c] == 2 * db_once[c]);
  }
}

TEST_CASE("iabn float32 matches float64") {
  const Tensor x = test::random_tensor(kShape, 1, -1.0, 2.0), w = per_channel(kWeights), b = per_channel(kBiases);
  const Tensor dz = test::random_tensor(kShape, 4);
  const IabnParams params;
  auto forward_backward = [&](DType dtype, Tensor& z, Tensor& dx, Tensor& dw) {
    z = x.cast(dtype);
    Tensor running_mean = Tensor::zeros({3}, dtype), running_var = Tensor::zeros({3}, dtype);
    Tensor saved_var = Tensor::empty({3}, dtype), db = Tensor::zeros({3}, dtype);
    const Tensor weight = w.cast(dtype), bias = b.cast(dtype);
    iabn_forward_train(z, weight, bias, running_mean, running_var, saved_var, params);
    dx = Tensor::empty(kShape, dtype);
    dw = Tensor::zeros({3}, dtype);
    iabn_backward(z, dz.cast(dtype), weight, bias, saved_var, dx, dw, db, IabnMode::Train, params);
  };
  Tensor z32, dx32, dw32, z64, dx64, dw64;
  forward_backward(DType::F32, z32, dx32, dw32);
  forward_backward(DType::F64, z64, dx64, dw64);
  // The oracle computes in double either way; float32 adds the rounding of the O(1) inputs, the
  // stored statistics and the outputs (2^-24 ~ 6e-8 each), amplified by 1/std ~ 1/0.9 and, for dw,
  // summed over 70 values: well below 1e-5.
  CHECK(test::max_relative_error(z32, z64) < 1e-5);
  CHECK(test::max_relative_error(dx32, dx64) < 1e-5);
  CHECK(test::max_relative_error(dw32, dw64) < 1e-5);
}

TEST_CASE("iabn training needs at least two values per channel") {
  Tensor x = Tensor::zeros({1, 1, 1, 3});
  const Tensor w = Tensor::zeros({3}), b = Tensor::zeros({3});
  Tensor running_mean = Tensor::zeros({3}), running_var = Tensor::zeros({3}), saved_var = Tensor::zeros({3});
  CHECK_THROWS_WITH_AS(iabn_forward_train(x, w, b, running_mean, running_var, saved_var, IabnParams{}),
                       doctest::Contains("training needs at least 2 values per channel (N*H*W = 1)"), Error);
  CHECK_THROWS_WITH_AS(iabn_update_running_statistics(running_mean, running_var, w, b, 1, IabnParams{}),
                       doctest::Contains("at least 2 values per channel"), Error);
  CHECK_NOTHROW(iabn_forward_eval(x, w, b, running_mean, running_var, IabnParams{}));
}

TEST_CASE("iabn refuses a leaky slope <= 0") {
  Tensor x = Tensor::zeros({2, 5, 7, 3}), dx = Tensor::zeros({2, 5, 7, 3});
  const Tensor w = Tensor::zeros({3}), b = Tensor::zeros({3});
  Tensor running_mean = Tensor::zeros({3}), running_var = Tensor::zeros({3}), saved_var = Tensor::zeros({3});
  Tensor dw = Tensor::zeros({3}), db = Tensor::zeros({3});
  for (double slope : {0.0, -0.01}) {
    CAPTURE(slope);
    IabnParams params;
    params.slope = slope;
    CHECK_THROWS_WITH_AS(iabn_forward_train(x, w, b, running_mean, running_var, saved_var, params),
                         doctest::Contains("the leaky ReLU slope must be > 0"), Error);
    CHECK_THROWS_WITH_AS(iabn_forward_eval(x, w, b, running_mean, running_var, params),
                         doctest::Contains("the leaky ReLU slope must be > 0"), Error);
    CHECK_THROWS_WITH_AS(iabn_backward(x, x, w, b, saved_var, dx, dw, db, IabnMode::Train, params),
                         doctest::Contains("the leaky ReLU slope must be > 0"), Error);
  }
}

TEST_CASE("iabn rejects bad arguments with the op name and shapes") {
  Tensor x = Tensor::zeros({2, 5, 7, 3}), dx = Tensor::zeros({2, 5, 7, 3});
  const Tensor w = Tensor::zeros({3}), b = Tensor::zeros({3});
  Tensor running_mean = Tensor::zeros({3}), running_var = Tensor::zeros({3}), saved_var = Tensor::zeros({3});
  Tensor dw = Tensor::zeros({3}), db = Tensor::zeros({3});

  const Tensor w4 = Tensor::zeros({4});
  CHECK_THROWS_WITH_AS(iabn_forward_train(x, w4, b, running_mean, running_var, saved_var, IabnParams{}),
                       doctest::Contains("iabn_forward_train(x [2,5,7,3] float32 cpu, w [4] float32 cpu"), Error);
  CHECK_THROWS_WITH_AS(iabn_forward_train(x, w4, b, running_mean, running_var, saved_var, IabnParams{}),
                       doctest::Contains("w must have shape [3]"), Error);
  const Tensor dz_wrong = Tensor::zeros({2, 5, 7, 4});
  CHECK_THROWS_WITH_AS(iabn_backward(x, dz_wrong, w, b, saved_var, dx, dw, db, IabnMode::Train, IabnParams{}),
                       doctest::Contains("dz must have shape [2,5,7,3]"), Error);
  Tensor x3 = Tensor::zeros({2, 5, 3});
  CHECK_THROWS_WITH_AS(iabn_forward_eval(x3, w, b, running_mean, running_var, IabnParams{}),
                       doctest::Contains("x must have 4 dimensions"), Error);

  const Tensor w64 = Tensor::zeros({3}, DType::F64);
  CHECK_THROWS_WITH_AS(iabn_forward_eval(x, w64, b, running_mean, running_var, IabnParams{}),
                       doctest::Contains("one dtype"), Error);
  Tensor labels = Tensor::zeros({2, 5, 7, 3}, DType::U8);
  CHECK_THROWS_WITH_AS(iabn_forward_eval(labels, w, b, running_mean, running_var, IabnParams{}),
                       doctest::Contains("x must be float32 or float64"), Error);
  // Parameters and statistics share the activations' dtype on the cpu (float32 beside bfloat16
  // only on CUDA), and bfloat16 is CUDA-only storage.
  Tensor x64 = Tensor::zeros({2, 5, 7, 3}, DType::F64);
  CHECK_THROWS_WITH_AS(iabn_forward_eval(x64, w, b, running_mean, running_var, IabnParams{}),
                       doctest::Contains("all tensors must share one dtype, w is float32 and x is float64"), Error);
  Tensor x16 = x.cast(DType::BF16);
  CHECK_THROWS_WITH_AS(iabn_forward_eval(x16, w, b, running_mean, running_var, IabnParams{}),
                       doctest::Contains("x is bfloat16 on the cpu: bfloat16 tensors are CUDA-only storage"), Error);

  IabnParams bad_eps;
  bad_eps.eps = 0;
  CHECK_THROWS_WITH_AS(iabn_forward_eval(x, w, b, running_mean, running_var, bad_eps),
                       doctest::Contains("eps must be > 0"), Error);
  IabnParams bad_momentum;
  bad_momentum.momentum = 1.5;
  CHECK_THROWS_WITH_AS(iabn_forward_train(x, w, b, running_mean, running_var, saved_var, bad_momentum),
                       doctest::Contains("momentum must be in [0, 1]"), Error);
}

TEST_CASE("iabn rejects mixed devices") {
  // Borrowed host memory labelled cuda:0: the checks reject it before any pointer is used.
  std::vector<float> channel_memory(3);
  Tensor x = Tensor::zeros({2, 5, 7, 3});
  const Tensor b = Tensor::zeros({3}), running_mean = Tensor::zeros({3}), running_var = Tensor::zeros({3});
  const Tensor w_cuda = Tensor::wrap(channel_memory.data(), {3}, DType::F32, Device::cuda(0));
  CHECK_THROWS_WITH_AS(iabn_forward_eval(x, w_cuda, b, running_mean, running_var, IabnParams{}),
                       doctest::Contains("all tensors must be on one device, w is on cuda:0 and x on cpu"), Error);
}

TEST_CASE("iabn cudnn: cpu tensors are refused by name (cuDNN runs on CUDA tensors only)") {
  const Tensor x = Tensor::zeros({2, 5, 7, 3});
  Tensor z = Tensor::empty(kShape), running_mean = Tensor::zeros({3}), running_var = Tensor::zeros({3});
  CudnnBatchNormSaved saved;
  CHECK_THROWS_WITH_AS(iabn_cudnn_forward_train(x, z, Tensor::zeros({3}), Tensor::zeros({3}), running_mean,
                                                running_var, saved, IabnParams{}),
                       doctest::Contains("iabn_cudnn_forward_train(x [2,5,7,3] float32 cpu"), Error);
  CHECK_THROWS_WITH_AS(iabn_cudnn_forward_eval(x, z, Tensor::zeros({3}), Tensor::zeros({3}), running_mean,
                                               running_var, IabnParams{}),
                       doctest::Contains("cuDNN runs on CUDA tensors only"), Error);
}
