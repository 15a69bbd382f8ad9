// PspNet: the PAnS segmentation network (docs/method.md#3-model): ResNetBackbone ("body.*") ->
// PspHead ("head.*") -> classifiers at 1/8 resolution ("cls.cls", and "cls.cls_deepsup" for deep
// supervision), cosine (PAnS) or linear (baseline) by config.classifier -> logits upsampled
// bilinearly (align_corners=False) to the input size.
//
// Use (train_pans):
//   PspNet model(PspNetConfig::resnet50_d8(), {DType::F32, device, seed});
//   for (const Parameter& p : model.parameters()) optimizer.add(p.value, p.grad);
//   model.zero_grad();
//   PspNetOutput out = model.forward(images, Mode::Train, iteration);
//   loss = softmax_cross_entropy(out.logits, labels, dlogits)
//        + softmax_cross_entropy(out.deep_supervision_logits, labels, ddeep, 255, 0.4);
//   model.backward(dlogits, ddeep);  // data parallel: with a GradientAverager (dist/gradient_averager.h)
//   optimizer.step(lr);
// Checkpoints: parameters() and buffers() name every tensor to save; copy_from() into their
// values restores them. Evaluation: evaluate_scale() per test scale
// (docs/method.md#5-test-time-protocol-and-anomaly-scores).
//
// Buffer ownership. Every tensor a backward needs is saved by the layer that needs it, by
// reference (Tensor shares memory): a convolution saves its input; an iABN normalises its input
// (the convolution's output) in place and saves that memory as its output z, so conv output and
// iABN output are one buffer, also saved by the next convolution as its input; a residual add
// writes a new tensor (the block output); dropout writes a new tensor; the pyramid concat is a new
// tensor; classifiers save their input features. Nothing is copied, and nothing saved is written
// to before its backward, which releases it. The saved tensors live from forward to backward (or
// to the next forward).
// Gradients: activation gradients are written (=) into fresh tensors or, where an op allows it,
// over the incoming gradient, which is then consumed; parameter gradients accumulate (+=) into
// Parameter::grad, allocated once at construction and zeroed by zero_grad().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/classifier.h"
#include "models/gradient_ready.h"
#include "models/psp_head.h"
#include "models/pspnet_config.h"
#include "models/resnet_backbone.h"

namespace pans {

struct PspNetOutput {
  Tensor logits;                   // {N,H,W,K} at the input size
  Tensor deep_supervision_logits;  // the same from layer3; Train mode with deep supervision only
};

// One test scale's outputs at 1/8 resolution, before any upsampling.
struct ScaleOutput {
  Tensor logits;      // {N,h,w,K}
  Tensor max_cosine;  // {N,h,w}: m = max_c cos_c (cosine classifier only), the PAnS anomaly input
};

class PspNet {
 public:
  PspNet(const PspNetConfig& config, const LayerOptions& options);

  // images {N,H,W,3}, normalised. step (the training iteration) picks the dropout masks in Train
  // mode; Eval ignores it.
  PspNetOutput forward(const Tensor& images, Mode mode, std::uint64_t step);
  // dlogits (and ddeep_supervision_logits, or an undefined tensor to leave that branch out) at the
  // input size, the gradients of the loss with respect to forward's outputs (read, not modified).
  // `ready` hears of every parameter once, as soon as its gradient is final (models/gradient_ready.h),
  // roughly in the reverse of parameters()' order: cls, head, body from layer4 down to the stem.
  void backward(const Tensor& dlogits, const Tensor& ddeep_supervision_logits, const GradientReadyHook& ready = {});
  // The gradient with respect to the images of the last forward (any mode; the deep-supervision
  // branch left out), from dlogits at the input size: what ODIN perturbs its input along. Parameter
  // gradients accumulate as in backward.
  Tensor backward_to_images(const Tensor& dlogits);

  // Eval-mode forward for multi-scale testing: the 1/8-resolution logits, and for the cosine
  // classifier the per-pixel maximum cosine similarity, for the anomaly score
  // 1 - mean_s Up((m_s + 1) / 2) (docs/method.md#anomaly-scores). Like forward, it keeps the
  // tensors a backward would need until the next forward.
  ScaleOutput evaluate_scale(const Tensor& images);
  // The same in Sample mode (layers/parameter.h): running statistics, the head's dropout active
  // with the masks of `dropout_key`, one stochastic pass of MC-Dropout.
  ScaleOutput sample_scale(const Tensor& images, std::uint64_t dropout_key);

  std::vector<Parameter> parameters() const;  // in a fixed order: body, head, cls
  std::vector<Buffer> buffers() const;        // the running statistics
  std::int64_t parameter_count() const;
  void zero_grad();

  SpatialSizes spatial_sizes(std::int64_t input_size) const { return backbone_.spatial_sizes(input_size); }
  const PspNetConfig& config() const { return config_; }
  const LayerOptions& options() const { return options_; }

 private:
  struct LowResolutionLogits {
    Tensor main, deep_supervision;
  };
  LowResolutionLogits forward_low_resolution(const Tensor& images, Mode mode, std::uint64_t step);
  ScaleOutput scale_output(const Tensor& images, Mode mode, std::uint64_t step);
  Tensor backward_through(const Tensor& dlogits, const Tensor& ddeep_supervision_logits, const GradientReadyHook& ready,
                          InputGradient images);
  Tensor downsample_gradient(const Tensor& dlogits) const;

  PspNetConfig config_;
  LayerOptions options_;
  ResNetBackbone backbone_;
  PspHead head_;
  std::unique_ptr<Classifier> classifier_;
  std::unique_ptr<Classifier> deep_supervision_classifier_;  // null without deep supervision
  Shape low_resolution_logits_shape_;                        // of the last forward, for backward
};

}  // namespace pans
