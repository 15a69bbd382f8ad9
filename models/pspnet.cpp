#include "models/pspnet.h"

#include "kernels/cosine_head.h"
#include "kernels/resize.h"

namespace pans {

PspNet::PspNet(const PspNetConfig& config, const LayerOptions& options)
    : config_(config),
      options_(options),
      backbone_("body", config, options),
      head_("head", config, options),
      classifier_(make_classifier(config.classifier, "cls.cls", config.head_channels, config.classes, options)) {
  if (config.deep_supervision)
    deep_supervision_classifier_ =
        make_classifier(config.classifier, "cls.cls_deepsup", config.head_channels, config.classes, options);
}

PspNet::LowResolutionLogits PspNet::forward_low_resolution(const Tensor& images, Mode mode, std::uint64_t step) {
  PANS_CHECK(images.ndim() == 4 && images.dim(3) == 3, "PspNet::forward: expects images {N,H,W,3}, got ",
             images.describe("images"));
  const HeadFeatures features = head_.forward(backbone_.forward(images, mode), mode, step);
  LowResolutionLogits logits;
  logits.main = classifier_->forward(features.main);
  if (features.deep_supervision.defined())
    logits.deep_supervision = deep_supervision_classifier_->forward(features.deep_supervision);
  low_resolution_logits_shape_ = logits.main.shape();
  return logits;
}

PspNetOutput PspNet::forward(const Tensor& images, Mode mode, std::uint64_t step) {
  const LowResolutionLogits logits = forward_low_resolution(images, mode, step);
  const std::int64_t height = images.dim(1), width = images.dim(2);
  PspNetOutput out;
  out.logits = resize_bilinear_forward(logits.main, height, width);
  if (logits.deep_supervision.defined())
    out.deep_supervision_logits = resize_bilinear_forward(logits.deep_supervision, height, width);
  return out;
}

Tensor PspNet::downsample_gradient(const Tensor& dlogits) const {
  Tensor low = Tensor::empty(low_resolution_logits_shape_, dlogits.dtype(), dlogits.device());
  resize_bilinear_backward(dlogits, low);
  return low;
}

// The deep-supervision classifier first, as the head does its branch (psp_head.cpp says why).
void PspNet::backward(const Tensor& dlogits, const Tensor& ddeep_supervision_logits, const GradientReadyHook& ready) {
  backward_through(dlogits, ddeep_supervision_logits, ready, InputGradient::Skip);
}

Tensor PspNet::backward_to_images(const Tensor& dlogits) {
  return backward_through(dlogits, Tensor(), {}, InputGradient::Compute);
}

Tensor PspNet::backward_through(const Tensor& dlogits, const Tensor& ddeep_supervision_logits,
                                const GradientReadyHook& ready, InputGradient images) {
  PANS_CHECK(!low_resolution_logits_shape_.empty(), "PspNet::backward: backward without a forward");
  Tensor ddeep;
  if (ddeep_supervision_logits.defined()) {
    PANS_CHECK(deep_supervision_classifier_, "PspNet::backward: a deep-supervision gradient, but the model has none");
    ddeep = deep_supervision_classifier_->backward(downsample_gradient(ddeep_supervision_logits));
    report_gradients_ready(ready, *deep_supervision_classifier_);
  } else if (deep_supervision_classifier_) {
    report_gradients_ready(ready, *deep_supervision_classifier_);  // no gradient reaches it: final as it is
  }
  const Tensor dmain = classifier_->backward(downsample_gradient(dlogits));
  report_gradients_ready(ready, *classifier_);
  BackboneFeatures dfeatures = head_.backward(dmain, ddeep, ready);
  Tensor dimages = backbone_.backward(std::move(dfeatures.layer4), dfeatures.layer3, ready, images);
  low_resolution_logits_shape_.clear();
  return dimages;
}

ScaleOutput PspNet::evaluate_scale(const Tensor& images) { return scale_output(images, Mode::Eval, 0); }

ScaleOutput PspNet::sample_scale(const Tensor& images, std::uint64_t dropout_key) {
  return scale_output(images, Mode::Sample, dropout_key);
}

ScaleOutput PspNet::scale_output(const Tensor& images, Mode mode, std::uint64_t step) {
  ScaleOutput out;
  out.logits = forward_low_resolution(images, mode, step).main;
  if (config_.classifier == ClassifierKind::Cosine) out.max_cosine = cosine_max_similarity(out.logits);
  return out;
}

std::vector<Parameter> PspNet::parameters() const {
  std::vector<Parameter> out;
  backbone_.append_parameters(out);
  head_.append_parameters(out);
  classifier_->append_parameters(out);
  if (deep_supervision_classifier_) deep_supervision_classifier_->append_parameters(out);
  return out;
}

std::vector<Buffer> PspNet::buffers() const {
  std::vector<Buffer> out;
  backbone_.append_buffers(out);
  head_.append_buffers(out);
  return out;
}

std::int64_t PspNet::parameter_count() const { return total_elements(parameters()); }

void PspNet::zero_grad() {
  for (Parameter& parameter : parameters()) parameter.grad.zero_();
}

}  // namespace pans
