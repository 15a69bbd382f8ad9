#include "kernels/conv2d.h"

#include "kernels/cpu/conv2d.h"
#include "kernels/op_check.h"

namespace pans {
namespace {

void check_params(const OpCheck& check, const Conv2dParams& params) {
  check.require(params.stride >= 1 && params.dilation >= 1 && params.padding >= 0, "invalid stride ", params.stride,
                ", padding ", params.padding, ", dilation ", params.dilation);
}

// Validates the tensors shared by all three passes and derives the geometry from x's shape (or,
// for the input gradient, from dx's shape) and w.
cpu::Conv2dGeometry geometry(const OpCheck& check, const Tensor& input, const Tensor& w, const Conv2dParams& params) {
  check_params(check, params);
  check.rank("input", input, 4);
  check.rank("w", w, 4);
  check.require(w.dim(3) == input.dim(3), "w expects ", w.dim(3), " input channels, the input has ", input.dim(3));
  cpu::Conv2dGeometry g{input.dim(0),
                        input.dim(1),
                        input.dim(2),
                        input.dim(3),
                        w.dim(0),
                        w.dim(1),
                        w.dim(2),
                        conv2d_output_size(input.dim(1), w.dim(1), params),
                        conv2d_output_size(input.dim(2), w.dim(2), params),
                        params.stride,
                        params.padding,
                        params.dilation};
  check.require(g.out_height > 0 && g.out_width > 0, "the ", g.kernel_height, "x", g.kernel_width,
                " kernel does not fit the padded input");
  return g;
}

Shape output_shape(const cpu::Conv2dGeometry& g) { return {g.batch, g.out_height, g.out_width, g.out_channels}; }

}  // namespace

std::int64_t conv2d_output_size(std::int64_t input_size, std::int64_t kernel_size, const Conv2dParams& params) {
  PANS_CHECK(params.stride >= 1 && params.dilation >= 1 && params.padding >= 0, "conv2d: invalid stride ",
             params.stride, ", padding ", params.padding, ", dilation ", params.dilation);
  const std::int64_t span = input_size + 2 * params.padding - params.dilation * (kernel_size - 1) - 1;
  // A kernel wider than the padded input has no output (C++ division would round -1/s up to 0).
  return span < 0 ? 0 : span / params.stride + 1;
}

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, const Conv2dParams& params) {
  const OpCheck check("conv2d_forward", {{"x", &x}, {"w", &w}, {"bias", &bias}, {"y", &y}});
  check.same_device_float_contiguous();
  const cpu::Conv2dGeometry g = geometry(check, x, w, params);
  if (bias.defined()) check.shape("bias", bias, {g.out_channels});
  check.shape("y", y, output_shape(g));
  if (x.device().is_cuda()) fail_not_implemented_on_cuda(check);
  dispatch_floating(check, x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::conv2d_forward<T>(g, x.data<T>(), w.data<T>(), bias.defined() ? bias.data<T>() : nullptr, y.data<T>());
  });
}

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& params) {
  PANS_CHECK(x.ndim() == 4 && w.ndim() == 4, "conv2d_forward: ", x.describe("x"), " and ", w.describe("w"),
             " must both have 4 dimensions");
  Tensor y = Tensor::empty({x.dim(0), conv2d_output_size(x.dim(1), w.dim(1), params),
                            conv2d_output_size(x.dim(2), w.dim(2), params), w.dim(0)},
                           x.dtype(), x.device());
  conv2d_forward(x, w, bias, y, params);
  return y;
}

void conv2d_backward_input(const Tensor& dy, const Tensor& w, Tensor& dx, const Conv2dParams& params) {
  const OpCheck check("conv2d_backward_input", {{"dy", &dy}, {"w", &w}, {"dx", &dx}});
  check.same_device_float_contiguous();
  const cpu::Conv2dGeometry g = geometry(check, dx, w, params);
  check.shape("dy", dy, output_shape(g));
  if (dy.device().is_cuda()) fail_not_implemented_on_cuda(check);
  dispatch_floating(check, dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::conv2d_backward_input<T>(g, dy.data<T>(), w.data<T>(), dx.data<T>());
  });
}

void conv2d_backward_weight(const Tensor& dy, const Tensor& x, Tensor& dw, Tensor& dbias, const Conv2dParams& params) {
  const OpCheck check("conv2d_backward_weight", {{"dy", &dy}, {"x", &x}, {"dw", &dw}, {"dbias", &dbias}});
  check.same_device_float_contiguous();
  const cpu::Conv2dGeometry g = geometry(check, x, dw, params);
  check.shape("dy", dy, output_shape(g));
  if (dbias.defined()) check.shape("dbias", dbias, {g.out_channels});
  if (dy.device().is_cuda()) fail_not_implemented_on_cuda(check);
  dispatch_floating(check, dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::conv2d_backward_weight<T>(g, dy.data<T>(), x.data<T>(), dw.data<T>(),
                                   dbias.defined() ? dbias.data<T>() : nullptr);
  });
}

}  // namespace pans
