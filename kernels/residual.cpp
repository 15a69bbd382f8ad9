#include "kernels/residual.h"

#include "kernels/cpu_fast/residual.h"
#include "kernels/cuda/residual.h"
#include "kernels/cuda_dispatch.h"
#include "kernels/op_check.h"

namespace pans {
namespace {

void check_slope(const OpCheck& check, double slope) {
  check.require(slope > 0, "the leaky ReLU slope must be > 0 (backward reads the sign of the output), got ", slope);
}

}  // namespace

void residual_add_leaky_forward(const Tensor& branch, const Tensor& shortcut, Tensor& out, double slope) {
  const OpCheck check("residual_add_leaky_forward", {{"branch", &branch}, {"shortcut", &shortcut}, {"out", &out}});
  check.same_device_float_contiguous();
  check_slope(check, slope);
  check.require(branch.defined(), "branch is undefined");
  check.shape("shortcut", shortcut, branch.shape());
  check.shape("out", out, branch.shape());
  if (ran_on_cuda_with_bf16(check, branch, [&](auto storage) {
        using S = decltype(storage);
        cuda::residual_add_leaky_forward(branch.numel(), branch.data<S>(), shortcut.data<S>(), out.data<S>(), slope);
      }))
    return;
  dispatch_floating(check, branch.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu_fast::residual_add_leaky_forward<T>(branch.numel(), branch.data<T>(), shortcut.data<T>(), out.data<T>(), slope);
  });
}

void residual_add_leaky_backward(const Tensor& out, const Tensor& dout, Tensor& dbranch_and_shortcut, double slope) {
  const OpCheck check("residual_add_leaky_backward",
                      {{"out", &out}, {"dout", &dout}, {"dbranch_and_shortcut", &dbranch_and_shortcut}});
  check.same_device_float_contiguous();
  check_slope(check, slope);
  check.require(out.defined(), "out is undefined");
  check.shape("dout", dout, out.shape());
  check.shape("dbranch_and_shortcut", dbranch_and_shortcut, out.shape());
  if (ran_on_cuda_with_bf16(check, out, [&](auto storage) {
        using S = decltype(storage);
        cuda::residual_add_leaky_backward(out.numel(), out.data<S>(), dout.data<S>(), dbranch_and_shortcut.data<S>(),
                                          slope);
      }))
    return;
  dispatch_floating(check, out.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu_fast::residual_add_leaky_backward<T>(out.numel(), out.data<T>(), dout.data<T>(), dbranch_and_shortcut.data<T>(),
                                        slope);
  });
}

}  // namespace pans
