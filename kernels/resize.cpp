#include "kernels/resize.h"

#include "kernels/cpu/resize.h"
#include "kernels/cuda/resize.h"
#include "kernels/cuda_dispatch.h"
#include "kernels/op_check.h"

namespace pans {
namespace {}  // namespace

void resize_bilinear_forward(const Tensor& x, Tensor& y) {
  const OpCheck check("resize_bilinear_forward", {{"x", &x}, {"y", &y}});
  check.same_device_float_contiguous();
  const ResampleGeometry g = resample_geometry(check, "x", x, "y", y);
  if (ran_on_cuda_with_bf16(check, x, [&](auto storage) {
        using S = decltype(storage);
        cuda::resize_bilinear_forward(g, x.data<S>(), y.data<S>());
      }))
    return;
  dispatch_floating(check, x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::resize_bilinear_forward<T>(g, x.data<T>(), y.data<T>());
  });
}

Tensor resize_bilinear_forward(const Tensor& x, std::int64_t out_height, std::int64_t out_width) {
  Tensor y = resampled_output("resize_bilinear_forward", x, out_height, out_width);
  resize_bilinear_forward(x, y);
  return y;
}

void resize_bilinear_backward(const Tensor& dy, Tensor& dx) {
  const OpCheck check("resize_bilinear_backward", {{"dy", &dy}, {"dx", &dx}});
  check.same_device_float_contiguous();
  const ResampleGeometry g = resample_geometry(check, "dx", dx, "dy", dy);
  if (ran_on_cuda_with_bf16(check, dy, [&](auto storage) {
        using S = decltype(storage);
        cuda::resize_bilinear_backward(g, dy.data<S>(), dx.data<S>());
      }))
    return;
  dispatch_floating(check, dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::resize_bilinear_backward<T>(g, dy.data<T>(), dx.data<T>());
  });
}

}  // namespace pans
