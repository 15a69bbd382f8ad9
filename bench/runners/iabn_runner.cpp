#include <exception>
#include <string>

#include "bench/runners/op_runners.h"
#include "kernels/cuda/cudnn_elementwise.h"
#include "kernels/cuda/iabn_cudnn.h"
#include "kernels/iabn.h"

namespace pans::bench {
namespace {

constexpr double kEps = 1e-5, kMomentum = 0.1;

template <class F>
void with_storage(DType dtype, F body) {
  if (dtype == DType::BF16)
    body(bf16{});
  else
    body(float{});
}

void leaky_relu_forward_any(DType dtype, Tensor& y) {
  with_storage(dtype, [&](auto storage) {
    using S = decltype(storage);
    cuda::leaky_relu_forward<S>(y.data<S>(), y.data<S>(), y.numel(), float(kSlope));
  });
}

void leaky_relu_backward_any(DType dtype, const Tensor& z, const Tensor& dz, Tensor& dy) {
  with_storage(dtype, [&](auto storage) {
    using S = decltype(storage);
    cuda::leaky_relu_backward<S>(z.data<S>(), dz.data<S>(), dy.data<S>(), z.numel(), float(kSlope));
  });
}

}  // namespace

void iabn_runner(const Row& row, Data& data, Runner& r) {
  const DType dt = row.dtype;
  const Shape xs = nhwc(row.shape);
  const Shape cs{row.shape.c};
  const cuda::BatchNormShape bn{row.shape.n, row.shape.h, row.shape.w, row.shape.c};
  const bool leaky = row.leaky;
  IabnParams params;
  params.activation = leaky ? IabnActivation::LeakyRelu : IabnActivation::Identity;
  params.slope = kSlope;
  params.eps = kEps;
  params.momentum = kMomentum;
  Tensor w = data.uniform(cs, DType::F32, 0.5, 1.5), b = data.uniform(cs, DType::F32, -0.1, 0.1);

  // The baseline's state: x kept for backward (standard batch norm), statistics saved by forward.
  Tensor x_library = data.uniform(xs, dt), y_library = data.empty(xs, dt);
  Tensor running_mean_library = data.zeros(cs, DType::F32);
  Tensor running_var_library = data.uniform(cs, DType::F32, 0.9, 1.1);
  Tensor save_mean = data.empty(cs, DType::F32), save_inv_std = data.empty(cs, DType::F32);
  Tensor reserve;
  std::size_t reserve_bytes = 0;
  try {
    reserve_bytes = cuda::cudnn_batch_norm_reserve_bytes(bn, dt);
    if (reserve_bytes > 0) reserve = data.empty({std::int64_t(reserve_bytes)}, DType::U8);
  } catch (const std::exception& error) {
    r.library_error = error.what();
  }
  auto library_forward = [=]() mutable {
    cuda::cudnn_batch_norm_forward_training(
        bn, dt, x_library.raw_data(), y_library.raw_data(), w.data<float>(), b.data<float>(),
        running_mean_library.data<float>(), running_var_library.data<float>(), save_mean.data<float>(),
        save_inv_std.data<float>(), kMomentum, kEps, reserve_bytes == 0 ? nullptr : reserve.raw_data(), reserve_bytes);
    if (leaky) leaky_relu_forward_any(dt, y_library);
  };
  r.library_algo = "CUDNN_BATCHNORM_SPATIAL_PERSISTENT, NHWC" + std::string(leaky ? ", then leaky_relu" : "");

  if (row.pass == Pass::Forward) {
    Tensor x = data.uniform(xs, dt);
    Tensor running_mean = data.zeros(cs, DType::F32), running_var = data.uniform(cs, DType::F32, 0.9, 1.1);
    Tensor saved_var = data.empty(cs, DType::F32);
    // In place, as in training: after the first call x holds z, whose statistics are as good.
    r.native = [=]() mutable { iabn_forward_train(x, w, b, running_mean, running_var, saved_var, params); };
    r.library = library_forward;
    return;
  }
  Tensor z = data.uniform(xs, dt), dz = data.uniform(xs, dt), dx = data.empty(xs, dt);
  Tensor saved_var = data.uniform(cs, DType::F32, 0.5, 1.5);
  Tensor dw = data.zeros(cs, DType::F32), db = data.zeros(cs, DType::F32);
  r.native = [=]() mutable { iabn_backward(z, dz, w, b, saved_var, dx, dw, db, IabnMode::Train, params); };
  Tensor dz_library = data.uniform(xs, dt), dy_library = data.empty(xs, dt), dx_library = data.empty(xs, dt);
  Tensor dscale = data.zeros(cs, DType::F32), dbias = data.zeros(cs, DType::F32);
  if (r.library_error.empty()) {
    try {
      library_forward();  // the saved statistics, the reserve and z = y_library that backward reads
    } catch (const std::exception& error) {
      r.library_error = error.what();
    }
  }
  // PyTorch's BatchNorm2d + LeakyReLU backward: the activation's gradient, then batch norm's.
  r.library = [=]() mutable {
    if (leaky) leaky_relu_backward_any(dt, y_library, dz_library, dy_library);
    cuda::cudnn_batch_norm_backward(bn, dt, x_library.raw_data(), leaky ? dy_library.raw_data() : dz_library.raw_data(),
                                    dx_library.raw_data(), w.data<float>(), b.data<float>(), dscale.data<float>(),
                                    dbias.data<float>(), save_mean.data<float>(), save_inv_std.data<float>(), kEps,
                                    reserve_bytes == 0 ? nullptr : reserve.raw_data(), reserve_bytes);
  };
}

}  // namespace pans::bench
