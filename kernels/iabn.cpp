#include "kernels/iabn.h"

#include <vector>

#include "kernels/cpu_fast/iabn.h"
#include "kernels/cuda/iabn.h"
#include "kernels/cuda_dispatch.h"
#include "kernels/iabn_checks.h"

namespace pans {

void check_iabn_params(const OpCheck& check, const IabnParams& params) {
  check.require(params.activation != IabnActivation::LeakyRelu || params.slope > 0, "the leaky ReLU slope must be > 0 ",
                "(backward inverts z = slope*y), got ", params.slope);
  check.require(params.eps > 0, "eps must be > 0, got ", params.eps);
  check.require(params.momentum >= 0 && params.momentum <= 1, "momentum must be in [0, 1], got ", params.momentum);
}

cpu::IabnGeometry iabn_geometry(const OpCheck& check, const char* name, const Tensor& activation,
                                std::initializer_list<std::pair<const char*, const Tensor*>> per_channel,
                                const IabnParams& params) {
  check_iabn_params(check, params);
  check.rank(name, activation, 4);
  const std::int64_t channels = activation.dim(3);
  check.require(channels >= 1, name, " has no channels");
  for (const auto& [channel_name, tensor] : per_channel) check.shape(channel_name, *tensor, {channels});
  const double negative_slope = params.activation == IabnActivation::Identity ? 1.0 : params.slope;
  return {activation.numel() / channels, channels, negative_slope, params.eps};
}

void require_iabn_training_count(const OpCheck& check, std::int64_t count) {
  check.require(count >= 2, "training needs at least 2 values per channel (N*H*W = ", count,
                ") for the unbiased running variance");
}

namespace {

// Device scratch (float32) for the per-block partials of the CUDA reductions.
[[maybe_unused]] Tensor reduction_scratch(const cpu::IabnGeometry& g, Device device) {
  return Tensor::empty({cuda::iabn_reduction_scratch_floats(g.count, g.channels)}, DType::F32, device);
}

}  // namespace

void iabn_batch_statistics(const Tensor& x, Tensor& mean, Tensor& var) {
  const OpCheck check("iabn_batch_statistics", {{"x", &x}, {"mean", &mean}, {"var", &var}});
  check.same_device_float_contiguous({}, {"mean", "var"});
  const cpu::IabnGeometry g = iabn_geometry(check, "x", x, {{"mean", &mean}, {"var", &var}}, IabnParams{});
  check.require(g.count >= 1, "x has no values per channel");
  if (ran_on_cuda_with_bf16(check, x, [&](auto storage) {
        using S = decltype(storage);
        Tensor scratch = reduction_scratch(g, x.device());
        cuda::iabn_batch_statistics(x.data<S>(), g.count, g.channels, scratch.data<float>(), mean.data<float>(),
                                    var.data<float>());
      }))
    return;
  dispatch_floating(check, x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu_fast::iabn_batch_statistics<T>(g, x.data<T>(), mean.data<T>(), var.data<T>());
  });
}

void iabn_normalize_inplace(Tensor& x, const Tensor& w, const Tensor& b, const Tensor& mean, const Tensor& var,
                            const IabnParams& params) {
  const OpCheck check("iabn_normalize_inplace", {{"x", &x}, {"w", &w}, {"b", &b}, {"mean", &mean}, {"var", &var}});
  check.same_device_float_contiguous({}, {"w", "b", "mean", "var"});
  const cpu::IabnGeometry g = iabn_geometry(check, "x", x, {{"w", &w}, {"b", &b}, {"mean", &mean}, {"var", &var}}, params);
  if (ran_on_cuda_with_bf16(check, x, [&](auto storage) {
        using S = decltype(storage);
        cuda::iabn_normalize_inplace(x.data<S>(), g.count, g.channels, w.data<float>(), b.data<float>(),
                                     mean.data<float>(), var.data<float>(), float(g.negative_slope), float(g.eps));
      }))
    return;
  dispatch_floating(check, x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu_fast::iabn_normalize_inplace<T>(g, x.data<T>(), w.data<T>(), b.data<T>(), mean.data<T>(), var.data<T>());
  });
}

void iabn_update_running_statistics(Tensor& running_mean, Tensor& running_var, const Tensor& mean, const Tensor& var,
                                    std::int64_t count, const IabnParams& params) {
  const OpCheck check("iabn_update_running_statistics",
                      {{"running_mean", &running_mean}, {"running_var", &running_var}, {"mean", &mean}, {"var", &var}});
  check.same_device_float_contiguous();
  check_iabn_params(check, params);
  check.rank("running_mean", running_mean, 1);
  check.shape("running_var", running_var, running_mean.shape());
  check.shape("mean", mean, running_mean.shape());
  check.shape("var", var, running_mean.shape());
  require_iabn_training_count(check, count);
  if (ran_on_cuda(check, mean, [&] {
        cuda::iabn_update_running_statistics(running_mean.dim(0), running_mean.data<float>(), running_var.data<float>(),
                                             mean.data<float>(), var.data<float>(), count, params.momentum);
      }))
    return;
  dispatch_floating(check, mean.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::iabn_update_running_statistics<T>(running_mean.dim(0), running_mean.data<T>(), running_var.data<T>(),
                                           mean.data<T>(), var.data<T>(), count, params.momentum);
  });
}

void iabn_forward_train(Tensor& x, const Tensor& w, const Tensor& b, Tensor& running_mean, Tensor& running_var,
                        Tensor& saved_var, const IabnParams& params) {
  const OpCheck check("iabn_forward_train", {{"x", &x},
                                             {"w", &w},
                                             {"b", &b},
                                             {"running_mean", &running_mean},
                                             {"running_var", &running_var},
                                             {"saved_var", &saved_var}});
  check.same_device_float_contiguous({}, {"w", "b", "running_mean", "running_var", "saved_var"});
  const cpu::IabnGeometry g = iabn_geometry(
      check, "x", x,
      {{"w", &w}, {"b", &b}, {"running_mean", &running_mean}, {"running_var", &running_var}, {"saved_var", &saved_var}},
      params);
  require_iabn_training_count(check, g.count);
  if (ran_on_cuda_with_bf16(check, x, [&](auto storage) {
        using S = decltype(storage);
        Tensor scratch = reduction_scratch(g, x.device()), mean = Tensor::empty({g.channels}, DType::F32, x.device());
        cuda::iabn_batch_statistics(x.data<S>(), g.count, g.channels, scratch.data<float>(), mean.data<float>(),
                                    saved_var.data<float>());
        cuda::iabn_normalize_inplace(x.data<S>(), g.count, g.channels, w.data<float>(), b.data<float>(),
                                     mean.data<float>(), saved_var.data<float>(), float(g.negative_slope),
                                     float(g.eps));
        cuda::iabn_update_running_statistics(g.channels, running_mean.data<float>(), running_var.data<float>(),
                                             mean.data<float>(), saved_var.data<float>(), g.count, params.momentum);
      }))
    return;
  dispatch_floating(check, x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    std::vector<T> mean(std::size_t(g.channels));
    cpu_fast::iabn_batch_statistics<T>(g, x.data<T>(), mean.data(), saved_var.data<T>());
    cpu_fast::iabn_normalize_inplace<T>(g, x.data<T>(), w.data<T>(), b.data<T>(), mean.data(), saved_var.data<T>());
    cpu::iabn_update_running_statistics<T>(g.channels, running_mean.data<T>(), running_var.data<T>(), mean.data(),
                                           saved_var.data<T>(), g.count, params.momentum);
  });
}

void iabn_forward_eval(Tensor& x, const Tensor& w, const Tensor& b, const Tensor& running_mean,
                       const Tensor& running_var, const IabnParams& params) {
  const OpCheck check(
      "iabn_forward_eval",
      {{"x", &x}, {"w", &w}, {"b", &b}, {"running_mean", &running_mean}, {"running_var", &running_var}});
  check.same_device_float_contiguous({}, {"w", "b", "running_mean", "running_var"});
  const cpu::IabnGeometry g = iabn_geometry(
      check, "x", x, {{"w", &w}, {"b", &b}, {"running_mean", &running_mean}, {"running_var", &running_var}}, params);
  if (ran_on_cuda_with_bf16(check, x, [&](auto storage) {
        using S = decltype(storage);
        cuda::iabn_normalize_inplace(x.data<S>(), g.count, g.channels, w.data<float>(), b.data<float>(),
                                     running_mean.data<float>(), running_var.data<float>(), float(g.negative_slope),
                                     float(g.eps));
      }))
    return;
  dispatch_floating(check, x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu_fast::iabn_normalize_inplace<T>(g, x.data<T>(), w.data<T>(), b.data<T>(), running_mean.data<T>(),
                                   running_var.data<T>());
  });
}

void iabn_backward(const Tensor& z, const Tensor& dz, const Tensor& w, const Tensor& b, const Tensor& var, Tensor& dx,
                   Tensor& dw, Tensor& db, IabnMode mode, const IabnParams& params) {
  const OpCheck check(
      "iabn_backward",
      {{"z", &z}, {"dz", &dz}, {"w", &w}, {"b", &b}, {"var", &var}, {"dx", &dx}, {"dw", &dw}, {"db", &db}});
  check.same_device_float_contiguous({}, {"w", "b", "var", "dw", "db"});
  const cpu::IabnGeometry g =
      iabn_geometry(check, "z", z, {{"w", &w}, {"b", &b}, {"var", &var}, {"dw", &dw}, {"db", &db}}, params);
  check.shape("dz", dz, z.shape());
  check.shape("dx", dx, z.shape());
  if (ran_on_cuda_with_bf16(check, z, [&](auto storage) {
        using S = decltype(storage);
        Tensor scratch = reduction_scratch(g, z.device());
        Tensor sums = Tensor::empty({2, g.channels}, DType::F32, z.device());
        float* sum_dy = sums.data<float>();
        float* sum_xhat_dy = sum_dy + g.channels;
        const float slope = float(g.negative_slope), eps = float(g.eps);
        // The sums read all of dz before the elementwise pass overwrites it when dx aliases dz.
        cuda::iabn_backward_reduce(z.data<S>(), dz.data<S>(), w.data<float>(), b.data<float>(), g.count, g.channels,
                                   slope, eps, scratch.data<float>(), sum_dy, sum_xhat_dy, dw.data<float>(),
                                   db.data<float>());
        if (mode == IabnMode::Train)
          cuda::iabn_backward_input_train(z.data<S>(), dz.data<S>(), w.data<float>(), b.data<float>(),
                                          var.data<float>(), sum_dy, sum_xhat_dy, g.count, g.count, g.channels, slope,
                                          eps, dx.data<S>());
        else
          cuda::iabn_backward_input_eval(z.data<S>(), dz.data<S>(), w.data<float>(), var.data<float>(), g.count,
                                         g.channels, slope, eps, dx.data<S>());
      }))
    return;
  dispatch_floating(check, z.dtype(), [&](auto zero) {
    using T = decltype(zero);
    std::vector<T> sum_dy(std::size_t(g.channels)), sum_xhat_dy(std::size_t(g.channels));
    cpu_fast::iabn_backward_reduce<T>(g, z.data<T>(), dz.data<T>(), w.data<T>(), b.data<T>(), sum_dy.data(),
                                 sum_xhat_dy.data());
    if (mode == IabnMode::Train)
      cpu_fast::iabn_backward_input_train<T>(g, z.data<T>(), dz.data<T>(), w.data<T>(), b.data<T>(), var.data<T>(),
                                        sum_dy.data(), sum_xhat_dy.data(), g.count, dx.data<T>());
    else
      cpu_fast::iabn_backward_input_eval<T>(g, z.data<T>(), dz.data<T>(), w.data<T>(), var.data<T>(), dx.data<T>());
    cpu::iabn_accumulate_parameter_gradients<T>(g.channels, w.data<T>(), sum_dy.data(), sum_xhat_dy.data(),
                                                dw.data<T>(), db.data<T>());
  });
}

void iabn_backward_reduce(const Tensor& z, const Tensor& dz, const Tensor& w, const Tensor& b, Tensor& sum_dy,
                          Tensor& sum_xhat_dy, Tensor& dw, Tensor& db, const IabnParams& params) {
  const OpCheck check("iabn_backward_reduce", {{"z", &z},
                                               {"dz", &dz},
                                               {"w", &w},
                                               {"b", &b},
                                               {"sum_dy", &sum_dy},
                                               {"sum_xhat_dy", &sum_xhat_dy},
                                               {"dw", &dw},
                                               {"db", &db}});
  check.same_device_float_contiguous({}, {"w", "b", "sum_dy", "sum_xhat_dy", "dw", "db"});
  const cpu::IabnGeometry g = iabn_geometry(
      check, "z", z,
      {{"w", &w}, {"b", &b}, {"sum_dy", &sum_dy}, {"sum_xhat_dy", &sum_xhat_dy}, {"dw", &dw}, {"db", &db}}, params);
  check.shape("dz", dz, z.shape());
  if (ran_on_cuda_with_bf16(check, z, [&](auto storage) {
        using S = decltype(storage);
        Tensor scratch = reduction_scratch(g, z.device());
        cuda::iabn_backward_reduce(z.data<S>(), dz.data<S>(), w.data<float>(), b.data<float>(), g.count, g.channels,
                                   float(g.negative_slope), float(g.eps), scratch.data<float>(), sum_dy.data<float>(),
                                   sum_xhat_dy.data<float>(), dw.data<float>(), db.data<float>());
      }))
    return;
  dispatch_floating(check, z.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu_fast::iabn_backward_reduce<T>(g, z.data<T>(), dz.data<T>(), w.data<T>(), b.data<T>(), sum_dy.data<T>(),
                                 sum_xhat_dy.data<T>());
    cpu::iabn_accumulate_parameter_gradients<T>(g.channels, w.data<T>(), sum_dy.data<T>(), sum_xhat_dy.data<T>(),
                                                dw.data<T>(), db.data<T>());
  });
}

void iabn_backward_input_train(const Tensor& z, const Tensor& dz, const Tensor& w, const Tensor& b, const Tensor& var,
                               const Tensor& sum_dy, const Tensor& sum_xhat_dy, std::int64_t count, Tensor& dx,
                               const IabnParams& params) {
  const OpCheck check("iabn_backward_input_train", {{"z", &z},
                                                    {"dz", &dz},
                                                    {"w", &w},
                                                    {"b", &b},
                                                    {"var", &var},
                                                    {"sum_dy", &sum_dy},
                                                    {"sum_xhat_dy", &sum_xhat_dy},
                                                    {"dx", &dx}});
  check.same_device_float_contiguous({}, {"w", "b", "var", "sum_dy", "sum_xhat_dy"});
  const cpu::IabnGeometry g = iabn_geometry(
      check, "z", z, {{"w", &w}, {"b", &b}, {"var", &var}, {"sum_dy", &sum_dy}, {"sum_xhat_dy", &sum_xhat_dy}}, params);
  check.shape("dz", dz, z.shape());
  check.shape("dx", dx, z.shape());
  check.require(count >= g.count, "count ", count, " is below z's ", g.count, " values per channel");
  if (ran_on_cuda_with_bf16(check, z, [&](auto storage) {
        using S = decltype(storage);
        cuda::iabn_backward_input_train(z.data<S>(), dz.data<S>(), w.data<float>(), b.data<float>(), var.data<float>(),
                                        sum_dy.data<float>(), sum_xhat_dy.data<float>(), count, g.count, g.channels,
                                        float(g.negative_slope), float(g.eps), dx.data<S>());
      }))
    return;
  dispatch_floating(check, z.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu_fast::iabn_backward_input_train<T>(g, z.data<T>(), dz.data<T>(), w.data<T>(), b.data<T>(), var.data<T>(),
                                      sum_dy.data<T>(), sum_xhat_dy.data<T>(), count, dx.data<T>());
  });
}

}  // namespace pans
