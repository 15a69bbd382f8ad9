#include "models/bottleneck.h"

#include "layers/gradient_sum.h"
#include "models/pspnet_config.h"

namespace pans {
namespace {

Conv2dConfig pointwise(std::int64_t in_channels, std::int64_t out_channels, int stride = 1) {
  return {in_channels, out_channels, 1, {stride, 0, 1}, false};
}

}  // namespace

Bottleneck::Bottleneck(const std::string& name, const BottleneckConfig& config, const LayerOptions& options)
    : conv1_(child_name(name, "convs.conv1"), pointwise(config.in_channels, config.width), options),
      conv2_(child_name(name, "convs.conv2"),
             {config.width, config.width, 3, {config.stride, /*padding=*/config.dilation, config.dilation}, false},
             options),
      conv3_(child_name(name, "convs.conv3"), pointwise(config.width, kBottleneckExpansion * config.width), options),
      bn1_(make_norm_activation(child_name(name, "convs.bn1"), config.width, IabnActivation::LeakyRelu, options)),
      bn2_(make_norm_activation(child_name(name, "convs.bn2"), config.width, IabnActivation::LeakyRelu, options)),
      bn3_(make_norm_activation(child_name(name, "convs.bn3"), kBottleneckExpansion * config.width,
                                IabnActivation::Identity, options)) {
  const std::int64_t out_channels = kBottleneckExpansion * config.width;
  if (config.stride != 1 || config.in_channels != out_channels) {
    proj_conv_.emplace(child_name(name, "proj_conv"), pointwise(config.in_channels, out_channels, config.stride),
                       options);
    proj_bn_ = make_norm_activation(child_name(name, "proj_bn"), out_channels, IabnActivation::Identity, options);
  }
}

Tensor Bottleneck::forward(const Tensor& x, Mode mode) {
  const Tensor z1 = bn1_->forward(conv1_.forward(x), mode);
  const Tensor z2 = bn2_->forward(conv2_.forward(z1), mode);
  const Tensor branch = bn3_->forward(conv3_.forward(z2), mode);
  const Tensor shortcut = has_projection() ? proj_bn_->forward(proj_conv_->forward(x), mode) : x;
  return add_.forward(branch, shortcut);
}

Tensor Bottleneck::backward(Tensor dout, const GradientReadyHook& ready) {
  add_.backward(dout, dout);  // dout now holds the gradient at both the branch and the shortcut
  Tensor dbranch = Tensor::empty(dout.shape(), dout.dtype(), dout.device());
  bn3_->backward(dout, dbranch);
  report_gradients_ready(ready, *bn3_);
  Tensor dshortcut = dout;
  if (has_projection()) {
    proj_bn_->backward(dout, dout);
    report_gradients_ready(ready, *proj_bn_);
    dshortcut = proj_conv_->backward(dout);
    report_gradients_ready(ready, *proj_conv_);
  }
  Tensor d2 = conv3_.backward(dbranch);
  report_gradients_ready(ready, conv3_);
  bn2_->backward(d2, d2);
  report_gradients_ready(ready, *bn2_);
  Tensor d1 = conv2_.backward(d2);
  report_gradients_ready(ready, conv2_);
  bn1_->backward(d1, d1);
  report_gradients_ready(ready, *bn1_);
  Tensor dx = conv1_.backward(d1);
  report_gradients_ready(ready, conv1_);
  add_into(dx, dshortcut);
  return dx;
}

void Bottleneck::append_parameters(std::vector<Parameter>& out) const {
  conv1_.append_parameters(out);
  bn1_->append_parameters(out);
  conv2_.append_parameters(out);
  bn2_->append_parameters(out);
  conv3_.append_parameters(out);
  bn3_->append_parameters(out);
  if (has_projection()) {
    proj_conv_->append_parameters(out);
    proj_bn_->append_parameters(out);
  }
}

void Bottleneck::append_buffers(std::vector<Buffer>& out) const {
  bn1_->append_buffers(out);
  bn2_->append_buffers(out);
  bn3_->append_buffers(out);
  if (has_projection()) proj_bn_->append_buffers(out);
}

}  // namespace pans
