// InPlace-ABN's CUDA kernels against the CPU oracle, on a GPU (label cuda) or on the SIMT emulator
// (label emu). The oracle runs in float64 on the very float32 values the kernels get, so the
// differences measured are the kernels' float32 arithmetic alone.
//
// Tolerance: max_scaled_error (|a - b| / max(1, |a|, |b|)) below 1e-5 for every output.
// - Elementwise outputs (z, dx) and the statistics: O(1) inputs, 1/std ~ 1.2, a few float32
//   roundings (2^-24 ~ 6e-8 each) of O(1..10) intermediates: ~1e-6 at most (2e-7 seen).
// - The gradient sums dw, db add n = 15..1040 terms of size <= ~1 in float32: each addition rounds
//   by up to ulp(partial sum)/2 ~ 1e-6 for partial sums up to ~30, and a term passes ~n/32 + 3 + 4
//   additions (its thread's rows, the tree of 8 row-threads, the partials), a random walk of
//   ~sqrt(40) * 1e-6 ~ 6e-6 for the largest shape; 4.6e-6 is the worst seen. The oracle sums in
//   double. A wrong term (a missing mean, the sign of w, a stale element) is off by 1e-2 or more.
//
// Mixed precision (bfloat16 x, z, dz, dx; float32 w, b, statistics, dw, db): the activations are
// rounded to bfloat16 on the host and the float64 oracle runs on those very values, so only the
// kernels' own rounding is measured. The arithmetic is the float32 kernels', so float32 outputs
// (statistics, running statistics, dw, db) keep the 1e-5 bound above. bfloat16 outputs (z, dx)
// are additionally rounded once when stored, at most 2^-8 relative (8 significant bits, 7
// stored): bound 2^-8 + 1e-5 (kActivationTolerance). A bug (a term dropped, a channel constant of
// the wrong channel) moves values by far more than one bfloat16 ulp of a few of them, and most
// elements show errors well below the bound, which the test does not exploit. The parity checks
// run for both storage types.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/iabn.h"
#include "kernels/random.h"
#include "tests/cuda_iabn_parameters.h"
#include "tests/cuda_storage_types.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

constexpr double kTolerance = 1e-5;
// For the activation-sized outputs (z, dx), stored as T.
template <class T>
constexpr double kActivationTolerance = kStoreRounding<T> + kTolerance;

// Batch 1 and 3, odd spatial sizes, channel counts that are not multiples of 32 (one, two and
// three channel tiles), and enough rows (198, 1040) that the emulator's row chunks each walk
// several rows per thread.
const std::vector<Shape> kShapes = {{1, 3, 5, 7}, {3, 7, 5, 37}, {2, 9, 11, 70}, {4, 13, 20, 40}};

Tensor uniform(const Shape& shape, std::uint64_t stream, double low, double high) {
  return uniform_f32(shape, stream, low, high, 4321);
}

using Parameters = IabnParameters;

IabnParams params_for(IabnActivation activation) {
  IabnParams params;
  params.activation = activation;
  return params;
}

std::string name(IabnActivation activation) {
  return activation == IabnActivation::LeakyRelu ? "leaky_relu" : "identity";
}
std::string name(IabnMode mode) { return mode == IabnMode::Train ? "train" : "eval"; }

// What one backward produced; dw and db start from `dw0`, `db0` (accumulation).
struct Gradients {
  Tensor dx, dw, db;
};

// The CPU float64 backward of z and dz (the stored values) and its GPU counterpart on the stored
// activations, with float32 parameters, statistics, dw and db.
Gradients cpu_backward(const Stored& z, const Stored& dz, const Parameters& p, const Tensor& var, const Tensor& dw0,
                       const Tensor& db0, IabnMode mode, const IabnParams& params) {
  Gradients g{Tensor::empty(z.f64.shape(), DType::F64), f64(dw0), f64(db0)};
  iabn_backward(z.f64, dz.f64, f64(p.w), f64(p.b), f64(var), g.dx, g.dw, g.db, mode, params);
  return g;
}

Gradients gpu_backward(const Stored& z, const Stored& dz, const Parameters& p, const Tensor& var, const Tensor& dw0,
                       const Tensor& db0, IabnMode mode, const IabnParams& params) {
  Gradients g{nan_tensor(z.device.shape(), z.device.dtype()), dw0.to(gpu()), db0.to(gpu())};
  iabn_backward(z.device, dz.device, p.w.to(gpu()), p.b.to(gpu()), var.to(gpu()), g.dx, g.dw, g.db, mode, params);
  return g;
}

// The float32 forward output z and saved batch variance of the CPU oracle (the backward's inputs).
void cpu_forward_train(const Tensor& x, const Parameters& p, const IabnParams& params, Tensor& z, Tensor& saved_var) {
  z = x.clone();
  Tensor running_mean = p.running_mean.clone(), running_var = p.running_var.clone();
  saved_var = Tensor::empty(p.w.shape());
  iabn_forward_train(z, p.w, p.b, running_mean, running_var, saved_var, params);
}

}  // namespace

TEST_CASE_TEMPLATE("cuda iabn batch statistics match the cpu", T, float, bf16) {
  for (const Shape& shape : kShapes) {
    CAPTURE(shape_str(shape));
    const Stored x(uniform(shape, 1, -1.0, 2.0), dtype_of<T>);
    const std::int64_t channels = shape[3];
    Tensor mean = Tensor::empty({channels}, DType::F64), var = Tensor::empty({channels}, DType::F64);
    iabn_batch_statistics(x.f64, mean, var);
    Tensor gpu_mean = nan_tensor({channels}), gpu_var = nan_tensor({channels});
    iabn_batch_statistics(x.device, gpu_mean, gpu_var);
    CHECK(max_scaled_error(gpu_mean, mean) < kTolerance);
    CHECK(max_scaled_error(gpu_var, var) < kTolerance);
  }
}

TEST_CASE("cuda iabn batch variance stays accurate far from zero (Welford, not E[x^2] - E[x]^2)") {
  // x = 1000 + u, u uniform in [-1, 1): var ~ 1/3. In float32, E[x^2] ~ 1e6 has an ulp of 0.06, so
  // E[x^2] - E[x]^2 would be off by ~0.1 (30 %); Welford and Chan subtract only deviations of size 1,
  // leaving the rounding of the running mean (ulp(1000)/2 ~ 3e-5) as the dominant error source.
  const Shape shape = {3, 7, 5, 37};
  Tensor x = uniform(shape, 2, -1.0, 1.0);
  float* values = x.data<float>();
  for (std::int64_t i = 0; i < x.numel(); ++i) values[i] += 1000.0f;
  Tensor mean = Tensor::empty({37}, DType::F64), var = Tensor::empty({37}, DType::F64);
  iabn_batch_statistics(f64(x), mean, var);
  Tensor gpu_mean = nan_tensor({37}), gpu_var = nan_tensor({37});
  iabn_batch_statistics(x.to(gpu()), gpu_mean, gpu_var);
  const std::vector<double> expected = var.to_vector<double>();
  const std::vector<float> got = on_cpu(gpu_var).to_vector<float>();
  double worst = 0;
  for (std::size_t c = 0; c < expected.size(); ++c)
    worst = std::max(worst, std::abs(double(got[c]) - expected[c]) / expected[c]);
  CHECK(worst < 1e-4);
  // The mean itself: 1000 to within a few ulps of float32 (6e-5 each).
  CHECK(max_scaled_error(gpu_mean, mean) < 1e-6);
}

TEST_CASE_TEMPLATE("cuda iabn normalize in place matches the cpu", T, float, bf16) {
  for (const Shape& shape : kShapes)
    for (IabnActivation activation : {IabnActivation::LeakyRelu, IabnActivation::Identity}) {
      CAPTURE(shape_str(shape));
      CAPTURE(name(activation));
      const IabnParams params = params_for(activation);
      const Parameters p(shape[3]);
      const Stored x(uniform(shape, 1, -1.0, 2.0), dtype_of<T>);
      // Statistics away from the batch's (as a synchronized layer would pass), var > 0.
      const Tensor mean = uniform({shape[3]}, 21, 0.2, 0.8), var = uniform({shape[3]}, 22, 0.4, 1.2);
      Tensor expected = x.f64.clone();
      iabn_normalize_inplace(expected, f64(p.w), f64(p.b), f64(mean), f64(var), params);
      Tensor got = x.device.clone();
      iabn_normalize_inplace(got, p.w.to(gpu()), p.b.to(gpu()), mean.to(gpu()), var.to(gpu()), params);
      CHECK(max_scaled_error(got, expected) < kActivationTolerance<T>);
    }
}

TEST_CASE("cuda iabn running statistics update matches the cpu") {
  const Parameters p(70);
  const Tensor mean = uniform({70}, 21, -1.0, 1.0), var = uniform({70}, 22, 0.1, 2.0);
  for (std::int64_t count : {2, 105}) {
    CAPTURE(count);
    Tensor running_mean = f64(p.running_mean), running_var = f64(p.running_var);
    iabn_update_running_statistics(running_mean, running_var, f64(mean), f64(var), count, IabnParams{});
    Tensor gpu_mean = p.running_mean.to(gpu()), gpu_var = p.running_var.to(gpu());
    iabn_update_running_statistics(gpu_mean, gpu_var, mean.to(gpu()), var.to(gpu()), count, IabnParams{});
    CHECK(max_scaled_error(gpu_mean, running_mean) < kTolerance);
    CHECK(max_scaled_error(gpu_var, running_var) < kTolerance);
  }
}

TEST_CASE_TEMPLATE("cuda iabn training forward matches the cpu", T, float, bf16) {
  for (const Shape& shape : kShapes)
    for (IabnActivation activation : {IabnActivation::LeakyRelu, IabnActivation::Identity}) {
      CAPTURE(shape_str(shape));
      CAPTURE(name(activation));
      const IabnParams params = params_for(activation);
      const Parameters p(shape[3]);
      const Stored x(uniform(shape, 1, -1.0, 2.0), dtype_of<T>);
      Tensor z = x.f64.clone(), running_mean = f64(p.running_mean), running_var = f64(p.running_var);
      Tensor saved_var = Tensor::empty({shape[3]}, DType::F64);
      iabn_forward_train(z, f64(p.w), f64(p.b), running_mean, running_var, saved_var, params);

      Tensor gpu_z = x.device.clone(), gpu_mean = p.running_mean.to(gpu()), gpu_var = p.running_var.to(gpu());
      Tensor gpu_saved_var = nan_tensor({shape[3]});
      iabn_forward_train(gpu_z, p.w.to(gpu()), p.b.to(gpu()), gpu_mean, gpu_var, gpu_saved_var, params);
      CHECK(gpu_z.dtype() == dtype_of<T>);
      CHECK(max_scaled_error(gpu_z, z) < kActivationTolerance<T>);
      CHECK(max_scaled_error(gpu_saved_var, saved_var) < kTolerance);
      CHECK(max_scaled_error(gpu_mean, running_mean) < kTolerance);
      CHECK(max_scaled_error(gpu_var, running_var) < kTolerance);
    }
}

TEST_CASE_TEMPLATE("cuda iabn evaluation forward matches the cpu", T, float, bf16) {
  for (const Shape& shape : kShapes)
    for (IabnActivation activation : {IabnActivation::LeakyRelu, IabnActivation::Identity}) {
      CAPTURE(shape_str(shape));
      CAPTURE(name(activation));
      const IabnParams params = params_for(activation);
      const Parameters p(shape[3]);
      const Stored x(uniform(shape, 1, -1.0, 2.0), dtype_of<T>);
      Tensor z = x.f64.clone();
      iabn_forward_eval(z, f64(p.w), f64(p.b), f64(p.running_mean), f64(p.running_var), params);
      Tensor gpu_z = x.device.clone();
      iabn_forward_eval(gpu_z, p.w.to(gpu()), p.b.to(gpu()), p.running_mean.to(gpu()), p.running_var.to(gpu()), params);
      CHECK(max_scaled_error(gpu_z, z) < kActivationTolerance<T>);
    }
}

TEST_CASE_TEMPLATE("cuda iabn backward matches the cpu and accumulates dw, db", T, float, bf16) {
  for (const Shape& shape : kShapes)
    for (IabnActivation activation : {IabnActivation::LeakyRelu, IabnActivation::Identity})
      for (IabnMode mode : {IabnMode::Train, IabnMode::Eval}) {
        CAPTURE(shape_str(shape));
        CAPTURE(name(activation));
        CAPTURE(name(mode));
        const IabnParams params = params_for(activation);
        const Parameters p(shape[3]);
        Tensor z32, saved_var;
        cpu_forward_train(uniform(shape, 1, -1.0, 2.0), p, params, z32, saved_var);
        const Tensor& var = mode == IabnMode::Train ? saved_var : p.running_var;
        const Stored z(z32, dtype_of<T>), dz(uniform(shape, 3, -1.0, 1.0), dtype_of<T>);
        // Nonzero starting gradients: a kernel that wrote dw, db with = instead of += fails.
        const Tensor dw0 = uniform({shape[3]}, 31, -2.0, 2.0), db0 = uniform({shape[3]}, 32, -2.0, 2.0);
        const Gradients expected = cpu_backward(z, dz, p, var, dw0, db0, mode, params);
        const Gradients got = gpu_backward(z, dz, p, var, dw0, db0, mode, params);
        CHECK(got.dx.dtype() == dtype_of<T>);
        CHECK(max_scaled_error(got.dx, expected.dx) < kActivationTolerance<T>);
        CHECK(max_scaled_error(got.dw, expected.dw) < kTolerance);
        CHECK(max_scaled_error(got.db, expected.db) < kTolerance);
      }
}

TEST_CASE_TEMPLATE("cuda iabn backward may write dx over dz", T, float, bf16) {
  const Shape shape = {2, 9, 11, 70};
  for (IabnMode mode : {IabnMode::Train, IabnMode::Eval}) {
    CAPTURE(name(mode));
    const IabnParams params;
    const Parameters p(shape[3]);
    Tensor z32, saved_var;
    cpu_forward_train(uniform(shape, 1, -1.0, 2.0), p, params, z32, saved_var);
    const Tensor& var = mode == IabnMode::Train ? saved_var : p.running_var;
    const Stored z(z32, dtype_of<T>), dz(uniform(shape, 3, -1.0, 1.0), dtype_of<T>);
    const Tensor zeros = Tensor::zeros({shape[3]});
    const Gradients separate = gpu_backward(z, dz, p, var, zeros, zeros, mode, params);

    Tensor in_place = dz.device.clone(), dw = zeros.to(gpu()), db = zeros.to(gpu());
    iabn_backward(z.device, in_place, p.w.to(gpu()), p.b.to(gpu()), var.to(gpu()), in_place, dw, db, mode, params);
    CHECK(same_bits(in_place, separate.dx));
    CHECK(same_bits(dw, separate.dw));
    CHECK(same_bits(db, separate.db));
  }
}

TEST_CASE("cuda iabn reductions are deterministic: the same backward twice gives the same bits") {
  const Shape shape = {4, 13, 20, 40};
  const IabnParams params;
  const Parameters p(shape[3]);
  Tensor z32, saved_var;
  cpu_forward_train(uniform(shape, 1, -1.0, 2.0), p, params, z32, saved_var);
  const Stored z(z32, DType::F32), dz(uniform(shape, 3, -1.0, 1.0), DType::F32);
  const Tensor zeros = Tensor::zeros({shape[3]});
  const Gradients first = gpu_backward(z, dz, p, saved_var, zeros, zeros, IabnMode::Train, params);
  const Gradients second = gpu_backward(z, dz, p, saved_var, zeros, zeros, IabnMode::Train, params);
  CHECK(same_bits(first.dx, second.dx));
  CHECK(same_bits(first.dw, second.dw));
  CHECK(same_bits(first.db, second.db));

  Tensor mean_a = nan_tensor({shape[3]}), var_a = nan_tensor({shape[3]});
  Tensor mean_b = nan_tensor({shape[3]}), var_b = nan_tensor({shape[3]});
  const Tensor x = uniform(shape, 1, -1.0, 2.0).to(gpu());
  iabn_batch_statistics(x, mean_a, var_a);
  iabn_batch_statistics(x, mean_b, var_b);
  CHECK(same_bits(mean_a, mean_b));
  CHECK(same_bits(var_a, var_b));
}

TEST_CASE("cuda iabn rejects float64 tensors") {
  Tensor x = Tensor::zeros({1, 2, 2, 3}, DType::F64, gpu());
  const Tensor w = Tensor::zeros({3}, DType::F64, gpu()), b = Tensor::zeros({3}, DType::F64, gpu());
  const Tensor running_mean = Tensor::zeros({3}, DType::F64, gpu()),
               running_var = Tensor::zeros({3}, DType::F64, gpu());
  CHECK_THROWS_WITH_AS(iabn_forward_eval(x, w, b, running_mean, running_var, IabnParams{}),
                       doctest::Contains("float64 is CPU-only; CUDA kernels take float32"), Error);
}

TEST_CASE("cuda iabn keeps parameters and statistics float32 beside bfloat16 activations") {
  Tensor x = Tensor::zeros({1, 2, 2, 3}, DType::BF16, gpu());
  const Tensor w = Tensor::zeros({3}, DType::F32, gpu()), b = Tensor::zeros({3}, DType::F32, gpu());
  Tensor running_mean = Tensor::zeros({3}, DType::F32, gpu()), running_var = Tensor::zeros({3}, DType::F32, gpu());
  Tensor saved_var = Tensor::zeros({3}, DType::F32, gpu());
  CHECK_NOTHROW(iabn_forward_eval(x, w, b, running_mean, running_var, IabnParams{}));
  for (DType wrong : {DType::BF16, DType::F64}) {
    CAPTURE(dtype_name(wrong));
    const Tensor w_wrong = Tensor::zeros({3}, wrong, gpu());
    CHECK_THROWS_WITH_AS(iabn_forward_eval(x, w_wrong, b, running_mean, running_var, IabnParams{}),
                         doctest::Contains("w must be float32 beside bfloat16 activations"), Error);
    Tensor saved_wrong = Tensor::zeros({3}, wrong, gpu());
    CHECK_THROWS_WITH_AS(iabn_forward_train(x, w, b, running_mean, running_var, saved_wrong, IabnParams{}),
                         doctest::Contains("saved_var must be float32 beside bfloat16 activations"), Error);
    Tensor mean_wrong = Tensor::zeros({3}, wrong, gpu()), var = Tensor::zeros({3}, DType::F32, gpu());
    CHECK_THROWS_WITH_AS(iabn_batch_statistics(x, mean_wrong, var),
                         doctest::Contains("mean must be float32 beside bfloat16 activations"), Error);
    Tensor dx = Tensor::zeros({1, 2, 2, 3}, DType::BF16, gpu()), dw = Tensor::zeros({3}, wrong, gpu());
    Tensor db = Tensor::zeros({3}, DType::F32, gpu());
    CHECK_THROWS_WITH_AS(iabn_backward(x, x, w, b, saved_var, dx, dw, db, IabnMode::Train, IabnParams{}),
                         doctest::Contains("dw must be float32 beside bfloat16 activations"), Error);
  }
  // The activations share one dtype: a float32 dx beside bfloat16 z and dz is refused.
  Tensor dx32 = Tensor::zeros({1, 2, 2, 3}, DType::F32, gpu()), dw = Tensor::zeros({3}, DType::F32, gpu());
  Tensor db = Tensor::zeros({3}, DType::F32, gpu());
  CHECK_THROWS_WITH_AS(iabn_backward(x, x, w, b, saved_var, dx32, dw, db, IabnMode::Train, IabnParams{}),
                       doctest::Contains("all tensors must share one dtype, dx is float32 and z is bfloat16"), Error);
  // The running statistics update has no activation, so no bfloat16 kernel.
  Tensor mean16 = Tensor::zeros({3}, DType::BF16, gpu()), var16 = Tensor::zeros({3}, DType::BF16, gpu());
  CHECK_THROWS_WITH_AS(iabn_update_running_statistics(mean16, var16, mean16, var16, 4, IabnParams{}),
                       doctest::Contains("iabn_update_running_statistics has no bfloat16 kernel"), Error);
  // bfloat16 is CUDA-only storage.
  Tensor cpu_x = Tensor::zeros({1, 2, 2, 3}).cast(DType::BF16);
  CHECK_THROWS_WITH_AS(iabn_forward_eval(cpu_x, Tensor::zeros({3}), Tensor::zeros({3}), Tensor::zeros({3}),
                                         Tensor::zeros({3}), IabnParams{}),
                       doctest::Contains("bfloat16 tensors are CUDA-only storage"), Error);
}
