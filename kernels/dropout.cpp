#include "kernels/dropout.h"

#include "kernels/cpu/dropout.h"
#include "kernels/cuda/dropout.h"
#include "kernels/cuda_dispatch.h"
#include "kernels/op_check.h"

namespace pans {
namespace {

// Checks an activation {N,H,W,C}, its mask {N,C} and the output of the same shape.
cpu::Dropout2dGeometry geometry(const OpCheck& check, const char* input_name, const Tensor& input, const Tensor& mask,
                                const char* output_name, const Tensor& output) {
  check.rank(input_name, input, 4);
  check.shape("mask", mask, {input.dim(0), input.dim(3)});
  check.shape(output_name, output, input.shape());
  return {input.dim(0), input.dim(1) * input.dim(2), input.dim(3)};
}

// y = x * mask and dx = dy * mask are the same computation.
void apply_mask(const OpCheck& check, const cpu::Dropout2dGeometry& g, const Tensor& input, const Tensor& mask,
                Tensor& output) {
  if (ran_on_cuda_with_bf16(check, input, [&](auto storage) {
        using S = decltype(storage);
        cuda::dropout2d_apply(g.batch, g.pixels, g.channels, input.data<S>(), mask.data<float>(), output.data<S>(),
                              cuda::narrowest_dropout2d_index(input.numel()));
      }))
    return;
  dispatch_floating(check, input.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::dropout2d_apply<T>(g, input.data<T>(), mask.data<T>(), output.data<T>());
  });
}

}  // namespace

void dropout2d_mask(Tensor& mask, double p, std::uint64_t seed, std::uint64_t stream) {
  const OpCheck check("dropout2d_mask", {{"mask", &mask}});
  check.same_device_float_contiguous();
  check.rank("mask", mask, 2);
  check.require(p >= 0 && p < 1, "the drop probability p must be in [0, 1), got ", p);
  if (ran_on_cuda(check, mask, [&] { cuda::dropout2d_mask(mask.numel(), p, seed, stream, mask.data<float>()); }))
    return;
  dispatch_floating(check, mask.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::dropout2d_mask<T>(mask.dim(0), mask.dim(1), p, seed, stream, mask.data<T>());
  });
}

void dropout2d_forward(const Tensor& x, const Tensor& mask, Tensor& y) {
  const OpCheck check("dropout2d_forward", {{"x", &x}, {"mask", &mask}, {"y", &y}});
  check.same_device_float_contiguous({}, {"mask"});
  apply_mask(check, geometry(check, "x", x, mask, "y", y), x, mask, y);
}

void dropout2d_backward(const Tensor& dy, const Tensor& mask, Tensor& dx) {
  const OpCheck check("dropout2d_backward", {{"dy", &dy}, {"mask", &mask}, {"dx", &dx}});
  check.same_device_float_contiguous({}, {"mask"});
  apply_mask(check, geometry(check, "dy", dy, mask, "dx", dx), dy, mask, dx);
}

}  // namespace pans
