// InPlace-ABN through cuDNN (PANS_BN=cudnn, kernels/iabn_cudnn.h) against the float64 CPU oracle of
// pans' own InPlace-ABN, fed the very float32 (or bfloat16-rounded) values the GPU gets.
//
// Natively with cuDNN (label cuda, on a GPU) the outputs are compared. In builds without cuDNN (the
// SIMT emulator, label emu, on every commit) the same calls must run pans' glue kernels and then
// fail by name at the first library call, never fall back silently.
//
// Tolerance, float32: max_scaled_error (|a - b| / max(1, |a|, |b|)) below 1e-4. cuDNN's summation
// order is not documented, so the bound is the worst case of a plain float32 sum rather than the
// random-walk estimate the native kernels' test uses: the statistics and the gradient sums add up to
// n = 1040 terms of size <= ~2, each addition rounding by at most 2^-24 of the partial sum, so the
// relative error stays below n 2^-24 ~ 6.2e-5. The elementwise outputs take a few more roundings of
// O(1) values. A wrong term (the sign of w, a missing mean, |w| without eps) is off by 1e-2 or more.
//
// bfloat16 storage (x, z, dz, dx): one more rounding when z and dx are stored (2^-8 relative), and
// dy = slope dz is stored in bfloat16 between the activation's backward and cuDNN's (2^-9 of terms
// that are 0.01 |dz|, far below 2^-8 of the sums they enter): bound 2^-8 + 1e-4 for every output.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/iabn_cudnn.h"
#include "tensor/error.h"
#include "tests/cuda_iabn_parameters.h"
#include "tests/cuda_storage_types.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

constexpr bool kWithCudnn =
#ifdef PANS_WITH_CUDNN
    true;
#else
    false;
#endif

constexpr double kTolerance = 1e-4;
// For the outputs stored as T, and those that sum terms stored as T (dw, db).
template <class T>
constexpr double kStoredTolerance = kStoreRounding<T> + kTolerance;

// Batch 1 and 3, odd spatial sizes, channel counts off any vector or warp multiple, up to 1040 rows.
const std::vector<Shape> kShapes = {{1, 3, 5, 7}, {3, 7, 5, 37}, {4, 13, 20, 40}};

Tensor uniform(const Shape& shape, std::uint64_t stream, double low, double high) {
  return uniform_f32(shape, stream, low, high, 2468);
}

using Parameters = IabnParameters;

IabnParams params_for(IabnActivation activation) {
  IabnParams params;
  params.activation = activation;
  return params;
}

// Calls `call` and checks that it fails naming the first cuDNN entry point it reached.
template <class Call>
void check_fails_without_cudnn(Call call, const char* entry_point) {
  try {
    call();
    FAIL("no pans::Error thrown");
  } catch (const Error& error) {
    const std::string message = error.what();
    CAPTURE(message);
    CHECK(message.find(entry_point) != std::string::npos);
    CHECK(message.find("not part of this build") != std::string::npos);
  }
}

}  // namespace

TEST_CASE_TEMPLATE("iabn cudnn: training forward and backward match the float64 oracle", T, float, bf16) {
  constexpr DType dtype = dtype_of<T>;
  for (const Shape& shape : kShapes)
    for (const IabnActivation activation : {IabnActivation::LeakyRelu, IabnActivation::Identity}) {
      CAPTURE(shape_str(shape));
      CAPTURE(activation == IabnActivation::LeakyRelu);
      const IabnParams params = params_for(activation);
      const std::int64_t channels = shape[3];
      const Parameters p(channels);
      const Stored x(uniform(shape, 1, -1.0, 2.0), dtype_of<T>), dz(uniform(shape, 2, -1.0, 1.0), dtype_of<T>);
      const Tensor dw0 = uniform({channels}, 3, -0.5, 0.5), db0 = uniform({channels}, 4, -0.5, 0.5);

      Tensor z = nan_tensor(shape, dtype), running_mean = p.running_mean.to(gpu()),
             running_var = p.running_var.to(gpu());
      CudnnBatchNormSaved saved;
      const auto forward = [&] {
        iabn_cudnn_forward_train(x.device, z, p.w.to(gpu()), p.b.to(gpu()), running_mean, running_var, saved, params);
      };
      if (!kWithCudnn) {
        check_fails_without_cudnn(forward, "cudnn_batch_norm_reserve_bytes");
        continue;
      }
      forward();

      Tensor expected_z = x.f64.clone(), expected_mean = f64(p.running_mean), expected_var = f64(p.running_var);
      Tensor batch_var = Tensor::empty({channels}, DType::F64);
      iabn_forward_train(expected_z, f64(p.w), f64(p.b), expected_mean, expected_var, batch_var, params);
      CHECK(max_scaled_error(z, expected_z) < kStoredTolerance<T>);
      CHECK(max_scaled_error(running_mean, expected_mean) < kTolerance);
      CHECK(max_scaled_error(running_var, expected_var) < kTolerance);
      std::vector<double> inverse_std = batch_var.to_vector<double>();
      for (double& v : inverse_std) v = 1.0 / std::sqrt(v + params.eps);
      CHECK(max_scaled_error(saved.inverse_std, Tensor::from_vector(inverse_std, {channels})) < kTolerance);
      CHECK(same_bits(x.device, x.f64.cast(dtype)));  // x is kept for backward, unchanged

      Tensor expected_dx = Tensor::empty(shape, DType::F64), expected_dw = f64(dw0), expected_db = f64(db0);
      iabn_backward(expected_z, dz.f64, f64(p.w), f64(p.b), batch_var, expected_dx, expected_dw, expected_db,
                    IabnMode::Train, params);
      for (const bool dx_is_dz : {false, true}) {
        CAPTURE(dx_is_dz);
        Tensor dz_device = dz.device.clone(), dx = dx_is_dz ? dz_device : nan_tensor(shape, dtype);
        Tensor dw = dw0.to(gpu()), db = db0.to(gpu());
        iabn_cudnn_backward_train(x.device, z, dz_device, dx, p.w.to(gpu()), p.b.to(gpu()), dw, db, saved, params);
        CHECK(max_scaled_error(dx, expected_dx) < kStoredTolerance<T>);
        CHECK(max_scaled_error(dw, expected_dw) < kStoredTolerance<T>);
        CHECK(max_scaled_error(db, expected_db) < kStoredTolerance<T>);
      }
    }
}

TEST_CASE_TEMPLATE("iabn cudnn: evaluation forward matches the float64 oracle", T, float, bf16) {
  for (const Shape& shape : kShapes) {
    CAPTURE(shape_str(shape));
    const IabnParams params = params_for(IabnActivation::LeakyRelu);
    const Parameters p(shape[3]);
    const Stored x(uniform(shape, 5, -1.0, 2.0), dtype_of<T>);
    Tensor z = nan_tensor(shape, dtype_of<T>);
    const auto forward = [&] {
      iabn_cudnn_forward_eval(x.device, z, p.w.to(gpu()), p.b.to(gpu()), p.running_mean.to(gpu()),
                              p.running_var.to(gpu()), params);
    };
    if (!kWithCudnn) {
      check_fails_without_cudnn(forward, "cudnn_batch_norm_forward_inference");
      continue;
    }
    forward();
    Tensor expected = x.f64.clone();
    iabn_forward_eval(expected, f64(p.w), f64(p.b), f64(p.running_mean), f64(p.running_var), params);
    CHECK(max_scaled_error(z, expected) < kStoredTolerance<T>);
  }
}

TEST_CASE("iabn cudnn: z must not be x, since cuDNN's backward reads x") {
  const Parameters p(7);
  Tensor x = uniform({1, 3, 5, 7}, 1, -1.0, 2.0).to(gpu());
  Tensor running_mean = p.running_mean.to(gpu()), running_var = p.running_var.to(gpu());
  CudnnBatchNormSaved saved;
  CHECK_THROWS_WITH_AS(
      iabn_cudnn_forward_train(x, x, p.w.to(gpu()), p.b.to(gpu()), running_mean, running_var, saved, IabnParams{}),
      doctest::Contains("z must not be x"), Error);
}
