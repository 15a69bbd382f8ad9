#include "layers/norm_activation.h"

#include "layers/cudnn_batch_norm_activation.h"
#include "layers/inplace_abn.h"

namespace pans {

NormActivation::NormActivation(const std::string& name, std::int64_t channels, IabnActivation activation,
                               const LayerOptions& options)
    : weight(constant_parameter(child_name(name, "weight"), {channels}, 1.0, options)),
      bias(constant_parameter(child_name(name, "bias"), {channels}, 0.0, options)),
      running_mean{child_name(name, "running_mean"), constant_tensor({channels}, 0.0, options)},
      running_var{child_name(name, "running_var"), constant_tensor({channels}, 1.0, options)} {
  params_.activation = activation;
}

void NormActivation::append_parameters(std::vector<Parameter>& out) const {
  out.push_back(weight);
  out.push_back(bias);
}

void NormActivation::append_buffers(std::vector<Buffer>& out) const {
  out.push_back(running_mean);
  out.push_back(running_var);
}

std::unique_ptr<NormActivation> make_norm_activation(const std::string& name, std::int64_t channels,
                                                     IabnActivation activation, const LayerOptions& options) {
  if (options.normalization == NormImplementation::Cudnn && options.device.is_cuda())
    return std::make_unique<CudnnBatchNormActivation>(name, channels, activation, options);
  return std::make_unique<InPlaceAbn>(name, channels, activation, options);
}

}  // namespace pans
