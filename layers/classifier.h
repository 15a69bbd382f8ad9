// The per-pixel classifiers on the head features f {N,H,W,C} (kernels/cosine_head.h), chosen by
// ClassifierKind:
//   Cosine (PAnS): logits = tau <f/|f|, w_k/|w_k|>, tau = 10 fixed, weight {K,C}, no bias;
//   Linear (baseline): logits = f w^T + bias, a 1x1 convolution with bias, weight {K,C}, bias {K}.
// Parameters "<name>.weight" (and "<name>.bias"); weight and bias ~ U[-1/sqrt(C), 1/sqrt(C)),
// PyTorch's default for a 1x1 Conv2d (PAnS leaves its classifiers at that default).
//
// forward:  logits (=), a new tensor {N,H,W,K}. Saves a reference to f (not modified).
// backward: dw (+=), db (+=); df (=), a new tensor. Releases the saved f.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/parameter.h"

namespace pans {

enum class ClassifierKind { Cosine, Linear };

// Inline: the recipe reader (checkpoint/recipe.cpp) needs the names without the layers' kernels,
// e.g. in the fuzz targets of tests/fuzz, which link the parsers only.
inline const char* classifier_kind_name(ClassifierKind kind) {
  return kind == ClassifierKind::Cosine ? "cosine" : "linear";
}

class Classifier {
 public:
  virtual ~Classifier() = default;
  virtual Tensor forward(const Tensor& f) = 0;
  virtual Tensor backward(const Tensor& dlogits) = 0;
  virtual void append_parameters(std::vector<Parameter>& out) const = 0;
};

class CosineClassifier final : public Classifier {
 public:
  CosineClassifier(const std::string& name, std::int64_t channels, std::int64_t classes, const LayerOptions& options);
  Tensor forward(const Tensor& f) override;
  Tensor backward(const Tensor& dlogits) override;
  void append_parameters(std::vector<Parameter>& out) const override;

  Parameter weight;

 private:
  Tensor features_;
};

class LinearClassifier final : public Classifier {
 public:
  LinearClassifier(const std::string& name, std::int64_t channels, std::int64_t classes, const LayerOptions& options);
  Tensor forward(const Tensor& f) override;
  Tensor backward(const Tensor& dlogits) override;
  void append_parameters(std::vector<Parameter>& out) const override;

  Parameter weight;
  Parameter bias;

 private:
  Tensor features_;
};

std::unique_ptr<Classifier> make_classifier(ClassifierKind kind, const std::string& name, std::int64_t channels,
                                            std::int64_t classes, const LayerOptions& options);

}  // namespace pans
