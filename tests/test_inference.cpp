// The test-time side of PAnS (eval/): the paper's input sizes, the multi-scale averages and the
// anomaly scores recomputed by hand from evaluate_scale calls, score ranges, the StreetHazards
// palette and the heat map, checkpoint loading, the split evaluation, and infer_pans' files and
// error messages (as a library call and as the executable).
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "checkpoint/checkpoint.h"
#include "data/augment.h"
#include "data/png.h"
#include "data/scenes/generator.h"
#include "eval/image_inference.h"
#include "eval/model_loading.h"
#include "eval/split_evaluation.h"
#include "kernels/cross_entropy.h"
#include "kernels/resize.h"
#include "tests/test_helpers.h"
#include "tests/tiny_training.h"
#include "train/train_config.h"

using namespace pans;
using namespace pans::test;
namespace fs = std::filesystem;

namespace {

// The model's structure at toy widths with StreetHazards' 13 classes.
PspNetConfig tiny_model(ClassifierKind classifier) {
  PspNetConfig config;
  config.stem_channels = 4;
  config.widths = {2, 2, 3, 4};
  config.blocks = {1, 1, 1, 1};
  config.head_channels = 4;
  config.classifier = classifier;
  return config;
}

// A fixed RGB image with structure at several frequencies, so the scales see different things.
Image pattern_image(std::int64_t height, std::int64_t width) {
  Image image(height, width, 3);
  for (std::int64_t y = 0; y < height; ++y)
    for (std::int64_t x = 0; x < width; ++x)
      for (std::int64_t c = 0; c < 3; ++c)
        image.at(y, x, c) = std::uint8_t((x * 7 + y * 13 + c * 50 + (x / 5) * (y / 3) * 11) % 256);
  return image;
}

Tensor upsample(const Tensor& low, std::int64_t height, std::int64_t width) {
  return resize_bilinear_forward(low, height, width);
}

// One scale by hand: the network's outputs for `image` resized to `size`.
ScaleOutput scale_output(PspNet& model, const Image& image, InputSize size) {
  return model.evaluate_scale(eval_image(image, size.height, size.width).reshape({1, size.height, size.width, 3}));
}

void check_close(const std::vector<float>& actual, const std::vector<float>& expected, double tolerance) {
  REQUIRE(actual.size() == expected.size());
  double worst = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) worst = std::max(worst, std::abs(double(actual[i]) - expected[i]));
  CHECK(worst <= tolerance);
}

// A train_pans-style checkpoint of `model` (parameters, running statistics, zero momentum buffers).
std::string write_model_checkpoint(const PspNet& model, const std::string& folder) {
  TrainConfig config = cpu_defaults();
  config.model = model.config();
  Checkpoint checkpoint{7, recipe_json(config, 1, 7), {}};
  for (const Parameter& p : model.parameters()) checkpoint.tensors.push_back({p.name, p.value});
  for (const Buffer& b : model.buffers()) checkpoint.tensors.push_back({b.name, b.value});
  for (const Parameter& p : model.parameters())
    checkpoint.tensors.push_back({"momentum." + p.name, Tensor::zeros(p.value.shape())});
  fs::create_directories(folder);
  write_checkpoint(folder, checkpoint);
  return checkpoint_path(folder, 7);
}

// Running statistics away from their initial 0 / 1, so a checkpoint that forgot them would show.
void perturb_running_statistics(PspNet& model) {
  for (const Buffer& b : model.buffers()) {
    Tensor value = b.value;
    float* v = value.data<float>();
    for (std::int64_t i = 0; i < value.numel(); ++i) v[i] = v[i] * 1.5f + 0.01f * float(i % 5);
  }
}

}  // namespace

TEST_CASE("the paper's five factors give its five sizes at 1280x720 and the same proportions elsewhere") {
  const std::vector<InputSize> paper = {{304, 536}, {376, 672}, {456, 800}, {528, 936}, {568, 1000}};
  CHECK(test_input_sizes(720, 1280, paper_scale_factors()) == paper);
  const std::vector<InputSize> embedded = {{96, 160}, {112, 200}, {136, 240}, {160, 280}, {168, 304}};
  CHECK(test_input_sizes(216, 384, paper_scale_factors()) == embedded);
  CHECK(test_input_sizes(216, 384, {1.0}) == std::vector<InputSize>{{216, 384}});
  CHECK(test_input_sizes(45, 70, {1.0}) == std::vector<InputSize>{{48, 72}});  // rounded up to multiples of 8
  check_error_mentions([] { test_input_sizes(216, 384, {0.0}); }, {"scale factor 0", "positive"});
  check_error_mentions([] { test_input_sizes(216, 384, {0.001}); }, {"scale factor 0.001", "too small"});
}

TEST_CASE("score kinds: names round-trip, each classifier gives its own, unknown names are refused") {
  for (const ScoreKind kind : {ScoreKind::Msp, ScoreKind::CosineSoftmax, ScoreKind::MaxLogit, ScoreKind::Pans,
                               ScoreKind::Energy, ScoreKind::Entropy, ScoreKind::McDropout,
                               ScoreKind::McDropoutVariance, ScoreKind::McDropoutEntropy, ScoreKind::Odin})
    CHECK(parse_score_kind(score_kind_name(kind)) == kind);
  CHECK(supported_scores(ClassifierKind::Linear) ==
        std::vector<ScoreKind>{ScoreKind::Msp, ScoreKind::MaxLogit, ScoreKind::Energy, ScoreKind::Entropy});
  CHECK(supported_scores(ClassifierKind::Cosine) ==
        std::vector<ScoreKind>{ScoreKind::CosineSoftmax, ScoreKind::Pans, ScoreKind::Entropy});
  CHECK_FALSE(score_is_bounded(ScoreKind::Energy));
  CHECK(score_is_bounded(ScoreKind::Entropy));
  CHECK(default_score(ClassifierKind::Cosine) == ScoreKind::Pans);
  CHECK(default_score(ClassifierKind::Linear) == ScoreKind::Msp);
  CHECK(std::string(score_kind_definition(ScoreKind::MaxLogit)).find("our definition") != std::string::npos);
  CHECK(std::string(score_kind_definition(ScoreKind::CosineSoftmax)).find("our definition") != std::string::npos);
  check_error_mentions([] { parse_score_kind("sml"); },
                       {"sml", "msp, cosine_softmax, max_logit, pans, energy, entropy, mc_dropout"});
  CHECK(supported_scores(ClassifierKind::Linear, ScoreOptions{0, OdinSettings{}}).back() == ScoreKind::Odin);
}

TEST_CASE(
    "single scale at the image's own size: PAnS = 1 - Up((max_c cos + 1) / 2), cosine + softmax = 1 - max softmax") {
  PspNet model(tiny_model(ClassifierKind::Cosine), {DType::F32, Device::cpu(), 3});
  const Image image = pattern_image(40, 64);
  const MultiScaleResult result = evaluate_multiscale(model, image, test_input_sizes(40, 64, {1.0}));

  const ScaleOutput out = scale_output(model, image, {40, 64});
  const std::vector<float> m = out.max_cosine.to_vector<float>();
  std::vector<float> affine(m.size());
  for (std::size_t i = 0; i < m.size(); ++i) affine[i] = (m[i] + 1.0f) / 2.0f;
  const Tensor low = Tensor::from_vector(affine, {1, out.max_cosine.dim(1), out.max_cosine.dim(2), 1});
  const std::vector<float> up = upsample(low, 40, 64).to_vector<float>();
  std::vector<float> pans(up.size());
  for (std::size_t i = 0; i < up.size(); ++i) pans[i] = 1.0f - up[i];
  CHECK(result.scores(ScoreKind::Pans).shape() == Shape{40, 64});
  check_close(result.scores(ScoreKind::Pans).to_vector<float>(), pans, 0.0);

  const std::vector<float> probabilities = softmax_forward(upsample(out.logits, 40, 64)).to_vector<float>();
  std::vector<float> msp(40 * 64);
  for (std::size_t p = 0; p < msp.size(); ++p)
    msp[p] = 1.0f - *std::max_element(probabilities.begin() + long(p * 13), probabilities.begin() + long(p * 13 + 13));
  check_close(result.scores(ScoreKind::CosineSoftmax).to_vector<float>(), msp, 0.0);
  check_error_mentions([&] { result.scores(ScoreKind::MaxLogit); }, {"max_logit", "does not give it"});
}

TEST_CASE("two scales: every output is the hand-computed average of two evaluate_scale calls") {
  for (const ClassifierKind classifier : {ClassifierKind::Linear, ClassifierKind::Cosine}) {
    CAPTURE(std::string(classifier_kind_name(classifier)));
    PspNet model(tiny_model(classifier), {DType::F32, Device::cpu(), 5});
    const Image image = pattern_image(40, 64);
    const std::vector<InputSize> sizes = {{24, 40}, {48, 80}};
    const MultiScaleResult result = evaluate_multiscale(model, image, sizes);

    const std::size_t pixels = 40 * 64, classes = 13;
    std::vector<float> probabilities(pixels * classes, 0.0f), confidence(pixels, 0.0f), logsumexp(pixels, 0.0f);
    for (const InputSize size : sizes) {
      const ScaleOutput out = scale_output(model, image, size);
      const std::vector<float> p = softmax_forward(upsample(out.logits, 40, 64)).to_vector<float>();
      for (std::size_t i = 0; i < p.size(); ++i) probabilities[i] += p[i] / 2.0f;
      // The per-pixel confidence at 1/8 resolution: (max cos + 1)/2, or the max logit.
      const std::vector<float> logits = out.logits.to_vector<float>();
      std::vector<float> low(logits.size() / classes);
      if (classifier == ClassifierKind::Cosine) {
        const std::vector<float> m = out.max_cosine.to_vector<float>();
        for (std::size_t q = 0; q < low.size(); ++q) low[q] = (m[q] + 1.0f) / 2.0f;
      } else {
        for (std::size_t q = 0; q < low.size(); ++q)
          low[q] = *std::max_element(logits.begin() + long(q * classes), logits.begin() + long((q + 1) * classes));
      }
      const std::vector<float> up =
          upsample(Tensor::from_vector(low, {1, out.logits.dim(1), out.logits.dim(2), 1}), 40, 64).to_vector<float>();
      for (std::size_t i = 0; i < up.size(); ++i) confidence[i] += up[i] / 2.0f;
      // Energy's logsumexp at 1/8 resolution, upsampled like the max logit.
      std::vector<float> low_logsumexp(low.size());
      for (std::size_t q = 0; q < low.size(); ++q) {
        const auto first = logits.begin() + long(q * classes);
        const double top = *std::max_element(first, first + long(classes));
        double sum = 0;
        for (std::size_t c = 0; c < classes; ++c) sum += std::exp(double(first[long(c)]) - top);
        low_logsumexp[q] = float(top + std::log(sum));
      }
      const std::vector<float> up_logsumexp =
          upsample(Tensor::from_vector(low_logsumexp, {1, out.logits.dim(1), out.logits.dim(2), 1}), 40, 64)
              .to_vector<float>();
      for (std::size_t i = 0; i < up_logsumexp.size(); ++i) logsumexp[i] += up_logsumexp[i] / 2.0f;
    }
    check_close(result.probabilities.to_vector<float>(), probabilities, 0.0);
    std::vector<float> max_probability(pixels), segmentation(pixels);
    for (std::size_t p = 0; p < pixels; ++p) {
      const auto begin = probabilities.begin() + long(p * classes);
      const auto top = std::max_element(begin, begin + long(classes));
      max_probability[p] = 1.0f - *top;
      segmentation[p] = float(top - begin);
    }
    std::vector<float> predicted;
    for (const std::uint8_t id : result.segmentation.to_vector<std::uint8_t>()) predicted.push_back(float(id));
    check_close(predicted, segmentation, 0.0);
    std::vector<float> from_confidence(pixels);
    for (std::size_t p = 0; p < pixels; ++p)
      from_confidence[p] = classifier == ClassifierKind::Cosine ? 1.0f - confidence[p] : -confidence[p];
    // Entropy over the averaged probabilities, divided by log 13. Its sum of 13 terms is taken in
    // double on both sides in the same order: exact but for the final float rounding.
    std::vector<float> entropy(pixels);
    for (std::size_t p = 0; p < pixels; ++p) {
      double h = 0;
      for (std::size_t c = 0; c < classes; ++c) {
        const double q = probabilities[p * classes + c];
        if (q > 0) h -= q * std::log(q);
      }
      entropy[p] = float(h / std::log(13.0));
    }
    check_close(result.scores(ScoreKind::Entropy).to_vector<float>(), entropy, 0.0);
    if (classifier == ClassifierKind::Cosine) {
      check_close(result.scores(ScoreKind::CosineSoftmax).to_vector<float>(), max_probability, 0.0);
      check_close(result.scores(ScoreKind::Pans).to_vector<float>(), from_confidence, 0.0);
      check_error_mentions([&] { result.scores(ScoreKind::Energy); }, {"energy", "does not give it"});
    } else {
      check_close(result.scores(ScoreKind::Msp).to_vector<float>(), max_probability, 0.0);
      check_close(result.scores(ScoreKind::MaxLogit).to_vector<float>(), from_confidence, 0.0);
      std::vector<float> energy(pixels);
      for (std::size_t p = 0; p < pixels; ++p) energy[p] = -logsumexp[p];
      check_close(result.scores(ScoreKind::Energy).to_vector<float>(), energy, 0.0);
    }
  }
}

// Without dropout every stochastic pass is the Eval pass: MC-Dropout is MSP (cosine + softmax) bit
// for bit, its variance 0 and its entropy the entropy (Welford's mean of equal values is exact).
// That also shows Sample mode normalising with the running statistics, not the batch's, and
// leaving them as they were.
TEST_CASE("MC-Dropout without dropout: every pass is the Eval pass, and the running statistics stay") {
  for (const ClassifierKind classifier : {ClassifierKind::Linear, ClassifierKind::Cosine}) {
    CAPTURE(std::string(classifier_kind_name(classifier)));
    PspNetConfig config = tiny_model(classifier);
    config.dropout = 0;
    PspNet model(config, {DType::F32, Device::cpu(), 13});
    std::vector<std::vector<float>> statistics;
    for (const Buffer& b : model.buffers()) statistics.push_back(b.value.to_vector<float>());
    const Image image = pattern_image(40, 64);
    const MultiScaleResult result =
        evaluate_multiscale(model, image, {{24, 40}, {48, 80}}, ScoreOptions{3, {}}, "town/a.png");
    REQUIRE(result.anomaly.size() == supported_scores(classifier, ScoreOptions{3, {}}).size());
    const ScoreKind msp = classifier == ClassifierKind::Cosine ? ScoreKind::CosineSoftmax : ScoreKind::Msp;
    check_close(result.scores(ScoreKind::McDropout).to_vector<float>(), result.scores(msp).to_vector<float>(), 0.0);
    check_close(result.scores(ScoreKind::McDropoutEntropy).to_vector<float>(),
                result.scores(ScoreKind::Entropy).to_vector<float>(), 0.0);
    for (const float v : result.scores(ScoreKind::McDropoutVariance).to_vector<float>()) REQUIRE(v == 0.0f);
    const std::vector<Buffer> after = model.buffers();
    for (std::size_t i = 0; i < after.size(); ++i) CHECK(after[i].value.to_vector<float>() == statistics[i]);
  }
}

// With the head's dropout (p = 0.5 here, so that two passes surely differ), two passes at one
// scale by hand: q_t = softmax(Up(logits of sample_scale with mc_dropout_key(key, t)))). Tolerance
// 1e-6: the hand mean (q_0 + q_1) / 2 and variance ((q_1 - q_0) / 2)^2 against Welford's updates,
// a few float32 roundings of values in [0, 1] (each at most 6e-8), and the variance's mean over
// 13 classes in double.
TEST_CASE("MC-Dropout: two passes by hand, reproducible, the masks keyed by the image") {
  PspNetConfig config = tiny_model(ClassifierKind::Linear);
  config.dropout = 0.5;
  PspNet model(config, {DType::F32, Device::cpu(), 17});
  const Image image = pattern_image(40, 64);
  const std::vector<InputSize> one_scale = {{40, 64}};
  const MultiScaleResult result = evaluate_multiscale(model, image, one_scale, ScoreOptions{2, {}}, "town/a.png");
  const std::size_t pixels = 40 * 64, classes = 13;
  const Tensor input = eval_image(image, 40, 64).reshape({1, 40, 64, 3});
  std::vector<std::vector<float>> q;
  for (int t = 0; t < 2; ++t)
    q.push_back(softmax_forward(upsample(model.sample_scale(input, mc_dropout_key("town/a.png", t)).logits, 40, 64))
                    .to_vector<float>());
  CHECK(q[0] != q[1]);
  std::vector<float> mc(pixels), variance(pixels);
  for (std::size_t p = 0; p < pixels; ++p) {
    float best = 0;
    double sum = 0;
    for (std::size_t c = 0; c < classes; ++c) {
      const float a = q[0][p * classes + c], b = q[1][p * classes + c];
      best = std::max(best, (a + b) / 2);
      sum += double((b - a) / 2) * double((b - a) / 2);
    }
    mc[p] = 1 - best;
    variance[p] = float(sum / double(classes));
  }
  check_close(result.scores(ScoreKind::McDropout).to_vector<float>(), mc, 1e-6);
  check_close(result.scores(ScoreKind::McDropoutVariance).to_vector<float>(), variance, 1e-6);

  const MultiScaleResult again = evaluate_multiscale(model, image, one_scale, ScoreOptions{2, {}}, "town/a.png");
  CHECK(again.scores(ScoreKind::McDropout).to_vector<float>() ==
        result.scores(ScoreKind::McDropout).to_vector<float>());
  const MultiScaleResult other = evaluate_multiscale(model, image, one_scale, ScoreOptions{2, {}}, "town/b.png");
  CHECK(other.scores(ScoreKind::McDropout).to_vector<float>() !=
        result.scores(ScoreKind::McDropout).to_vector<float>());
  CHECK(mc_dropout_image_key("/data/test/images/test/t5/a.png") == "t5/a.png");
  check_error_mentions(
      [&] {
        evaluate_multiscale(model, image, one_scale, ScoreOptions{-1, {}}, "x");
      },
      {"-1 MC-Dropout passes"});
}

// ODIN at temperature 1 with no step is MSP (cosine + softmax) bit for bit: the perturbed input is
// the input, and dividing by 1 changes nothing. With a step, one scale by hand from the model's own
// pieces (forward, the images' gradient, the perturbed forward): the same operations, so exact.
TEST_CASE("ODIN: no step at T = 1 is MSP, and a step by hand") {
  for (const ClassifierKind classifier : {ClassifierKind::Linear, ClassifierKind::Cosine}) {
    CAPTURE(std::string(classifier_kind_name(classifier)));
    PspNet model(tiny_model(classifier), {DType::F32, Device::cpu(), 19});
    const Image image = pattern_image(40, 64);
    const ScoreKind msp = classifier == ClassifierKind::Cosine ? ScoreKind::CosineSoftmax : ScoreKind::Msp;
    const MultiScaleResult plain =
        evaluate_multiscale(model, image, {{24, 40}, {48, 80}}, ScoreOptions{0, OdinSettings{1.0, 0.0}});
    check_close(plain.scores(ScoreKind::Odin).to_vector<float>(), plain.scores(msp).to_vector<float>(), 0.0);

    const double temperature = 10, epsilon = 0.1;
    const MultiScaleResult odin =
        evaluate_multiscale(model, image, {{40, 64}}, ScoreOptions{0, OdinSettings{temperature, epsilon}});
    const Tensor input = eval_image(image, 40, 64).reshape({1, 40, 64, 3});
    std::vector<float> tempered = model.forward(input, Mode::Eval, 0).logits.to_vector<float>();
    for (float& v : tempered) v = float(double(v) * (1.0 / temperature));
    const Tensor logits = Tensor::from_vector(tempered, {1, 40, 64, 13});
    std::vector<std::uint8_t> argmax(40 * 64);
    for (std::size_t p = 0; p < argmax.size(); ++p)
      argmax[p] = std::uint8_t(std::max_element(tempered.begin() + long(13 * p), tempered.begin() + long(13 * p + 13)) -
                               (tempered.begin() + long(13 * p)));
    Tensor dlogits = Tensor::empty(logits.shape());
    softmax_cross_entropy(logits, Tensor::from_vector(argmax, {1, 40, 64}), dlogits);
    const std::vector<float> g = model.backward_to_images(dlogits).to_vector<float>();
    std::vector<float> x = input.to_vector<float>();
    std::size_t moved = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      x[i] -= g[i] > 0 ? float(epsilon) : g[i] < 0 ? -float(epsilon) : 0.0f;
      moved += g[i] != 0;
    }
    CHECK(moved > x.size() / 2);
    std::vector<float> perturbed_logits =
        upsample(model.evaluate_scale(Tensor::from_vector(x, input.shape())).logits, 40, 64).to_vector<float>();
    for (float& v : perturbed_logits) v = float(double(v) * (1.0 / temperature));
    const std::vector<float> p =
        softmax_forward(Tensor::from_vector(perturbed_logits, {40, 64, 13})).to_vector<float>();
    std::vector<float> expected(40 * 64);
    for (std::size_t q = 0; q < expected.size(); ++q)
      expected[q] = 1.0f - *std::max_element(p.begin() + long(13 * q), p.begin() + long(13 * q + 13));
    check_close(odin.scores(ScoreKind::Odin).to_vector<float>(), expected, 0.0);
    CHECK(odin.scores(ScoreKind::Odin).to_vector<float>() != plain.scores(ScoreKind::Odin).to_vector<float>());
  }
}

TEST_CASE("the bounded scores lie in [0, 1] at the paper's five scales, and max logit and energy are finite") {
  for (const ClassifierKind classifier : {ClassifierKind::Linear, ClassifierKind::Cosine}) {
    PspNet model(tiny_model(classifier), {DType::F32, Device::cpu(), 11});
    const Image image = pattern_image(72, 128);
    const MultiScaleResult result = evaluate_multiscale(model, image, test_input_sizes(72, 128, paper_scale_factors()));
    REQUIRE(result.anomaly.size() == supported_scores(classifier).size());
    for (const AnomalyMap& map : result.anomaly) {
      CAPTURE(score_kind_name(map.kind));
      CHECK(map.scores.shape() == Shape{72, 128});
      for (const float s : map.scores.to_vector<float>()) {
        REQUIRE(std::isfinite(s));
        if (score_is_bounded(map.kind)) REQUIRE((s >= 0.0f && s <= 1.0f));
      }
    }
  }
}

TEST_CASE("the segmentation palette is docs/data_format.md's, and the heat map ramp runs dark to bright") {
  const std::vector<std::vector<int>> palette = {{0, 0, 0},      {70, 70, 70},    {190, 153, 153}, {250, 170, 160},
                                                 {220, 20, 60},  {153, 153, 153}, {157, 234, 50},  {128, 64, 128},
                                                 {244, 35, 232}, {107, 142, 35},  {0, 0, 142},     {102, 102, 156},
                                                 {220, 220, 0},  {60, 250, 240}};
  std::vector<std::uint8_t> ids;
  for (int id = 0; id < 14; ++id) ids.push_back(std::uint8_t(id));
  const Image colors = colorize_segmentation(Tensor::from_vector(ids, {1, 14}));
  for (int id = 0; id < 14; ++id) {
    CAPTURE(id);
    for (int c = 0; c < 3; ++c) CHECK(int(colors.at(0, id, c)) == palette[std::size_t(id)][std::size_t(c)]);
  }

  const streethazards::Rgb bottom = inferno_color(0), top = inferno_color(1), middle = inferno_color(0.5);
  CHECK((bottom.r == 0 && bottom.g == 0 && bottom.b == 4));
  CHECK((top.r == 252 && top.g == 255 && top.b == 164));
  CHECK((middle.r == 188 && middle.g == 55 && middle.b == 84));
  double previous = -1;
  for (int i = 0; i <= 100; ++i) {  // luma rises monotonically: brighter = more anomalous
    const streethazards::Rgb c = inferno_color(i / 100.0);
    const double luma = 0.299 * c.r + 0.587 * c.g + 0.114 * c.b;
    CHECK(luma >= previous);
    previous = luma;
  }
  const Tensor scores = Tensor::from_vector(std::vector<float>{-0.5f, 0.0f, 0.5f, 2.0f}, {2, 2});
  const Image fixed = heat_map(scores, HeatRange::Fixed), relative = heat_map(scores, HeatRange::PerImage);
  CHECK(fixed.at(0, 0, 2) == 4);       // clamped to 0
  CHECK(fixed.at(1, 1, 2) == 164);     // clamped to 1
  CHECK(relative.at(0, 0, 2) == 4);    // the minimum
  CHECK(relative.at(1, 1, 2) == 164);  // the maximum
  CHECK(relative.at(0, 1, 0) == inferno_color(0.2).r);
  Image white(2, 2, 3, 255);
  const Image blended = overlay(white, fixed, 0.5);
  CHECK(blended.at(1, 1, 2) == 210);  // (255 + 164) / 2 rounded
}

TEST_CASE("a checkpoint loads into the network it describes, with the same outputs, and bad ones are named") {
  TempDir dir;
  PspNet original(tiny_model(ClassifierKind::Linear), {DType::F32, Device::cpu(), 9});
  perturb_running_statistics(original);
  const std::string path = write_model_checkpoint(original, dir / "run");
  const LoadedModel loaded = load_model(path, Device::cpu());
  CHECK(loaded.iteration == 7);
  CHECK(loaded.model->config().classifier == ClassifierKind::Linear);
  const Image image = pattern_image(32, 48);
  const ScaleOutput a = scale_output(original, image, {32, 48}), b = scale_output(*loaded.model, image, {32, 48});
  CHECK(a.logits.to_vector<float>() == b.logits.to_vector<float>());

  check_error_mentions([&] { load_model(dir / "missing.bin", Device::cpu()); }, {dir / "missing.bin"});
  Checkpoint no_recipe = read_checkpoint(path);
  no_recipe.config = {{"lr", 0.02}};
  no_recipe.iteration = 8;
  write_checkpoint(dir / "run", no_recipe);
  check_error_mentions([&] { load_model(checkpoint_path(dir / "run", 8), Device::cpu()); },
                       {checkpoint_path(dir / "run", 8), "no \"model\""});
  // A recipe of a network wider than the file's tensors is refused before the network is built.
  Checkpoint huge = read_checkpoint(path);
  huge.config["model"]["head_channels"] = 65536;
  huge.iteration = 9;
  write_checkpoint(dir / "run", huge);
  check_error_mentions([&] { load_model(checkpoint_path(dir / "run", 9), Device::cpu()); },
                       {checkpoint_path(dir / "run", 9), "describes a network of", "holds only"});
}

TEST_CASE("evaluate_split: every image of a generated test split, into the confusion matrix and per-score metrics") {
  TempDir dir;
  scenes::generate_if_missing(dir / "scenes", tiny_scenes(1, 1, 3), 1);
  const StreetHazards test(dir / "scenes", Split::Test);
  PspNet model(tiny_model(ClassifierKind::Cosine), {DType::F32, Device::cpu(), 2});
  std::ostringstream progress;
  const SplitEvaluation evaluation = evaluate_split(model, test, {0.75, 1.0}, progress, ProgressStyle::Lines);
  CHECK(evaluation.images == 3);
  std::int64_t known_pixels = 0;
  for (std::int64_t i = 0; i < test.size(); ++i)
    for (const std::uint8_t id : test.load(i).label.pixels) known_pixels += id < 13;
  CHECK(evaluation.confusion.total() == known_pixels);
  REQUIRE(evaluation.anomaly.size() == 3);
  CHECK(evaluation.anomaly[0].first == ScoreKind::CosineSoftmax);
  CHECK(evaluation.anomaly[1].first == ScoreKind::Pans);
  CHECK(evaluation.anomaly[2].first == ScoreKind::Entropy);
  for (const auto& [kind, accumulator] : evaluation.anomaly) {
    const AnomalyResult result = accumulator.result();
    CHECK(result.images + result.skipped_images == 3);
    CHECK((result.auroc >= 0 && result.auroc <= 100));
  }
  CHECK(progress.str().find("3/3 images") != std::string::npos);
}

TEST_CASE("run_inference writes segmentation, heat map, overlay (and .npy) per image of a folder, sub-folders kept") {
  TempDir dir;
  const PspNet model(tiny_model(ClassifierKind::Cosine), {DType::F32, Device::cpu(), 4});
  InferenceRequest request;
  request.checkpoint = write_model_checkpoint(model, dir / "run");
  request.input = dir / "images";
  request.out = dir / "out";
  request.write_npy = true;
  fs::create_directories(dir / "images/sub");
  write_png(dir / "images/a.png", pattern_image(40, 64));
  write_png(dir / "images/sub/b.PNG", pattern_image(48, 56));
  std::ostringstream console;
  const InferenceSummary summary = run_inference(request, console, ProgressStyle::Lines);
  CHECK(summary.images == 2);
  CHECK(summary.score == ScoreKind::Pans);
  for (const auto& [stem, height, width] : {std::tuple{"a", 40, 64}, std::tuple{"sub/b", 48, 56}}) {
    CAPTURE(stem);
    for (const char* suffix : {"_segmentation.png", "_anomaly.png", "_overlay.png"}) {
      const Image written = read_rgb_png(dir / ("out/" + std::string(stem) + suffix));
      CHECK(written.height == height);
      CHECK(written.width == width);
    }
    CHECK(fs::file_size(dir / ("out/" + std::string(stem) + "_anomaly.npy")) == 128 + 4u * height * width);
  }
  CHECK(console.str().find("2/2 images") != std::string::npos);
}

// A StreetHazards label PNG (value = class id + 1): road everywhere, an anomaly block at rows 2..5,
// columns 3..9, and PNG 0 (ignore) at the top-left pixel.
Image label_png(std::int64_t height, std::int64_t width) {
  Image label(height, width, 1, std::uint8_t(streethazards::kRoad + 1));
  for (std::int64_t y = 2; y < 6; ++y)
    for (std::int64_t x = 3; x < 10; ++x) label.at(y, x) = std::uint8_t(streethazards::kAnomaly + 1);
  label.at(0, 0) = 0;
  return label;
}

TEST_CASE(
    "run_inference --labels writes the ground truth in the palette per image paired by stem and names bad pairs") {
  TempDir dir;
  const PspNet model(tiny_model(ClassifierKind::Cosine), {DType::F32, Device::cpu(), 4});
  InferenceRequest request;
  request.checkpoint = write_model_checkpoint(model, dir / "run");
  request.input = dir / "images";
  request.out = dir / "out";
  request.labels = dir / "labels";
  request.scale_factors = {1.0};
  fs::create_directories(dir / "images/sub");
  fs::create_directories(dir / "labels/town");  // a different layout from the images': only stems pair
  write_png(dir / "images/a.png", pattern_image(40, 64));
  write_png(dir / "images/sub/b.PNG", pattern_image(48, 56));
  write_png(dir / "labels/town/a.png", label_png(40, 64));
  write_png(dir / "labels/b.png", label_png(48, 56));
  std::ostringstream console;
  CHECK(run_inference(request, console, ProgressStyle::Lines).images == 2);
  for (const auto& [stem, height, width] : {std::tuple{"a", 40, 64}, std::tuple{"sub/b", 48, 56}}) {
    CAPTURE(stem);
    const std::string path = dir / ("out/" + std::string(stem) + "_labels.png");
    REQUIRE(fs::exists(path));
    const Image labels = read_rgb_png(path);
    CHECK(labels.height == height);
    CHECK(labels.width == width);
    const auto color_at = [&](std::int64_t y, std::int64_t x) {
      return std::vector<int>{labels.at(y, x, 0), labels.at(y, x, 1), labels.at(y, x, 2)};
    };
    CHECK(color_at(3, 5) == std::vector<int>{60, 250, 240});    // anomaly: the palette's anomaly colour
    CHECK(color_at(20, 30) == std::vector<int>{128, 64, 128});  // road
    CHECK(color_at(0, 0) == std::vector<int>{0, 0, 0});         // ignore: black, not the palette's white
  }

  const auto run = [&](const InferenceRequest& r) {
    return [&console, r] { run_inference(r, console, ProgressStyle::Lines); };
  };
  write_png(dir / "images/c.png", pattern_image(40, 64));
  check_error_mentions(run(request), {dir / "images/c.png", "no label c.png", dir / "labels"});
  write_png(dir / "labels/c.png", label_png(40, 48));
  check_error_mentions(run(request), {dir / "images/c.png", dir / "labels/c.png", "40x48", "40x64"});
  write_png(dir / "labels/town/c.png", label_png(40, 64));
  check_error_mentions(run(request), {dir / "images/c.png", dir / "labels/c.png", dir / "labels/town/c.png"});
  InferenceRequest no_folder = request;
  no_folder.labels = dir / "no_labels";
  check_error_mentions(run(no_folder), {"--labels", dir / "no_labels"});
}

TEST_CASE("run_inference: bad input gives an error naming the file or setting") {
  TempDir dir;
  const PspNet model(tiny_model(ClassifierKind::Linear), {DType::F32, Device::cpu(), 4});
  const std::string checkpoint = write_model_checkpoint(model, dir / "run");
  fs::create_directories(dir / "images");
  fs::create_directories(dir / "empty");
  write_png(dir / "images/a.png", pattern_image(40, 64));
  std::ostringstream console;
  const auto request = [&](const std::string& checkpoint_file, const std::string& input) {
    InferenceRequest r;
    r.checkpoint = checkpoint_file;
    r.input = input;
    r.out = dir / "out";
    return r;
  };
  const auto run = [&](const InferenceRequest& r) {
    return [&console, r] { run_inference(r, console, ProgressStyle::Lines); };
  };

  check_error_mentions(run(request(dir / "none.bin", dir / "images")), {dir / "none.bin"});
  {
    std::vector<char> bytes(fs::file_size(checkpoint));
    std::ifstream(checkpoint, std::ios::binary).read(bytes.data(), std::streamsize(bytes.size()));
    std::ofstream(dir / "cut.bin", std::ios::binary).write(bytes.data(), std::streamsize(bytes.size() / 2));
  }
  check_error_mentions(run(request(dir / "cut.bin", dir / "images")), {dir / "cut.bin"});
  check_error_mentions(run(request(checkpoint, dir / "empty")), {dir / "empty", "no .png"});
  check_error_mentions(run(request(checkpoint, dir / "nothing_here")), {dir / "nothing_here", "no such"});
  std::ofstream(dir / "images/broken.png") << "not a png";
  check_error_mentions(run(request(checkpoint, dir / "images")), {dir / "images/broken.png"});
  InferenceRequest wrong_score = request(checkpoint, dir / "images/a.png");
  wrong_score.score = ScoreKind::Pans;
  check_error_mentions(run(wrong_score), {"--score pans", "linear", "msp, max_logit, energy, entropy"});
  wrong_score.score = ScoreKind::McDropout;
  check_error_mentions(run(wrong_score), {"--score mc_dropout", "need --mc-passes"});
  InferenceRequest fixed_max_logit = request(checkpoint, dir / "images/a.png");
  fixed_max_logit.score = ScoreKind::MaxLogit;
  fixed_max_logit.heat_range = HeatRange::Fixed;
  check_error_mentions(run(fixed_max_logit), {"--heat-range fixed", "max_logit"});
}

TEST_CASE("infer_pans: outputs for a file, and a one-line error with a non-zero exit for a missing checkpoint") {
  TempDir dir;
  const PspNet model(tiny_model(ClassifierKind::Cosine), {DType::F32, Device::cpu(), 4});
  const std::string checkpoint = write_model_checkpoint(model, dir / "run");
  write_png(dir / "street.png", pattern_image(40, 64));
  const std::string common = std::string(PANS_INFER_PANS) + " --device cpu --threads 1 --input " + dir / "street.png" +
                             " --out " + dir / "out" + " --scales 1,0.5";
  const int ok = std::system((common + " --checkpoint " + checkpoint + " > " + dir / "ok.txt 2>&1").c_str());
  CHECK(WEXITSTATUS(ok) == 0);
  CHECK(fs::exists(dir / "out/street_overlay.png"));

  const int failed =
      std::system((common + " --checkpoint " + dir / "gone.bin" + " > /dev/null 2> " + dir / "err.txt").c_str());
  CHECK(WEXITSTATUS(failed) != 0);
  std::ifstream errors(dir / "err.txt");
  const std::string text{std::istreambuf_iterator<char>(errors), std::istreambuf_iterator<char>()};
  CAPTURE(text);
  CHECK(text.find(dir / "gone.bin") != std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
}
