#include "kernels/sgd.h"

#include "kernels/cpu/sgd.h"
#include "kernels/op_check.h"

namespace pans {

void sgd_nesterov_step(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdParams& params) {
  const OpCheck check("sgd_nesterov_step", {{"param", &param}, {"grad", &grad}, {"momentum_buffer", &momentum_buffer}});
  check.same_device_float_contiguous();
  // Nesterov needs a positive momentum (PyTorch refuses it otherwise).
  check.require(params.lr >= 0 && params.momentum > 0 && params.momentum < 1 && params.weight_decay >= 0, "invalid lr ",
                params.lr, ", momentum ", params.momentum, ", weight_decay ", params.weight_decay);
  check.require(param.defined(), "param is undefined");
  check.shape("grad", grad, param.shape());
  check.shape("momentum_buffer", momentum_buffer, param.shape());
  if (param.device().is_cuda()) fail_not_implemented_on_cuda(check);
  dispatch_floating(check, param.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::sgd_nesterov_step<T>(param.numel(), param.data<T>(), grad.data<T>(), momentum_buffer.data<T>(), params.lr,
                              params.momentum, params.weight_decay);
  });
}

}  // namespace pans
