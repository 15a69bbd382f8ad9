// The PAnS network of models/: gradients of a residual block, of the PSP head and of a whole tiny
// network against central differences in float64; the full ResNet-50-D8 PSPNet's spatial sizes,
// parameter count and names; Train/Eval differences; a short training run whose loss falls.
//
// Tolerance: tests/gradcheck.h's |a - n| / max(1, |a|, |n|) < 1e-6 on every checked element. The
// leaky ReLU kinks of iABN and of the residual add (and max-pool switches) cannot all be kept away
// from a 1e-6 step deep inside a network, so these checks use tests/kink_gradcheck.h: an element
// whose central difference straddles a kink must match a second-order one-sided difference within
// the same 1e-6 instead, and only a handful of such elements (counted, bounded per test) may.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "kernels/cross_entropy.h"
#include "kernels/random.h"
#include "models/pspnet.h"
#include "optim/sgd.h"
#include "tests/gradcheck.h"
#include "tests/kink_gradcheck.h"
#include "tests/tiny_model.h"

using namespace pans;
using pans::test::kGradientTolerance;

namespace {

const LayerOptions kFloat64{DType::F64, Device::cpu(), 7};

// The toy model (tests/tiny_model.h) with dropout on at p = 0.2, its mask fixed by the step.
PspNetConfig tiny_config(ClassifierKind classifier) {
  PspNetConfig config = test::tiny_pspnet_config();
  config.classifier = classifier;
  config.dropout = 0.2;
  return config;
}

// Class ids 0..classes-1 with every 7th pixel ignored (255), fixed.
Tensor fixed_labels(std::int64_t batch, std::int64_t height, std::int64_t width, int classes) {
  std::vector<std::uint8_t> labels(std::size_t(batch * height * width));
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = i % 7 == 3 ? 255 : std::uint8_t((i * 5 / 3) % classes);
  return Tensor::from_vector(labels, {batch, height, width});
}

// Cross-entropy of the main logits plus 0.4 x that of the deep-supervision logits
// (docs/method.md#loss); with backward, the model's parameter gradients receive its gradient.
double segmentation_loss(PspNet& model, const Tensor& images, const Tensor& labels, std::uint64_t step, bool backward) {
  const PspNetOutput out = model.forward(images, Mode::Train, step);
  Tensor dmain = Tensor::empty(out.logits.shape(), out.logits.dtype());
  Tensor ddeep = Tensor::empty(out.deep_supervision_logits.shape(), out.logits.dtype());
  const double loss = softmax_cross_entropy(out.logits, labels, dmain) +
                      softmax_cross_entropy(out.deep_supervision_logits, labels, ddeep, kIgnoreLabel, 0.4);
  if (backward) model.backward(dmain, ddeep);
  return loss;
}

std::vector<test::CheckedTensor> checked_parameters(const std::vector<Parameter>& parameters) {
  std::vector<test::CheckedTensor> checked;
  for (const Parameter& p : parameters) checked.push_back({p.name, p.value, p.grad});
  return checked;
}

void check_result(const test::KinkAwareResult& result, std::int64_t max_near_kink) {
  INFO(result.worst);
  INFO(result.checked, " elements checked, ", result.near_kink, " near a kink");
  CHECK(result.max_error < kGradientTolerance);
  CHECK(result.near_kink <= max_near_kink);
}

std::int64_t conv_parameters(std::int64_t k, std::int64_t in, std::int64_t out) { return k * k * in * out; }

// The parameter count of docs/method.md#parameter-count, counted here layer by layer independently
// of the model code: convolution weights, 2 per iABN channel, the classifiers.
std::int64_t expected_parameter_count(const PspNetConfig& c) {
  std::int64_t total = conv_parameters(7, 3, c.stem_channels) + 2 * c.stem_channels;
  std::int64_t in = c.stem_channels;
  for (int layer = 0; layer < 4; ++layer)
    for (int block = 0; block < c.blocks[std::size_t(layer)]; ++block) {
      const std::int64_t w = c.widths[std::size_t(layer)], out = 4 * w;
      total += conv_parameters(1, in, w) + conv_parameters(3, w, w) + conv_parameters(1, w, out) + 2 * (w + w + out);
      if ((layer == 1 && block == 0) || in != out) total += conv_parameters(1, in, out) + 2 * out;
      in = out;
    }
  const std::int64_t bins = std::int64_t(c.pyramid_bins.size()), head = c.head_channels;
  total += bins * (conv_parameters(1, in, head) + 2 * head);
  total += conv_parameters(3, in + bins * head, head) + 2 * head;
  total += conv_parameters(3, 4 * c.widths[2], head) + 2 * head;  // deep supervision
  const std::int64_t per_classifier = c.classes * head + (c.classifier == ClassifierKind::Linear ? c.classes : 0);
  return total + 2 * per_classifier;
}

}  // namespace

TEST_CASE("Bottleneck: input and parameter gradients with and without projection, with dilation") {
  struct Case {
    std::string name;
    BottleneckConfig config;
    bool projection;
    Shape output;
  };
  const Case cases[] = {
      {"projection, stride 2 (first block of layer2)", {6, 3, 2, 1}, true, {2, 5, 5, 12}},
      {"identity shortcut, dilation 2", {12, 3, 1, 2}, false, {2, 9, 9, 12}},
      {"projection, dilation 4 (first block of layer4)", {8, 3, 1, 4}, true, {2, 9, 9, 12}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Bottleneck block("body.mod3.block1", c.config, kFloat64);
    CHECK(block.has_projection() == c.projection);
    Tensor x = test::random_tensor({2, 9, 9, c.config.in_channels}, 1);
    const Tensor out = block.forward(x, Mode::Train);
    REQUIRE(out.shape() == c.output);
    CHECK(block.output_size(9) == c.output[1]);
    const Tensor g = test::random_tensor(out.shape(), 2);
    const Tensor dx = block.backward(g.clone());
    std::vector<Parameter> parameters;
    block.append_parameters(parameters);
    REQUIRE(parameters.size() == (c.projection ? 12u : 9u));  // 3 convs + 3 iABNs (+ projection)
    CHECK(parameters[0].name == "body.mod3.block1.convs.conv1.weight");
    CHECK(parameters[8].name == "body.mod3.block1.convs.bn3.bias");
    if (c.projection) CHECK(parameters[9].name == "body.mod3.block1.proj_conv.weight");
    std::vector<test::CheckedTensor> checked = checked_parameters(parameters);
    checked.push_back({"x", x, dx});
    check_result(
        test::check_gradients_near_kinks(checked, [&] { return test::weighted_sum(block.forward(x, Mode::Train), g); }),
        3);
  }
}

TEST_CASE("PspHead: gradients at layer3 and layer4 and of every head parameter") {
  const PspNetConfig config = tiny_config(ClassifierKind::Cosine);
  PspHead head("head", config, kFloat64);
  BackboneFeatures features{test::random_tensor({2, 5, 5, 12}, 1), test::random_tensor({2, 5, 5, 16}, 2)};
  const HeadFeatures out = head.forward(features, Mode::Train, 3);
  REQUIRE(out.main.shape() == Shape{2, 5, 5, 4});
  REQUIRE(out.deep_supervision.shape() == Shape{2, 5, 5, 4});
  const Tensor g_main = test::random_tensor(out.main.shape(), 3), g_deep = test::random_tensor(out.main.shape(), 4);
  const BackboneFeatures d = head.backward(g_main.clone(), g_deep.clone());
  std::vector<Parameter> parameters;
  head.append_parameters(parameters);
  std::vector<test::CheckedTensor> checked = checked_parameters(parameters);
  checked.push_back({"layer3", features.layer3, d.layer3});
  checked.push_back({"layer4", features.layer4, d.layer4});
  auto loss = [&] {
    const HeadFeatures f = head.forward(features, Mode::Train, 3);
    return test::weighted_sum(f.main, g_main) + test::weighted_sum(f.deep_supervision, g_deep);
  };
  check_result(test::check_gradients_near_kinks(checked, loss), 3);
}

TEST_CASE("tiny model end to end: every parameter's gradient of CE(main) + 0.4 CE(deep-sup)") {
  for (ClassifierKind kind : {ClassifierKind::Cosine, ClassifierKind::Linear}) {
    CAPTURE(std::string(classifier_kind_name(kind)));
    PspNet model(tiny_config(kind), kFloat64);
    const Tensor images = test::random_tensor({2, 17, 17, 3}, 1);
    const Tensor labels = fixed_labels(2, 17, 17, 3);
    constexpr std::uint64_t kStep = 5;  // fixes the dropout masks for every forward of the check
    model.zero_grad();
    segmentation_loss(model, images, labels, kStep, true);
    const std::vector<Parameter> parameters = model.parameters();
    check_result(
        test::check_gradients_near_kinks(checked_parameters(parameters),
                                         [&] { return segmentation_loss(model, images, labels, kStep, false); }),
        8);
  }
}

// ODIN's input gradient: the images' gradient of an Eval forward, against finite differences of
// the images themselves (kink-tolerant, tests/kink_gradcheck.h), both classifiers.
TEST_CASE("tiny model: the gradient with respect to the images of an Eval forward") {
  for (ClassifierKind kind : {ClassifierKind::Cosine, ClassifierKind::Linear}) {
    CAPTURE(std::string(classifier_kind_name(kind)));
    PspNet model(tiny_config(kind), kFloat64);
    Tensor images = test::random_tensor({1, 17, 17, 3}, 3);
    const Tensor g = test::random_tensor({1, 17, 17, model.config().classes}, 4);
    const auto loss = [&] { return test::weighted_sum(model.forward(images, Mode::Eval, 0).logits, g); };
    loss();
    const Tensor dimages = model.backward_to_images(g);
    REQUIRE(dimages.same_shape(images));
    check_result(test::check_gradients_near_kinks({{"images", images, dimages}}, loss), 8);
  }
}

TEST_CASE("full ResNet-50-D8 PSPNet: spatial sizes for 450, 512 and 720x1280 inputs") {
  const PspNet model(PspNetConfig::resnet50_d8(), {});
  const SpatialSizes s450 = model.spatial_sizes(450);
  CHECK(s450.stem == 225);
  CHECK(s450.pool == 113);
  CHECK(s450.layer1 == 113);
  CHECK(s450.layer2 == 57);
  CHECK(s450.layer3 == 57);
  CHECK(s450.layer4 == 57);
  const SpatialSizes s512 = model.spatial_sizes(512);
  CHECK(s512.stem == 256);
  CHECK(s512.pool == 128);
  CHECK(s512.layer2 == 64);
  CHECK(s512.layer4 == 64);
  CHECK(model.spatial_sizes(720).layer4 == 90);
  CHECK(model.spatial_sizes(1280).layer4 == 160);
}

TEST_CASE("full ResNet-50-D8 PSPNet: a real forward gives logits at the input size, 1/8 inside") {
  PspNet model(PspNetConfig::resnet50_d8(), {});
  Tensor images = Tensor::empty({2, 33, 41, 3});
  fill_normal(images, 1, 1, 0.0, 1.0);
  const PspNetOutput out = model.forward(images, Mode::Train, 0);
  CHECK(out.logits.shape() == Shape{2, 33, 41, 13});
  CHECK(out.deep_supervision_logits.shape() == Shape{2, 33, 41, 13});
  const ScaleOutput scale = model.evaluate_scale(images);
  CHECK(scale.logits.shape() == Shape{2, model.spatial_sizes(33).layer4, model.spatial_sizes(41).layer4, 13});
  CHECK(scale.logits.dim(1) == 5);
  CHECK(scale.logits.dim(2) == 6);
}

TEST_CASE("full ResNet-50-D8 PSPNet: parameter count and PAnS parameter names") {
  // docs/method.md#parameter-count: 51,255,488 convolution and classifier weights (the
  // deep-supervision 3x3 is 1024 -> 512, as PAnS's cbr_deepsup) and 59,264 iABN weights and biases.
  // The "48.9 M conv params" of the layer count in docs/benchmarks.md#flop-count gives that 3x3
  // only 256 outputs (2,359,296 + 6,656 fewer weights).
  for (ClassifierKind kind : {ClassifierKind::Cosine, ClassifierKind::Linear}) {
    CAPTURE(std::string(classifier_kind_name(kind)));
    const PspNetConfig config = PspNetConfig::resnet50_d8(kind);
    const PspNet model(config, {});
    const std::int64_t count = model.parameter_count();
    MESSAGE(std::string(classifier_kind_name(kind)), " classifier: ", count, " parameters");
    CHECK(count == expected_parameter_count(config));
    CHECK(config.parameter_count() == count);
    CHECK(count == (kind == ClassifierKind::Cosine ? 51314752 : 51314778));
    std::int64_t iabn = 0;
    for (const Parameter& p : model.parameters())
      if (p.value.ndim() == 1 && p.name.find(".cls") == std::string::npos) iabn += p.value.numel();
    CHECK(iabn == 59264);

    const std::vector<Parameter> parameters = model.parameters();
    std::set<std::string> names;
    for (const Parameter& p : parameters) names.insert(p.name);
    CHECK(names.size() == parameters.size());
    for (const char* name :
         {"body.mod1.conv1.weight", "body.mod1.bn1.weight", "body.mod2.block1.convs.conv1.weight",
          "body.mod2.block1.proj_conv.weight", "body.mod4.block6.convs.bn3.bias", "body.mod5.block3.convs.conv2.weight",
          "head.ppm.3.1.weight", "head.ppm.3.2.bias", "head.conv_last.0.weight", "head.conv_last.1.weight",
          "head.cbr_deepsup.0.weight", "cls.cls.weight", "cls.cls_deepsup.weight"})
      CHECK_MESSAGE(names.count(name) == 1, name);
    CHECK(names.count("body.mod2.block2.proj_conv.weight") == 0);
    CHECK(names.count("body.mod4.block1.proj_conv.weight") == 1);
    auto shape_of = [&](const std::string& name) {
      for (const Parameter& p : parameters)
        if (p.name == name) return p.value.shape();
      return Shape{};
    };
    CHECK(shape_of("head.conv_last.0.weight") == Shape{512, 3, 3, 4096});
    CHECK(shape_of("head.cbr_deepsup.0.weight") == Shape{512, 3, 3, 1024});
    CHECK(shape_of("body.mod3.block1.convs.conv2.weight") == Shape{128, 3, 3, 128});
    CHECK(shape_of("cls.cls.weight") == Shape{13, 512});
    CHECK(names.count("cls.cls.bias") == (kind == ClassifierKind::Linear ? 1u : 0u));

    const std::vector<Buffer> buffers = model.buffers();
    CHECK(buffers.size() == 2 * (1 + 3 * 3 + 4 * 3 + 6 * 3 + 3 * 3 + 4 + 4 + 1 + 1));  // every iABN
    CHECK(buffers.front().name == "body.mod1.bn1.running_mean");
  }
}

TEST_CASE("small preset: the same structure at 1/8 of the widths, one block per layer") {
  const PspNetConfig config = PspNetConfig::small();
  const PspNet model(config, {});
  CHECK(model.parameter_count() == expected_parameter_count(config));
  CHECK(config.parameter_count() == model.parameter_count());
  CHECK(model.parameter_count() == 565000);
  PspNetConfig without = PspNetConfig::small(ClassifierKind::Linear);
  without.deep_supervision = false;
  CHECK(without.parameter_count() == PspNet(without, {}).parameter_count());
  CHECK(model.spatial_sizes(450).layer4 == 57);
}

TEST_CASE("tiny model: Train and Eval modes") {
  PspNet model(tiny_config(ClassifierKind::Cosine), kFloat64);
  const Tensor images = test::random_tensor({2, 17, 17, 3}, 1);
  auto buffer_values = [&] {
    std::vector<std::vector<double>> values;
    for (const Buffer& b : model.buffers()) values.push_back(b.value.to_vector<double>());
    return values;
  };
  const auto initial = buffer_values();

  const PspNetOutput eval = model.forward(images, Mode::Eval, 0);
  CHECK_FALSE(eval.deep_supervision_logits.defined());
  CHECK(buffer_values() == initial);  // Eval reads the running statistics, never writes them
  CHECK(model.forward(images, Mode::Eval, 0).logits.to_vector<double>() == eval.logits.to_vector<double>());
  // Eval normalises each image alone: image 0's logits do not depend on image 1.
  const std::vector<double> alone =
      model.forward(images.narrow(0, 0, 1).clone(), Mode::Eval, 0).logits.to_vector<double>();
  const std::vector<double> batched = eval.logits.to_vector<double>();
  for (std::size_t i = 0; i < alone.size(); ++i) CHECK(alone[i] == doctest::Approx(batched[i]).epsilon(1e-12));

  const PspNetOutput train = model.forward(images, Mode::Train, 0);
  CHECK(train.deep_supervision_logits.defined());
  CHECK(buffer_values() != initial);  // Train moved the running statistics toward the batch's
  CHECK(train.logits.to_vector<double>() != eval.logits.to_vector<double>());
  const auto after_one_step = buffer_values();
  model.forward(images, Mode::Eval, 0);
  CHECK(buffer_values() == after_one_step);
}

TEST_CASE("tiny model: parameter gradients accumulate over backward calls, and zero_grad clears them") {
  PspNet model(tiny_config(ClassifierKind::Linear), kFloat64);
  const Tensor images = test::random_tensor({2, 17, 17, 3}, 1);
  const Tensor labels = fixed_labels(2, 17, 17, 3);
  model.zero_grad();
  segmentation_loss(model, images, labels, 1, true);
  std::vector<std::vector<double>> once;
  for (const Parameter& p : model.parameters()) once.push_back(p.grad.to_vector<double>());
  segmentation_loss(model, images, labels, 1, true);
  const std::vector<Parameter> parameters = model.parameters();
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    const std::vector<double> twice = parameters[k].grad.to_vector<double>();
    for (std::size_t i = 0; i < twice.size(); ++i) CHECK(twice[i] == doctest::Approx(2 * once[k][i]).epsilon(1e-9));
  }
  model.zero_grad();
  for (const Parameter& p : model.parameters())
    for (double g : p.grad.to_vector<double>()) CHECK(g == 0.0);
}

TEST_CASE("tiny model: initial weights depend on the seed only") {
  const PspNet a(tiny_config(ClassifierKind::Cosine), kFloat64), b(tiny_config(ClassifierKind::Cosine), kFloat64);
  const PspNet other(tiny_config(ClassifierKind::Cosine), {DType::F64, Device::cpu(), 8});
  const std::vector<Parameter> pa = a.parameters(), pb = b.parameters(), po = other.parameters();
  REQUIRE(pa.size() == pb.size());
  bool any_differs = false;
  for (std::size_t k = 0; k < pa.size(); ++k) {
    CHECK(pa[k].name == pb[k].name);
    CHECK(pa[k].value.to_vector<double>() == pb[k].value.to_vector<double>());
    any_differs = any_differs || pa[k].value.to_vector<double>() != po[k].value.to_vector<double>();
  }
  CHECK(any_differs);
}

TEST_CASE("evaluate_scale: 1/8-resolution logits and the max cosine similarity of PAnS") {
  const Tensor images = test::random_tensor({2, 17, 17, 3}, 1);
  PspNet cosine(tiny_config(ClassifierKind::Cosine), kFloat64);
  const ScaleOutput out = cosine.evaluate_scale(images);
  REQUIRE(out.logits.shape() == Shape{2, 3, 3, 3});
  REQUIRE(out.max_cosine.shape() == Shape{2, 3, 3});
  const std::vector<double> logits = out.logits.to_vector<double>(), m = out.max_cosine.to_vector<double>();
  for (std::size_t p = 0; p < m.size(); ++p) {
    const double largest = std::max({logits[3 * p], logits[3 * p + 1], logits[3 * p + 2]});
    CHECK(m[p] == doctest::Approx(largest / 10.0).epsilon(1e-12));
    CHECK(std::abs(m[p]) <= 1.0 + 1e-12);
  }
  PspNet linear(tiny_config(ClassifierKind::Linear), kFloat64);
  CHECK_FALSE(linear.evaluate_scale(images).max_cosine.defined());
}

TEST_CASE("small preset trains: the loss on one fixed batch falls (float32, Nesterov SGD)") {
  PspNet model(PspNetConfig::small(), {DType::F32, Device::cpu(), 42});
  Tensor images = Tensor::empty({2, 48, 48, 3});
  fill_normal(images, 3, 3, 0.0, 1.0);
  // Labels that the images predict: the class of a pixel is the band of its first channel's value.
  std::vector<std::uint8_t> labels(2 * 48 * 48);
  const std::vector<float> pixels = images.to_vector<float>();
  for (std::size_t i = 0; i < labels.size(); ++i)
    labels[i] = std::uint8_t(std::clamp(int(std::floor(pixels[3 * i] * 2 + 2)), 0, 3));
  const Tensor label_tensor = Tensor::from_vector(labels, {2, 48, 48});

  SgdOptimizer optimizer(0.9, 1e-4);
  for (const Parameter& p : model.parameters()) optimizer.add(p.value, p.grad);
  std::vector<double> losses;
  for (std::uint64_t step = 0; step < 30; ++step) {
    optimizer.zero_grad();
    losses.push_back(segmentation_loss(model, images, label_tensor, step, true));
    optimizer.step(0.01);
  }
  MESSAGE("loss: first ", losses.front(), ", last ", losses.back());
  CHECK(std::isfinite(losses.back()));
  CHECK(losses.back() < 0.7 * losses.front());
}
