#include "models/psp_head.h"

#include <utility>

namespace pans {

PspHead::ConvAbnDropout::ConvAbnDropout(const std::string& conv_name, const std::string& abn_name,
                                        const std::string& dropout_name, std::int64_t in_channels,
                                        std::int64_t out_channels, double dropout_p, const LayerOptions& options)
    : conv(conv_name, {in_channels, out_channels, 3, {/*stride=*/1, /*padding=*/1, /*dilation=*/1}, false}, options),
      abn(make_norm_activation(abn_name, out_channels, IabnActivation::LeakyRelu, options)),
      dropout(dropout_name, dropout_p, options.seed) {}

Tensor PspHead::ConvAbnDropout::forward(const Tensor& x, Mode mode, std::uint64_t step) {
  return dropout.forward(abn->forward(conv.forward(x), mode), mode, step);
}

Tensor PspHead::ConvAbnDropout::backward(Tensor dy, const GradientReadyHook& ready) {
  dropout.backward(dy, dy);
  abn->backward(dy, dy);
  report_gradients_ready(ready, *abn);
  Tensor dx = conv.backward(dy);
  report_gradients_ready(ready, conv);
  return dx;
}

void PspHead::ConvAbnDropout::append_parameters(std::vector<Parameter>& out) const {
  conv.append_parameters(out);
  abn->append_parameters(out);
}

PspHead::PspHead(const std::string& name, const PspNetConfig& config, const LayerOptions& options)
    : pyramid_(child_name(name, "ppm"), config.pyramid_bins, config.layer_out_channels(3), config.head_channels,
               options),
      last_(child_name(name, "conv_last.0"), child_name(name, "conv_last.1"), child_name(name, "conv_last.2"),
            pyramid_.out_channels(), config.head_channels, config.dropout, options) {
  if (config.deep_supervision)
    deep_supervision_.emplace(child_name(name, "cbr_deepsup.0"), child_name(name, "cbr_deepsup.1"),
                              child_name(name, "dropout_deepsup"), config.layer_out_channels(2), config.head_channels,
                              config.dropout, options);
}

HeadFeatures PspHead::forward(const BackboneFeatures& features, Mode mode, std::uint64_t step) {
  HeadFeatures out;
  out.main = last_.forward(pyramid_.forward(features.layer4, mode), mode, step);
  if (deep_supervision_ && mode == Mode::Train)
    out.deep_supervision = deep_supervision_->forward(features.layer3, mode, step);
  return out;
}

// The deep-supervision branch first: it comes after the main branch in append_parameters, so its
// gradients are the first of the head's to fill a gradient bucket (dist/gradient_averager.h plans
// them in reverse). The two branches share no parameter, so the order changes no value.
BackboneFeatures PspHead::backward(Tensor dmain, Tensor ddeep_supervision, const GradientReadyHook& ready) {
  BackboneFeatures dfeatures;
  if (ddeep_supervision.defined()) {
    PANS_CHECK(deep_supervision_,
               "PspHead::backward: a deep-supervision gradient, but the model has no deep supervision");
    dfeatures.layer3 = deep_supervision_->backward(std::move(ddeep_supervision), ready);
  } else if (deep_supervision_) {
    report_gradients_ready(ready, *deep_supervision_);  // no gradient reaches it: final as it is
  }
  dfeatures.layer4 = pyramid_.backward(last_.backward(std::move(dmain), ready));
  report_gradients_ready(ready, pyramid_);
  return dfeatures;
}

void PspHead::append_parameters(std::vector<Parameter>& out) const {
  pyramid_.append_parameters(out);
  last_.append_parameters(out);
  if (deep_supervision_) deep_supervision_->append_parameters(out);
}

void PspHead::append_buffers(std::vector<Buffer>& out) const {
  pyramid_.append_buffers(out);
  last_.abn->append_buffers(out);
  if (deep_supervision_) deep_supervision_->abn->append_buffers(out);
}

}  // namespace pans
