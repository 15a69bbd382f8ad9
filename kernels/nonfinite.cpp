#include "kernels/nonfinite.h"

#include "kernels/cpu/nonfinite.h"
#include "kernels/cuda/nonfinite.h"
#include "kernels/cuda_dispatch.h"
#include "kernels/op_check.h"

namespace pans {

std::vector<std::size_t> tensors_with_nonfinite(const std::vector<Tensor>& tensors) {
  std::vector<std::size_t> found;
  if (tensors.empty()) return found;
  const Tensor& first = tensors.front();
  // CUDA tensors raise a flag each on the device, read back once at the end.
  Tensor flags =
      first.device().is_cuda() ? Tensor::zeros({std::int64_t(tensors.size())}, DType::I32, first.device()) : Tensor();
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& tensor = tensors[i];
    const OpCheck check("tensors_with_nonfinite", {{"first", &first}, {"tensor", &tensor}});
    check.require(tensor.defined(), "tensor ", i, " is undefined");
    check.same_device_float_contiguous();
    if (ran_on_cuda(check, tensor, [&] {
          cuda::flag_nonfinite(tensor.numel(), tensor.data<float>(), flags.data<std::int32_t>() + i);
        }))
      continue;
    dispatch_floating(check, tensor.dtype(), [&](auto zero) {
      using T = decltype(zero);
      if (cpu::has_nonfinite<T>(tensor.numel(), tensor.data<T>())) found.push_back(i);
    });
  }
  if (flags.defined()) {
    const std::vector<std::int32_t> raised = flags.to(Device::cpu()).to_vector<std::int32_t>();
    for (std::size_t i = 0; i < raised.size(); ++i)
      if (raised[i] != 0) found.push_back(i);
  }
  return found;
}

}  // namespace pans
