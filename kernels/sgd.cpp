#include "kernels/sgd.h"

#include <string>

#include "kernels/cpu/sgd.h"
#include "kernels/cuda/sgd.h"
#include "kernels/op_check.h"

#ifdef PANS_WITH_CUDA
#include "tensor/cuda_check.h"
#endif

namespace pans {
namespace {

void check_step(const OpCheck& check, const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                const SgdParams& params) {
  check.same_device_float_contiguous();
  // Nesterov needs a positive momentum (PyTorch refuses it otherwise).
  check.require(params.lr >= 0 && params.momentum > 0 && params.momentum < 1 && params.weight_decay >= 0, "invalid lr ",
                params.lr, ", momentum ", params.momentum, ", weight_decay ", params.weight_decay);
  check.require(param.defined(), "param is undefined");
  check.shape("grad", grad, param.shape());
  check.shape("momentum_buffer", momentum_buffer, param.shape());
  if (param.device().is_cuda()) require_cuda_float32(check, param);
}

void cpu_step(const OpCheck& check, Tensor& param, const Tensor& grad, Tensor& momentum_buffer,
              const SgdParams& params) {
  dispatch_floating(check, param.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::sgd_nesterov_step<T>(param.numel(), param.data<T>(), grad.data<T>(), momentum_buffer.data<T>(), params.lr,
                              params.momentum, params.weight_decay);
  });
}

}  // namespace

void sgd_nesterov_step(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdParams& params) {
  const OpCheck check("sgd_nesterov_step", {{"param", &param}, {"grad", &grad}, {"momentum_buffer", &momentum_buffer}});
  check_step(check, param, grad, momentum_buffer, params);
  if (param.device().is_cuda()) {
#ifdef PANS_WITH_CUDA
    CudaDeviceGuard guard(param.device().index);
    cuda::sgd_nesterov_step(param.numel(), param.data<float>(), grad.data<float>(), momentum_buffer.data<float>(),
                            params.lr, params.momentum, params.weight_decay);
    return;
#else
    fail_built_without_cuda(check);
#endif
  }
  cpu_step(check, param, grad, momentum_buffer, params);
}

void sgd_nesterov_step_all(std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                           std::vector<Tensor>& momentum_buffers, const SgdParams& params_of_step) {
  PANS_CHECK(grads.size() == params.size() && momentum_buffers.size() == params.size(),
             "sgd_nesterov_step_all: ", params.size(), " params, ", grads.size(), " grads and ",
             momentum_buffers.size(), " momentum buffers (expected one of each per parameter)");
  if (params.empty()) return;
  // Named by position, e.g. "sgd_nesterov_step_all[3](param [64] float32 cuda:0, ...)".
  std::vector<std::string> names;
  for (std::size_t i = 0; i < params.size(); ++i) names.push_back("sgd_nesterov_step_all[" + std::to_string(i) + "]");
  auto check_of = [&](std::size_t i) {
    return OpCheck(names[i].c_str(),
                   {{"param", &params[i]}, {"grad", &grads[i]}, {"momentum_buffer", &momentum_buffers[i]}});
  };
  const Device device = params[0].device();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const OpCheck check = check_of(i);
    check_step(check, params[i], grads[i], momentum_buffers[i], params_of_step);
    check.require(params[i].device() == device, "all tensors must be on one device, param is on ",
                  params[i].device().str(), " and params[0] on ", device.str());
  }
  if (device.is_cuda()) {
#ifdef PANS_WITH_CUDA
    std::vector<cuda::SgdTensor> tensors;
    for (std::size_t i = 0; i < params.size(); ++i)
      tensors.push_back(
          {params[i].data<float>(), grads[i].data<float>(), momentum_buffers[i].data<float>(), params[i].numel()});
    CudaDeviceGuard guard(device.index);
    // Scratch for the kernel's chunk table, freed (stream-ordered) after the launch.
    Tensor table = Tensor::empty({std::int64_t(cuda::sgd_nesterov_step_all_table_bytes(tensors))}, DType::U8, device);
    cuda::sgd_nesterov_step_all(tensors, table.raw_data(), params_of_step.lr, params_of_step.momentum,
                                params_of_step.weight_decay);
    return;
#else
    fail_built_without_cuda(check_of(0));
#endif
  }
  for (std::size_t i = 0; i < params.size(); ++i)
    cpu_step(check_of(i), params[i], grads[i], momentum_buffers[i], params_of_step);
}

}  // namespace pans
