#include "kernels/resize.h"

#include "kernels/cpu/resize.h"
#include "kernels/op_check.h"

namespace pans {
namespace {

cpu::ResizeGeometry geometry(const OpCheck& check, const char* input_name, const Tensor& input, const char* output_name,
                             const Tensor& output) {
  check.rank(input_name, input, 4);
  check.rank(output_name, output, 4);
  check.require(input.dim(1) > 0 && input.dim(2) > 0, input_name, " must have a nonempty image");
  check.require(output.dim(1) > 0 && output.dim(2) > 0, output_name, " must have a nonempty image");
  check.require(output.dim(0) == input.dim(0) && output.dim(3) == input.dim(3), output_name,
                " must have the batch and channels of ", input_name);
  return {input.dim(0), input.dim(1), input.dim(2), input.dim(3), output.dim(1), output.dim(2)};
}

}  // namespace

void resize_bilinear_forward(const Tensor& x, Tensor& y) {
  const OpCheck check("resize_bilinear_forward", {{"x", &x}, {"y", &y}});
  check.same_device_float_contiguous();
  const cpu::ResizeGeometry g = geometry(check, "x", x, "y", y);
  if (x.device().is_cuda()) fail_not_implemented_on_cuda(check);
  dispatch_floating(check, x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::resize_bilinear_forward<T>(g, x.data<T>(), y.data<T>());
  });
}

Tensor resize_bilinear_forward(const Tensor& x, std::int64_t out_height, std::int64_t out_width) {
  PANS_CHECK(x.ndim() == 4 && out_height > 0 && out_width > 0, "resize_bilinear_forward: ", x.describe("x"),
             " must have 4 dimensions and the output size ", out_height, "x", out_width, " must be positive");
  Tensor y = Tensor::empty({x.dim(0), out_height, out_width, x.dim(3)}, x.dtype(), x.device());
  resize_bilinear_forward(x, y);
  return y;
}

void resize_bilinear_backward(const Tensor& dy, Tensor& dx) {
  const OpCheck check("resize_bilinear_backward", {{"dy", &dy}, {"dx", &dx}});
  check.same_device_float_contiguous();
  const cpu::ResizeGeometry g = geometry(check, "dx", dx, "dy", dy);
  if (dy.device().is_cuda()) fail_not_implemented_on_cuda(check);
  dispatch_floating(check, dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::resize_bilinear_backward<T>(g, dy.data<T>(), dx.data<T>());
  });
}

}  // namespace pans
