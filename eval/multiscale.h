// Multi-scale test-time evaluation of one image, in the official code's order of operations
// (docs/method.md#5-test-time-protocol-and-anomaly-scores): the segmentation and every anomaly
// score the model's classifier supports, at the image's (= the label's) resolution.
//
// Input sizes. The paper feeds five plain antialiased-bilinear resizes of each 1280x720 image:
// int(720·f) x int(1280·f), each side rounded up to a multiple of 8, for the factors
// f = 300/720, 375/720, 450/720, 525/720, 1000/1280 (CSAIL's short sides 300..600 capped by a long
// side of 1000): 304x536, 376x672, 456x800, 528x936, 568x1000. pans applies the same factors to
// the image it is given, whatever its size: int(H·f) x int(W·f), rounded up to a multiple of 8.
// This reproduces the paper's sizes at 1280x720 exactly and keeps the same proportion of the image
// elsewhere; the embedded 384x216 images get 96x160, 112x200, 136x240, 160x280, 168x304, where
// CSAIL's absolute short sides (300..600) would upscale them 1.4 to 2.8 times. Any other list of
// factors can be given (--scales); the factor 1 alone is single-scale evaluation at the image's
// own size (exactly, whenever its sides are multiples of 8, as StreetHazards' and the embedded
// images' are).
//
// Per scale s, with Up = bilinear upsampling to the image size (align_corners=False):
//   probabilities = mean_s softmax(Up(logits_s))          (upsample the logits, then softmax)
//   segmentation  = argmax_c probabilities                 (ties: the lower class)
// and the anomaly scores, all "higher = more anomalous":
//   MSP            1 − max_c probabilities                  linear classifier (the paper's baseline)
//   cosine+softmax 1 − max_c probabilities                  the same on the cosine classifier's τ·cos
//                                                           logits; this definition is ours
//   max logit      −mean_s Up(max_c logit_s)                linear classifier; max over the classes at
//                                                           1/8 resolution, as PAnS; ours
//   PAnS           1 − mean_s Up((m_s + 1)/2), m_s = max_c cos_c at 1/8 resolution: max over the
//                  classes, then the affine map, then upsample, then average
//   energy         −mean_s Up(logsumexp_c logit_s)          linear classifier; the free energy of
//                                                           Liu et al. (2020) at temperature 1, the
//                                                           logsumexp at 1/8 resolution as max logit
//   entropy        −Σ_c p_c log p_c / log K, p = probabilities   both classifiers; divided by log K
//                                                           so that it lies in [0, 1] (a constant
//                                                           factor: it ranks pixels alike)
// and, with McDropout::passes = T > 0, MC-Dropout (Gal and Ghahramani 2016; the "Dropout" row of
// the paper's Table 1): T stochastic passes of the whole multi-scale protocol in Sample mode (the
// head's dropout active, InPlace-ABN on its running statistics), pass t with the dropout masks of
// mc_dropout_key(image key, t), giving q_t = mean_s softmax(Up(logits_{s,t})); then
//   MC-Dropout           1 − max_c mean_t q_t
//   MC-Dropout variance  mean_c var_t q_t                    (population variance over the passes)
//   MC-Dropout entropy   −Σ_c p̄_c log p̄_c / log K, p̄ = mean_t q_t
// The mean and variance over the passes are Welford's, per element in float32.
// And with ScoreOptions::odin (Liang et al. 2018), per scale: the input x moved against the
// gradient of the cross-entropy of its own argmax at temperature T, summed over the pixels,
// x̂ = x − ε·sign(∇ₓ CE(Up(logits(x))/T, argmax)), one backward through the network (Eval mode);
//   ODIN                 1 − max_c mean_s softmax(Up(logits_s(x̂))/T)
// Max logit is not offered for the cosine classifier: there its logit is τ·cos, so
// −mean_s Up(τ m_s) = 2τ·PAnS − τ (bilinear weights sum to 1), a positive affine map of PAnS that
// ranks every pixel alike and gives the same metrics up to float rounding.
// Every sum over scales accumulates term / n in float32, in scale order, as the reference code's
// `scores += softmax(...) / n` does.
//
// Where the work runs: the network, the 13-channel upsampling and the softmax on the model's device;
// the averages, the 1-channel score maps and the argmax on the CPU. Results are CPU tensors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/image.h"
#include "models/pspnet.h"

namespace pans {

struct InputSize {
  std::int64_t height = 0, width = 0;
  bool operator==(const InputSize& other) const { return height == other.height && width == other.width; }
};

// The paper's five factors (above): 300/720, 375/720, 450/720, 525/720, 1000/1280.
std::vector<double> paper_scale_factors();

// int(side·f) rounded up to a multiple of 8, per side and per factor, in the factors' order.
// Throws pans::Error for a factor that is not positive or gives a side below 8.
std::vector<InputSize> test_input_sizes(std::int64_t height, std::int64_t width, const std::vector<double>& factors);

enum class ScoreKind {
  Msp,
  CosineSoftmax,
  MaxLogit,
  Pans,
  Energy,
  Entropy,
  McDropout,
  McDropoutVariance,
  McDropoutEntropy,
  Odin
};

// "msp", "cosine_softmax", "max_logit", "pans", "energy", "entropy", "mc_dropout", ...
const char* score_kind_name(ScoreKind kind);
// "MSP", "cosine + softmax", "max logit", "PAnS", "energy", "entropy", "MC-Dropout", ...: table rows
const char* score_kind_title(ScoreKind kind);
// The formula, as the tables and JSON state it, flagged "(our definition)" where the official code
// has none (docs/method.md#anomaly-scores).
const char* score_kind_definition(ScoreKind kind);
// Throws pans::Error naming the text and the valid names.
ScoreKind parse_score_kind(const std::string& name);

// ODIN's temperature and step; pytorch-ood's defaults (ε on the normalised input).
struct OdinSettings {
  double temperature = 1000;
  double epsilon = 0.05;
};

// The scores that cost more than the one deterministic pass, computed only when asked for.
struct ScoreOptions {
  int mc_dropout_passes = 0;
  std::optional<OdinSettings> odin;
};

// Linear: MSP, max logit, energy, entropy. Cosine: cosine + softmax, PAnS, entropy. Both, when
// `options` asks for them: the three MC-Dropout scores, then ODIN.
std::vector<ScoreKind> supported_scores(ClassifierKind classifier, const ScoreOptions& options = {});
// The score a classifier is meant to be judged by: MSP for the linear baseline, PAnS for cosine.
ScoreKind default_score(ClassifierKind classifier);
// Whether the score's values lie in [0, 1] (every score but max logit and energy).
bool score_is_bounded(ScoreKind kind);

struct AnomalyMap {
  ScoreKind kind;
  Tensor scores;  // float32 {H,W} on the CPU, higher = more anomalous
};

struct MultiScaleResult {
  Tensor probabilities;             // float32 {H,W,K}: the scale-averaged softmax
  Tensor segmentation;              // uint8 {H,W}: class ids 0..K-1
  std::vector<AnomalyMap> anomaly;  // supported_scores(classifier), in that order

  // The map of `kind`; throws pans::Error when the classifier does not support it.
  const Tensor& scores(ScoreKind kind) const;
};

// The key of pass `pass`'s dropout masks for the image named `image_key` (PspNet::sample_scale).
std::uint64_t mc_dropout_key(const std::string& image_key, int pass);
// An image file's key: its folder's name and its own, "town/name.png", the same wherever the
// dataset lives.
std::string mc_dropout_image_key(const std::string& image_path);

// Evaluates `model` (Eval mode, batch 1) on an RGB image {H,W,3} at `sizes`, averaged in that order,
// and the scores `options` asks for. image_key names the image (mc_dropout_image_key), so that its
// MC-Dropout masks depend on the model seed, the image and the pass only, not on which other images
// are evaluated or in what order.
MultiScaleResult evaluate_multiscale(PspNet& model, const Image& image, const std::vector<InputSize>& sizes,
                                     const ScoreOptions& options = {}, const std::string& image_key = "");

}  // namespace pans
