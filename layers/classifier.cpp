#include "layers/classifier.h"

#include <cmath>

#include "kernels/cosine_head.h"

namespace pans {
namespace {

double default_bound(std::int64_t channels) { return 1.0 / std::sqrt(double(channels)); }

Tensor checked_features(const Tensor& features, const char* layer) {
  PANS_CHECK(features.defined(), layer, ": backward without a forward");
  return features;
}

}  // namespace

CosineClassifier::CosineClassifier(const std::string& name, std::int64_t channels, std::int64_t classes,
                                   const LayerOptions& options)
    : weight(uniform_parameter(child_name(name, "weight"), {classes, channels}, default_bound(channels), options)) {}

Tensor CosineClassifier::forward(const Tensor& f) {
  features_ = f;
  return cosine_classifier_forward(f, weight.value);
}

Tensor CosineClassifier::backward(const Tensor& dlogits) {
  const Tensor f = checked_features(features_, "CosineClassifier");
  Tensor df = Tensor::empty(f.shape(), f.dtype(), f.device());
  cosine_classifier_backward(dlogits, f, weight.value, df, weight.grad);
  features_ = Tensor();
  return df;
}

void CosineClassifier::append_parameters(std::vector<Parameter>& out) const { out.push_back(weight); }

LinearClassifier::LinearClassifier(const std::string& name, std::int64_t channels, std::int64_t classes,
                                   const LayerOptions& options)
    : weight(uniform_parameter(child_name(name, "weight"), {classes, channels}, default_bound(channels), options)),
      bias(uniform_parameter(child_name(name, "bias"), {classes}, default_bound(channels), options)) {}

Tensor LinearClassifier::forward(const Tensor& f) {
  features_ = f;
  return linear_classifier_forward(f, weight.value, bias.value);
}

Tensor LinearClassifier::backward(const Tensor& dlogits) {
  const Tensor f = checked_features(features_, "LinearClassifier");
  Tensor df = Tensor::empty(f.shape(), f.dtype(), f.device());
  linear_classifier_backward(dlogits, f, weight.value, df, weight.grad, bias.grad);
  features_ = Tensor();
  return df;
}

void LinearClassifier::append_parameters(std::vector<Parameter>& out) const {
  out.push_back(weight);
  out.push_back(bias);
}

std::unique_ptr<Classifier> make_classifier(ClassifierKind kind, const std::string& name, std::int64_t channels,
                                            std::int64_t classes, const LayerOptions& options) {
  if (kind == ClassifierKind::Cosine) return std::make_unique<CosineClassifier>(name, channels, classes, options);
  return std::make_unique<LinearClassifier>(name, channels, classes, options);
}

}  // namespace pans
