#include "kernels/pool.h"

#include <limits>

#include "kernels/cpu/pool.h"
#include "kernels/cuda/pool.h"
#include "kernels/cuda_dispatch.h"
#include "kernels/op_check.h"

namespace pans {
namespace {

bool valid(const MaxPool2dParams& params) {
  return params.kernel_size >= 1 && params.stride >= 1 && params.padding >= 0 &&
         params.padding <= params.kernel_size / 2;
}

// Validates the parameters and derives the geometry from the input (or input gradient) shape.
MaxPool2dGeometry max_pool_geometry(const OpCheck& check, const char* input_name, const Tensor& input,
                                    const MaxPool2dParams& params) {
  check.require(valid(params), "invalid kernel_size ", params.kernel_size, ", stride ", params.stride, ", padding ",
                params.padding, " (padding must be at most kernel_size / 2)");
  check.rank(input_name, input, 4);
  check.require(input.dim(1) * input.dim(2) <= std::numeric_limits<std::int32_t>::max(),
                "argmax holds int32 indices, the input has ", input.dim(1) * input.dim(2), " pixels");
  MaxPool2dGeometry g{input.dim(0),
                      input.dim(1),
                      input.dim(2),
                      input.dim(3),
                      max_pool2d_output_size(input.dim(1), params),
                      max_pool2d_output_size(input.dim(2), params),
                      params.kernel_size,
                      params.stride,
                      params.padding};
  check.require(g.out_height > 0 && g.out_width > 0, "the ", params.kernel_size, "x", params.kernel_size,
                " window does not fit the padded input");
  return g;
}

Shape max_pool_output_shape(const MaxPool2dGeometry& g) { return {g.batch, g.out_height, g.out_width, g.channels}; }

}  // namespace

std::int64_t max_pool2d_output_size(std::int64_t input_size, const MaxPool2dParams& params) {
  PANS_CHECK(valid(params), "max_pool2d: invalid kernel_size ", params.kernel_size, ", stride ", params.stride,
             ", padding ", params.padding);
  const std::int64_t slack = input_size + 2 * params.padding - params.kernel_size;
  // A window wider than the padded input fits nowhere; integer division would round slack / s up to 0.
  return slack < 0 ? 0 : slack / params.stride + 1;
}

void max_pool2d_forward(const Tensor& x, Tensor& y, Tensor& argmax, const MaxPool2dParams& params) {
  const OpCheck check("max_pool2d_forward", {{"x", &x}, {"y", &y}, {"argmax", &argmax}});
  check.same_device_float_contiguous({{"argmax", DType::I32}});
  const MaxPool2dGeometry g = max_pool_geometry(check, "x", x, params);
  check.shape("y", y, max_pool_output_shape(g));
  check.shape("argmax", argmax, max_pool_output_shape(g));
  if (ran_on_cuda_with_bf16(check, x, [&](auto storage) {
        using S = decltype(storage);
        cuda::max_pool2d_forward(g, x.data<S>(), y.data<S>(), argmax.data<std::int32_t>());
      }))
    return;
  dispatch_floating(check, x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::max_pool2d_forward<T>(g, x.data<T>(), y.data<T>(), argmax.data<std::int32_t>());
  });
}

MaxPool2dOutput max_pool2d_forward(const Tensor& x, const MaxPool2dParams& params) {
  PANS_CHECK(x.ndim() == 4, "max_pool2d_forward: ", x.describe("x"), " must have 4 dimensions");
  const Shape shape{x.dim(0), max_pool2d_output_size(x.dim(1), params), max_pool2d_output_size(x.dim(2), params),
                    x.dim(3)};
  MaxPool2dOutput output{Tensor::empty(shape, x.dtype(), x.device()), Tensor::empty(shape, DType::I32, x.device())};
  max_pool2d_forward(x, output.y, output.argmax, params);
  return output;
}

void max_pool2d_backward(const Tensor& dy, const Tensor& argmax, Tensor& dx, const MaxPool2dParams& params) {
  const OpCheck check("max_pool2d_backward", {{"dy", &dy}, {"argmax", &argmax}, {"dx", &dx}});
  check.same_device_float_contiguous({{"argmax", DType::I32}});
  const MaxPool2dGeometry g = max_pool_geometry(check, "dx", dx, params);
  check.shape("dy", dy, max_pool_output_shape(g));
  check.shape("argmax", argmax, max_pool_output_shape(g));
  if (ran_on_cuda_with_bf16(check, dy, [&](auto storage) {
        using S = decltype(storage);
        cuda::max_pool2d_backward(g, dy.data<S>(), argmax.data<std::int32_t>(), dx.data<S>());
      }))
    return;
  dispatch_floating(check, dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::max_pool2d_backward<T>(g, dy.data<T>(), argmax.data<std::int32_t>(), dx.data<T>());
  });
}

void adaptive_avg_pool2d_forward(const Tensor& x, Tensor& y) {
  const OpCheck check("adaptive_avg_pool2d_forward", {{"x", &x}, {"y", &y}});
  check.same_device_float_contiguous();
  const ResampleGeometry g = resample_geometry(check, "x", x, "y", y);
  if (ran_on_cuda_with_bf16(check, x, [&](auto storage) {
        using S = decltype(storage);
        cuda::adaptive_avg_pool2d_forward(g, x.data<S>(), y.data<S>());
      }))
    return;
  dispatch_floating(check, x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::adaptive_avg_pool2d_forward<T>(g, x.data<T>(), y.data<T>());
  });
}

Tensor adaptive_avg_pool2d_forward(const Tensor& x, std::int64_t out_height, std::int64_t out_width) {
  Tensor y = resampled_output("adaptive_avg_pool2d_forward", x, out_height, out_width);
  adaptive_avg_pool2d_forward(x, y);
  return y;
}

void adaptive_avg_pool2d_backward(const Tensor& dy, Tensor& dx) {
  const OpCheck check("adaptive_avg_pool2d_backward", {{"dy", &dy}, {"dx", &dx}});
  check.same_device_float_contiguous();
  const ResampleGeometry g = resample_geometry(check, "dx", dx, "dy", dy);
  if (ran_on_cuda_with_bf16(check, dy, [&](auto storage) {
        using S = decltype(storage);
        cuda::adaptive_avg_pool2d_backward(g, dy.data<S>(), dx.data<S>());
      }))
    return;
  dispatch_floating(check, dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::adaptive_avg_pool2d_backward<T>(g, dy.data<T>(), dx.data<T>());
  });
}

}  // namespace pans
