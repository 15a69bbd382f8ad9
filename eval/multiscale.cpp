#include "eval/multiscale.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "data/augment.h"
#include "kernels/cross_entropy.h"
#include "kernels/resize.h"

namespace pans {
namespace {

// CSAIL's padding_constant: the network's output stride, so every input side gives whole feature cells.
constexpr std::int64_t kInputMultiple = 8;

std::int64_t round_up(std::int64_t value, std::int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

Tensor on_cpu(const Tensor& tensor) { return tensor.device().is_cpu() ? tensor : tensor.to(Device::cpu()); }

// mean_s of per-scale maps: each term divided by n, then added, in scale order.
class ScaleAverage {
 public:
  ScaleAverage(const Shape& shape, std::int64_t scales) : sum_(Tensor::zeros(shape)), scales_(float(scales)) {}

  void add(const Tensor& term) {
    PANS_CHECK(term.numel() == sum_.numel() && term.device().is_cpu(), "ScaleAverage: ", term.describe("term"),
               " for a mean of shape ", shape_str(sum_.shape()));
    const Tensor dense = term.is_contiguous() ? term : term.clone();
    const float* values = dense.data<float>();
    float* sum = sum_.data<float>();
    for (std::int64_t i = 0; i < sum_.numel(); ++i) sum[i] += values[i] / scales_;
  }
  const Tensor& mean() const { return sum_; }

 private:
  Tensor sum_;
  float scales_;
};

// A {1,h,w,1} CPU map from f applied to each pixel's K values of low-resolution logits or to its
// one value of a {1,h,w} map: the per-pixel reductions that happen before upsampling.
template <class PixelFn>
Tensor low_resolution_map(const Tensor& values, std::int64_t per_pixel, PixelFn f) {
  Tensor dense = on_cpu(values);
  if (!dense.is_contiguous()) dense = dense.clone();
  Tensor map = Tensor::empty({1, dense.dim(1), dense.dim(2), 1});
  const float* in = dense.data<float>();
  float* out = map.data<float>();
  for (std::int64_t p = 0; p < map.numel(); ++p) out[p] = f(in + p * per_pixel);
  return map;
}

float max_of(const float* values, std::int64_t count) { return *std::max_element(values, values + count); }

// log Σ exp over `count` values, from their maximum so that no exp overflows; in double.
float logsumexp_of(const float* values, std::int64_t count) {
  const double top = max_of(values, count);
  double sum = 0;
  for (std::int64_t c = 0; c < count; ++c) sum += std::exp(double(values[c]) - top);
  return float(top + std::log(sum));
}

// −Σ_c p_c log p_c / log K over each pixel's K probabilities, {H,W}; 0 log 0 = 0.
Tensor normalised_entropy(const Tensor& probabilities) {
  const std::int64_t classes = probabilities.dim(2);
  Tensor scores = Tensor::empty({probabilities.dim(0), probabilities.dim(1)});
  const float* p = probabilities.data<float>();
  float* out = scores.data<float>();
  const double log_classes = std::log(double(classes));
  for (std::int64_t i = 0; i < scores.numel(); ++i) {
    double entropy = 0;
    for (std::int64_t c = 0; c < classes; ++c) {
      const double q = p[i * classes + c];
      if (q > 0) entropy -= q * std::log(q);
    }
    out[i] = float(entropy / log_classes);
  }
  return scores;
}

// 1 − max_c over each pixel's K probabilities, {H,W}.
Tensor one_minus_max_probability(const Tensor& probabilities) {
  const std::int64_t classes = probabilities.dim(2);
  Tensor scores = Tensor::empty({probabilities.dim(0), probabilities.dim(1)});
  const float* p = probabilities.data<float>();
  float* out = scores.data<float>();
  for (std::int64_t i = 0; i < scores.numel(); ++i) out[i] = 1.0f - max_of(p + i * classes, classes);
  return scores;
}

// offset + sign · mean, {H,W}: turns an averaged confidence into "higher = more anomalous".
Tensor affine_scores(const Tensor& mean, float offset, float sign) {
  Tensor scores = Tensor::empty({mean.dim(1), mean.dim(2)});
  const float* m = mean.data<float>();
  float* out = scores.data<float>();
  for (std::int64_t i = 0; i < scores.numel(); ++i) out[i] = offset + sign * m[i];
  return scores;
}

Tensor argmax_classes(const Tensor& probabilities) {
  const std::int64_t classes = probabilities.dim(2);
  Tensor ids = Tensor::empty({probabilities.dim(0), probabilities.dim(1)}, DType::U8);
  const float* p = probabilities.data<float>();
  std::uint8_t* out = ids.data<std::uint8_t>();
  for (std::int64_t i = 0; i < ids.numel(); ++i) {
    const float* pixel = p + i * classes;
    out[i] = std::uint8_t(std::max_element(pixel, pixel + classes) - pixel);  // the first maximum
  }
  return ids;
}

}  // namespace

std::vector<double> paper_scale_factors() {
  return {300.0 / 720.0, 375.0 / 720.0, 450.0 / 720.0, 525.0 / 720.0, 1000.0 / 1280.0};
}

std::vector<InputSize> test_input_sizes(std::int64_t height, std::int64_t width, const std::vector<double>& factors) {
  PANS_CHECK(!factors.empty(), "test_input_sizes: no scale factor");
  std::vector<InputSize> sizes;
  for (const double factor : factors) {
    PANS_CHECK(factor > 0, "scale factor ", factor, ": must be positive");
    // int() truncates, as Python's int(720·s) in the reference.
    const InputSize size{round_up(std::int64_t(double(height) * factor), kInputMultiple),
                         round_up(std::int64_t(double(width) * factor), kInputMultiple)};
    PANS_CHECK(size.height >= kInputMultiple && size.width >= kInputMultiple, "scale factor ", factor, " turns a ",
               height, "x", width, " image into ", size.height, "x", size.width, ": too small for the network");
    sizes.push_back(size);
  }
  return sizes;
}

const char* score_kind_name(ScoreKind kind) {
  switch (kind) {
    case ScoreKind::Msp:
      return "msp";
    case ScoreKind::CosineSoftmax:
      return "cosine_softmax";
    case ScoreKind::MaxLogit:
      return "max_logit";
    case ScoreKind::Pans:
      return "pans";
    case ScoreKind::Energy:
      return "energy";
    case ScoreKind::Entropy:
      return "entropy";
    case ScoreKind::McDropout:
      return "mc_dropout";
    case ScoreKind::McDropoutVariance:
      return "mc_dropout_variance";
    case ScoreKind::McDropoutEntropy:
      return "mc_dropout_entropy";
    case ScoreKind::Odin:
      return "odin";
  }
  PANS_FAIL("score_kind_name: unknown ScoreKind ", int(kind));
}

const char* score_kind_title(ScoreKind kind) {
  switch (kind) {
    case ScoreKind::Msp:
      return "MSP";
    case ScoreKind::CosineSoftmax:
      return "cosine + softmax";
    case ScoreKind::MaxLogit:
      return "max logit";
    case ScoreKind::Pans:
      return "PAnS";
    case ScoreKind::Energy:
      return "energy";
    case ScoreKind::Entropy:
      return "entropy";
    case ScoreKind::McDropout:
      return "MC-Dropout";
    case ScoreKind::McDropoutVariance:
      return "MC-Dropout variance";
    case ScoreKind::McDropoutEntropy:
      return "MC-Dropout entropy";
    case ScoreKind::Odin:
      return "ODIN";
  }
  PANS_FAIL("score_kind_title: unknown ScoreKind ", int(kind));
}

const char* score_kind_definition(ScoreKind kind) {
  switch (kind) {
    case ScoreKind::Msp:
      return "MSP: 1 - max_c mean_s softmax(Up(logits_s)), linear classifier";
    case ScoreKind::CosineSoftmax:
      return "cosine + softmax: 1 - max_c mean_s softmax(Up(tau cos_s)), cosine classifier (our definition)";
    case ScoreKind::MaxLogit:
      return "max logit: -mean_s Up(max_c logit_s), linear classifier, max at 1/8 resolution (our definition)";
    case ScoreKind::Pans:
      return "PAnS: 1 - mean_s Up((max_c cos_s + 1) / 2), max at 1/8 resolution";
    case ScoreKind::Energy:
      return "energy: -mean_s Up(logsumexp_c logit_s), linear classifier, logsumexp at 1/8 resolution";
    case ScoreKind::Entropy:
      return "entropy: -sum_c p_c log p_c / log K of the scale-averaged softmax p (divided by log K: in [0, 1])";
    case ScoreKind::McDropout:
      return "MC-Dropout: 1 - max_c mean_t q_t, q_t = mean_s softmax(Up(logits_s)) of stochastic pass t";
    case ScoreKind::McDropoutVariance:
      return "MC-Dropout variance: mean_c var_t q_t over the stochastic passes";
    case ScoreKind::McDropoutEntropy:
      return "MC-Dropout entropy: -sum_c p_c log p_c / log K of p = mean_t q_t";
    case ScoreKind::Odin:
      return "ODIN: 1 - max_c mean_s softmax(Up(logits_s(x - eps sign(grad_x CE(Up(logits)/T, argmax))))/T)";
  }
  PANS_FAIL("score_kind_definition: unknown ScoreKind ", int(kind));
}

ScoreKind parse_score_kind(const std::string& name) {
  for (const ScoreKind kind : {ScoreKind::Msp, ScoreKind::CosineSoftmax, ScoreKind::MaxLogit, ScoreKind::Pans,
                               ScoreKind::Energy, ScoreKind::Entropy, ScoreKind::McDropout,
                               ScoreKind::McDropoutVariance, ScoreKind::McDropoutEntropy, ScoreKind::Odin})
    if (name == score_kind_name(kind)) return kind;
  PANS_FAIL("score ", name,
            ": not one of msp, cosine_softmax, max_logit, pans, energy, entropy, mc_dropout, mc_dropout_variance, "
            "mc_dropout_entropy, odin");
}

std::vector<ScoreKind> supported_scores(ClassifierKind classifier, const ScoreOptions& options) {
  std::vector<ScoreKind> kinds =
      classifier == ClassifierKind::Cosine
          ? std::vector<ScoreKind>{ScoreKind::CosineSoftmax, ScoreKind::Pans, ScoreKind::Entropy}
          : std::vector<ScoreKind>{ScoreKind::Msp, ScoreKind::MaxLogit, ScoreKind::Energy, ScoreKind::Entropy};
  if (options.mc_dropout_passes > 0)
    for (const ScoreKind kind : {ScoreKind::McDropout, ScoreKind::McDropoutVariance, ScoreKind::McDropoutEntropy})
      kinds.push_back(kind);
  if (options.odin) kinds.push_back(ScoreKind::Odin);
  return kinds;
}

ScoreKind default_score(ClassifierKind classifier) {
  return classifier == ClassifierKind::Cosine ? ScoreKind::Pans : ScoreKind::Msp;
}

bool score_is_bounded(ScoreKind kind) { return kind != ScoreKind::MaxLogit && kind != ScoreKind::Energy; }

namespace {

// The network's input at one test size, on the model's device.
Tensor network_input(const PspNet& model, const Image& image, const InputSize& size) {
  Tensor input = eval_image(image, size.height, size.width).reshape({1, size.height, size.width, 3});
  return model.options().device.is_cpu() ? input : input.to(model.options().device);
}

// Welford's mean and M2 over MC-Dropout's passes, per element of the {H,W,K} probabilities.
class PassStatistics {
 public:
  explicit PassStatistics(const Shape& shape) : mean_(Tensor::zeros(shape)), m2_(Tensor::zeros(shape)) {}

  void add(const Tensor& q) {
    ++passes_;
    const float* values = q.data<float>();
    float* mean = mean_.data<float>();
    float* m2 = m2_.data<float>();
    for (std::int64_t i = 0; i < mean_.numel(); ++i) {
      const float delta = values[i] - mean[i];
      mean[i] += delta / float(passes_);
      m2[i] += delta * (values[i] - mean[i]);
    }
  }
  const Tensor& mean() const { return mean_; }
  // mean_c of the population variance over the passes, {H,W}.
  Tensor mean_variance() const {
    const std::int64_t classes = m2_.dim(2);
    Tensor scores = Tensor::empty({m2_.dim(0), m2_.dim(1)});
    const float* m2 = m2_.data<float>();
    float* out = scores.data<float>();
    for (std::int64_t p = 0; p < scores.numel(); ++p) {
      double sum = 0;
      for (std::int64_t c = 0; c < classes; ++c) sum += m2[p * classes + c];
      out[p] = float(sum / double(classes) / double(passes_));
    }
    return scores;
  }

 private:
  Tensor mean_, m2_;
  int passes_ = 0;
};

// softmax(Up(logits)) of one scale's 1/8-resolution logits, on the CPU: the upsampling and the
// softmax of the 13 channels run on the logits' device.
Tensor upsampled_softmax(const Tensor& low_logits, std::int64_t height, std::int64_t width) {
  return on_cpu(softmax_forward(resize_bilinear_forward(low_logits, height, width)));
}

// A CPU float32 copy of `values` times `factor`.
Tensor scaled(const Tensor& values, double factor) {
  Tensor out = on_cpu(values).clone();
  float* v = out.data<float>();
  for (std::int64_t i = 0; i < out.numel(); ++i) v[i] = float(double(v[i]) * factor);
  return out;
}

// ODIN's input: x − ε·sign(∇ₓ CE(Up(logits(x))/T, argmax)), the loss summed over the pixels (its
// gradient's sign does not depend on the sum's scale, so the mean softmax_cross_entropy takes does
// as well), on the model's device.
Tensor odin_input(PspNet& model, const Tensor& input, const OdinSettings& odin) {
  const Tensor logits = scaled(model.forward(input, Mode::Eval, 0).logits, 1.0 / odin.temperature);
  const Tensor labels = argmax_classes(logits.reshape({logits.dim(1), logits.dim(2), logits.dim(3)}))
                            .reshape({1, logits.dim(1), logits.dim(2)});
  Tensor dlogits = Tensor::empty(logits.shape());
  softmax_cross_entropy(logits, labels, dlogits);
  const Device device = model.options().device;
  const Tensor dimages = on_cpu(model.backward_to_images(device.is_cpu() ? dlogits : dlogits.to(device)));
  Tensor perturbed = on_cpu(input).clone();
  float* x = perturbed.data<float>();
  const float* g = dimages.data<float>();
  const float step = float(odin.epsilon);
  for (std::int64_t i = 0; i < perturbed.numel(); ++i) x[i] -= g[i] > 0 ? step : g[i] < 0 ? -step : 0.0f;
  return device.is_cpu() ? perturbed : perturbed.to(device);
}

}  // namespace

std::uint64_t mc_dropout_key(const std::string& image_key, int pass) {
  return name_stream("mc_dropout/" + image_key + "/" + std::to_string(pass));
}

std::string mc_dropout_image_key(const std::string& image_path) {
  const std::filesystem::path path(image_path);
  return (path.parent_path().filename() / path.filename()).generic_string();
}

const Tensor& MultiScaleResult::scores(ScoreKind kind) const {
  for (const AnomalyMap& map : anomaly)
    if (map.kind == kind) return map.scores;
  PANS_FAIL("score ", score_kind_name(kind), ": this model's classifier does not give it");
}

MultiScaleResult evaluate_multiscale(PspNet& model, const Image& image, const std::vector<InputSize>& sizes,
                                     const ScoreOptions& options, const std::string& image_key) {
  PANS_CHECK(image.channels == 3, "evaluate_multiscale: an RGB image has 3 channels, not ", image.channels);
  PANS_CHECK(!sizes.empty(), "evaluate_multiscale: no input size");
  PANS_CHECK(model.options().dtype == DType::F32, "evaluate_multiscale: the model must be float32");
  PANS_CHECK(options.mc_dropout_passes >= 0, "evaluate_multiscale: ", options.mc_dropout_passes, " MC-Dropout passes");
  PANS_CHECK(!options.odin || (options.odin->temperature > 0 && options.odin->epsilon >= 0),
             "evaluate_multiscale: ODIN needs a temperature > 0 and an epsilon >= 0");
  const bool cosine = model.config().classifier == ClassifierKind::Cosine;
  const std::int64_t height = image.height, width = image.width, classes = model.config().classes;
  const std::int64_t scales = std::int64_t(sizes.size());

  ScaleAverage probabilities({height, width, classes}, scales);
  ScaleAverage confidence({1, height, width, 1}, scales);  // PAnS (m+1)/2, or the max logit
  ScaleAverage logsumexp({1, height, width, 1}, scales);   // linear classifier: energy's
  for (const InputSize& size : sizes) {
    const ScaleOutput out = model.evaluate_scale(network_input(model, image, size));
    probabilities.add(upsampled_softmax(out.logits, height, width));
    if (cosine) {
      confidence.add(resize_bilinear_forward(
          low_resolution_map(out.max_cosine, 1, [](const float* m) { return (*m + 1.0f) / 2.0f; }), height, width));
    } else {
      const Tensor logits = on_cpu(out.logits);  // once for both per-pixel reductions
      confidence.add(resize_bilinear_forward(
          low_resolution_map(logits, classes, [&](const float* l) { return max_of(l, classes); }), height, width));
      logsumexp.add(resize_bilinear_forward(
          low_resolution_map(logits, classes, [&](const float* l) { return logsumexp_of(l, classes); }), height,
          width));
    }
  }

  MultiScaleResult result;
  result.probabilities = probabilities.mean();
  result.segmentation = argmax_classes(result.probabilities);
  const Tensor max_probability_scores = one_minus_max_probability(result.probabilities);
  if (cosine) {
    result.anomaly.push_back({ScoreKind::CosineSoftmax, max_probability_scores});
    result.anomaly.push_back({ScoreKind::Pans, affine_scores(confidence.mean(), 1.0f, -1.0f)});
  } else {
    result.anomaly.push_back({ScoreKind::Msp, max_probability_scores});
    result.anomaly.push_back({ScoreKind::MaxLogit, affine_scores(confidence.mean(), 0.0f, -1.0f)});
    result.anomaly.push_back({ScoreKind::Energy, affine_scores(logsumexp.mean(), 0.0f, -1.0f)});
  }
  result.anomaly.push_back({ScoreKind::Entropy, normalised_entropy(result.probabilities)});

  if (options.mc_dropout_passes > 0) {
    PassStatistics passes({height, width, classes});
    for (int t = 0; t < options.mc_dropout_passes; ++t) {
      ScaleAverage q({height, width, classes}, scales);
      for (const InputSize& size : sizes) {
        const ScaleOutput out = model.sample_scale(network_input(model, image, size), mc_dropout_key(image_key, t));
        q.add(upsampled_softmax(out.logits, height, width));
      }
      passes.add(q.mean());
    }
    result.anomaly.push_back({ScoreKind::McDropout, one_minus_max_probability(passes.mean())});
    result.anomaly.push_back({ScoreKind::McDropoutVariance, passes.mean_variance()});
    result.anomaly.push_back({ScoreKind::McDropoutEntropy, normalised_entropy(passes.mean())});
  }
  if (options.odin) {
    ScaleAverage tempered({height, width, classes}, scales);
    for (const InputSize& size : sizes) {
      const Tensor perturbed = odin_input(model, network_input(model, image, size), *options.odin);
      const Tensor logits = on_cpu(resize_bilinear_forward(model.evaluate_scale(perturbed).logits, height, width));
      tempered.add(softmax_forward(scaled(logits, 1.0 / options.odin->temperature)));
    }
    result.anomaly.push_back({ScoreKind::Odin, one_minus_max_probability(tempered.mean())});
  }
  return result;
}

}  // namespace pans
