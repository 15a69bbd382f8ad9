#include "layers/inplace_abn.h"

namespace pans {

InPlaceAbn::InPlaceAbn(const std::string& name, std::int64_t channels, IabnActivation activation,
                       const LayerOptions& options)
    : weight(constant_parameter(child_name(name, "weight"), {channels}, 1.0, options)),
      bias(constant_parameter(child_name(name, "bias"), {channels}, 0.0, options)),
      running_mean{child_name(name, "running_mean"), constant_tensor({channels}, 0.0, options)},
      running_var{child_name(name, "running_var"), constant_tensor({channels}, 1.0, options)},
      batch_var_(Tensor::empty({channels}, options.dtype, options.device)) {
  params_.activation = activation;
}

Tensor InPlaceAbn::forward(Tensor x, Mode mode) {
  mode_ = mode;
  if (mode == Mode::Train)
    iabn_forward_train(x, weight.value, bias.value, running_mean.value, running_var.value, batch_var_, params_);
  else
    iabn_forward_eval(x, weight.value, bias.value, running_mean.value, running_var.value, params_);
  output_ = x;
  return x;
}

void InPlaceAbn::backward(const Tensor& dz, Tensor& dx) {
  PANS_CHECK(output_.defined(), "InPlaceAbn ", weight.name, ": backward without a forward");
  const bool train = mode_ == Mode::Train;
  iabn_backward(output_, dz, weight.value, bias.value, train ? batch_var_ : running_var.value, dx, weight.grad,
                bias.grad, train ? IabnMode::Train : IabnMode::Eval, params_);
  output_ = Tensor();
}

void InPlaceAbn::append_parameters(std::vector<Parameter>& out) const {
  out.push_back(weight);
  out.push_back(bias);
}

void InPlaceAbn::append_buffers(std::vector<Buffer>& out) const {
  out.push_back(running_mean);
  out.push_back(running_var);
}

}  // namespace pans
