#include "kernels/iabn_cudnn.h"

#include <cstdio>
#include <mutex>

#include "kernels/cuda/cudnn_elementwise.h"
#include "kernels/cuda/iabn_cudnn.h"
#include "kernels/cuda_dispatch.h"
#include "kernels/iabn_checks.h"

namespace pans {

namespace {

// Says once per process, on stderr, that cuDNN computes InPlace-ABN, as convolutions log their algorithm.
void log_cudnn_once() {
  static std::once_flag logged;
  std::call_once(logged, [] {
    std::fprintf(stderr, "pans: InPlace-ABN: cuDNN batch norm + a separate activation (normalization cudnn), "
                         "each layer keeping its input for backward\n");
  });
}

// Runs launch(S{}) (S = float or bf16, x's storage) on x's GPU; anything but a CUDA tensor fails.
template <class Launch>
void run_on_cuda(const OpCheck& check, const Tensor& x, Launch launch) {
  check.require(x.device().is_cuda(), "cuDNN runs on CUDA tensors only (normalization cudnn selects it for CUDA layers)");
  log_cudnn_once();
  ran_on_cuda_with_bf16(check, x, launch);
}

[[maybe_unused]] cuda::BatchNormShape batch_norm_shape(const Tensor& x) {
  return {x.dim(0), x.dim(1), x.dim(2), x.dim(3)};
}

// cuDNN's scale: gamma_hat = |w| + eps, per channel, on w's device.
[[maybe_unused]] Tensor scale_from_weight(const Tensor& w, double eps) {
  Tensor scale = Tensor::empty(w.shape(), DType::F32, w.device());
  cuda::iabn_scale_from_weight(w.data<float>(), scale.data<float>(), w.numel(), float(eps));
  return scale;
}

// z <- leaky_relu(z) in place; nothing for the identity.
template <class S>
void activate_inplace(Tensor& z, const cpu::IabnGeometry& g) {
  if (g.negative_slope != 1.0) cuda::leaky_relu_forward<S>(z.data<S>(), z.data<S>(), z.numel(), float(g.negative_slope));
}

// The checks both forwards share: x {N,H,W,C} and z of its shape, per-channel w, b and running
// statistics; returns x's geometry.
cpu::IabnGeometry check_forward(const OpCheck& check, const Tensor& x, const Tensor& z, const Tensor& w,
                                const Tensor& b, const Tensor& running_mean, const Tensor& running_var,
                                const IabnParams& params) {
  check.same_device_float_contiguous({}, {"w", "b", "running_mean", "running_var"});
  const cpu::IabnGeometry g = iabn_geometry(
      check, "x", x, {{"w", &w}, {"b", &b}, {"running_mean", &running_mean}, {"running_var", &running_var}}, params);
  check.shape("z", z, x.shape());
  return g;
}

}  // namespace

void iabn_cudnn_forward_train(const Tensor& x, Tensor& z, const Tensor& w, const Tensor& b, Tensor& running_mean,
                              Tensor& running_var, CudnnBatchNormSaved& saved, const IabnParams& params) {
  const OpCheck check("iabn_cudnn_forward_train", {{"x", &x},
                                                   {"z", &z},
                                                   {"w", &w},
                                                   {"b", &b},
                                                   {"running_mean", &running_mean},
                                                   {"running_var", &running_var}});
  const cpu::IabnGeometry g = check_forward(check, x, z, w, b, running_mean, running_var, params);
  check.require(z.raw_data() != x.raw_data(), "z must not be x: cuDNN's backward reads x");
  require_iabn_training_count(check, g.count);
  run_on_cuda(check, x, [&](auto storage) {
    using S = decltype(storage);
    const cuda::BatchNormShape shape = batch_norm_shape(x);
    const std::size_t reserve_bytes = cuda::cudnn_batch_norm_reserve_bytes(shape, x.dtype());
    saved.mean = Tensor::empty({g.channels}, DType::F32, x.device());
    saved.inverse_std = Tensor::empty({g.channels}, DType::F32, x.device());
    saved.reserve = reserve_bytes == 0 ? Tensor() : Tensor::empty({std::int64_t(reserve_bytes)}, DType::U8, x.device());
    const Tensor scale = scale_from_weight(w, params.eps);
    cuda::cudnn_batch_norm_forward_training(shape, x.dtype(), x.raw_data(), z.raw_data(), scale.data<float>(),
                                            b.data<float>(), running_mean.data<float>(), running_var.data<float>(),
                                            saved.mean.data<float>(), saved.inverse_std.data<float>(), params.momentum,
                                            params.eps, reserve_bytes == 0 ? nullptr : saved.reserve.raw_data(),
                                            reserve_bytes);
    activate_inplace<S>(z, g);
  });
}

void iabn_cudnn_forward_eval(const Tensor& x, Tensor& z, const Tensor& w, const Tensor& b,
                             const Tensor& running_mean, const Tensor& running_var, const IabnParams& params) {
  const OpCheck check("iabn_cudnn_forward_eval", {{"x", &x},
                                                  {"z", &z},
                                                  {"w", &w},
                                                  {"b", &b},
                                                  {"running_mean", &running_mean},
                                                  {"running_var", &running_var}});
  const cpu::IabnGeometry g = check_forward(check, x, z, w, b, running_mean, running_var, params);
  run_on_cuda(check, x, [&](auto storage) {
    using S = decltype(storage);
    const Tensor scale = scale_from_weight(w, params.eps);
    cuda::cudnn_batch_norm_forward_inference(batch_norm_shape(x), x.dtype(), x.raw_data(), z.raw_data(),
                                             scale.data<float>(), b.data<float>(), running_mean.data<float>(),
                                             running_var.data<float>(), params.eps);
    activate_inplace<S>(z, g);
  });
}

void iabn_cudnn_backward_train(const Tensor& x, const Tensor& z, const Tensor& dz, Tensor& dx, const Tensor& w,
                               const Tensor& b, Tensor& dw, Tensor& db, const CudnnBatchNormSaved& saved,
                               const IabnParams& params) {
  const OpCheck check("iabn_cudnn_backward_train", {{"x", &x},
                                                    {"z", &z},
                                                    {"dz", &dz},
                                                    {"dx", &dx},
                                                    {"w", &w},
                                                    {"b", &b},
                                                    {"dw", &dw},
                                                    {"db", &db},
                                                    {"saved.mean", &saved.mean},
                                                    {"saved.inverse_std", &saved.inverse_std}});
  check.same_device_float_contiguous({}, {"w", "b", "dw", "db", "saved.mean", "saved.inverse_std"});
  const cpu::IabnGeometry g = iabn_geometry(check, "x", x,
                                            {{"w", &w},
                                             {"b", &b},
                                             {"dw", &dw},
                                             {"db", &db},
                                             {"saved.mean", &saved.mean},
                                             {"saved.inverse_std", &saved.inverse_std}},
                                            params);
  check.shape("z", z, x.shape());
  check.shape("dz", dz, x.shape());
  check.shape("dx", dx, x.shape());
  run_on_cuda(check, x, [&](auto storage) {
    using S = decltype(storage);
    // dy, the gradient at the activation's input, in a buffer of its own: cuDNN then reads dy and
    // writes dx, which may be dz.
    Tensor dy = Tensor::empty(z.shape(), z.dtype(), z.device());
    if (g.negative_slope != 1.0)
      cuda::leaky_relu_backward<S>(z.data<S>(), dz.data<S>(), dy.data<S>(), z.numel(), float(g.negative_slope));
    else
      dy.copy_from(dz);
    const Tensor scale = scale_from_weight(w, params.eps);
    Tensor dscale = Tensor::zeros({g.channels}, DType::F32, x.device());
    Tensor reserve = saved.reserve;  // cuDNN takes the reserve as a mutable pointer
    const std::size_t reserve_bytes = reserve.defined() ? reserve.nbytes() : 0;
    cuda::cudnn_batch_norm_backward(batch_norm_shape(x), x.dtype(), x.raw_data(), dy.raw_data(), dx.raw_data(),
                                    scale.data<float>(), b.data<float>(), dscale.data<float>(), db.data<float>(),
                                    saved.mean.data<float>(), saved.inverse_std.data<float>(), params.eps,
                                    reserve_bytes == 0 ? nullptr : reserve.raw_data(),
                                    reserve_bytes);
    cuda::accumulate_weight_gradient_from_scale(w.data<float>(), dscale.data<float>(), dw.data<float>(), g.channels);
  });
}

}  // namespace pans
