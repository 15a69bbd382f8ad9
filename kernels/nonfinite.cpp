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
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const OpCheck check("tensors_with_nonfinite", {{"first", &first}, {"tensor", &tensors[i]}});
    check.require(tensors[i].defined(), "tensor ", i, " is undefined");
    check.same_device_float_contiguous();
  }
  if (first.device().is_cuda()) {
    Tensor flags = Tensor::zeros({std::int64_t(tensors.size())}, DType::I32, first.device());
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      const OpCheck check("tensors_with_nonfinite", {{"tensor", &tensors[i]}});
      ran_on_cuda(check, tensors[i], [&] {
        cuda::flag_nonfinite(tensors[i].numel(), tensors[i].data<float>(), flags.data<std::int32_t>() + i);
      });
    }
    const std::vector<std::int32_t> raised = flags.to(Device::cpu()).to_vector<std::int32_t>();
    for (std::size_t i = 0; i < raised.size(); ++i)
      if (raised[i] != 0) found.push_back(i);
    return found;
  }
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const OpCheck check("tensors_with_nonfinite", {{"tensor", &tensors[i]}});
    dispatch_floating(check, tensors[i].dtype(), [&](auto zero) {
      using T = decltype(zero);
      if (cpu::has_nonfinite<T>(tensors[i].numel(), tensors[i].data<T>())) found.push_back(i);
    });
  }
  return found;
}

}  // namespace pans
