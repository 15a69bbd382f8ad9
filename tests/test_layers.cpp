// The layers of layers/: each backward against central differences in float64 through the layer
// object (saved tensors, accumulation, modes), plus what the ops' own tests cannot see: buffer
// ownership, initialisation, naming, reproducible dropout.
//
// Tolerances: tests/gradcheck.h's error |a - n| / max(1, |a|, |n|) < 1e-6 (kGradientTolerance).
// Leaky ReLU kinks: single layers are checked on inputs whose pre-activations are all farther
// than 1e-3 from 0 (checked, not assumed), where a 1e-6 step cannot cross the kink; the pyramid
// pooling, whose iABN pre-activations are internal, uses tests/kink_gradcheck.h, whose own test
// closes this file.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/dropout.h"
#include "kernels/random.h"
#include "layers/classifier.h"
#include "layers/conv2d.h"
#include "layers/cudnn_batch_norm_activation.h"
#include "layers/dropout2d.h"
#include "layers/gradient_sum.h"
#include "layers/inplace_abn.h"
#include "layers/max_pool.h"
#include "layers/pyramid_pooling.h"
#include "layers/residual_add_leaky.h"
#include "tests/gradcheck.h"
#include "tests/kink_gradcheck.h"

using namespace pans;
using pans::test::kGradientTolerance;

namespace {

const LayerOptions kFloat64{DType::F64, Device::cpu(), 7};
constexpr double kKinkMargin = 1e-3;
constexpr double kLeakySlope = 0.01;

// The leaky ReLU's input, recovered from its output (slope > 0 keeps the sign).
double preactivation(double z) { return z >= 0 ? z : z / kLeakySlope; }

double min_abs_preactivation(const Tensor& z) {
  double smallest = INFINITY;
  for (double value : z.to_vector<double>()) smallest = std::min(smallest, std::abs(preactivation(value)));
  return smallest;
}

double mean_of(const std::vector<double>& values) {
  double sum = 0;
  for (double value : values) sum += value;
  return sum / double(values.size());
}

std::vector<double> channel_values(const Tensor& x, std::int64_t channel) {
  const std::vector<double> all = x.to_vector<double>();
  std::vector<double> values;
  for (std::size_t i = std::size_t(channel); i < all.size(); i += std::size_t(x.dim(3))) values.push_back(all[i]);
  return values;
}

std::vector<Parameter> parameters_of(const Conv2d& conv) {
  std::vector<Parameter> out;
  conv.append_parameters(out);
  return out;
}

}  // namespace

TEST_CASE("Conv2d: input, weight and bias gradients (stride 2, padding 2, dilation 2)") {
  Conv2d conv("conv", {3, 4, 3, {2, 2, 2}, true}, kFloat64);
  Tensor x = test::random_tensor({2, 7, 9, 3}, 1);
  fill_uniform(conv.bias.value, 5, 5, -0.5, 0.5);  // a nonzero bias, so the forward's bias term is exercised
  const Tensor y = conv.forward(x);
  CHECK(y.shape() == Shape{2, 4, 5, 4});
  CHECK(conv.output_size(7) == 4);
  const Tensor g = test::random_tensor(y.shape(), 2);
  const Tensor dx = conv.backward(g);
  auto loss = [&] { return test::weighted_sum(conv.forward(x), g); };
  CHECK(test::max_gradient_error(x, dx, loss) < kGradientTolerance);
  CHECK(test::max_gradient_error(conv.weight.value, conv.weight.grad, loss) < kGradientTolerance);
  CHECK(test::max_gradient_error(conv.bias.value, conv.bias.grad, loss) < kGradientTolerance);
}

TEST_CASE("Conv2d: parameter gradients accumulate, and InputGradient::Skip computes no input gradient") {
  Conv2d conv("conv", {3, 2, 1, {}, false}, kFloat64);
  const Tensor x = test::random_tensor({2, 3, 3, 3}, 1), g = test::random_tensor({2, 3, 3, 2}, 2);
  conv.forward(x);
  CHECK_FALSE(conv.backward(g, InputGradient::Skip).defined());
  const std::vector<double> once = conv.weight.grad.to_vector<double>();
  conv.forward(x);
  conv.backward(g);
  const std::vector<double> twice = conv.weight.grad.to_vector<double>();
  for (std::size_t i = 0; i < once.size(); ++i) CHECK(twice[i] == doctest::Approx(2 * once[i]).epsilon(1e-12));
  CHECK_THROWS_WITH_AS(conv.backward(g), doctest::Contains("backward without a forward"), Error);
}

TEST_CASE("Conv2d: Kaiming-normal init, deterministic per (seed, name), zero bias and gradients") {
  const LayerOptions options{DType::F32, Device::cpu(), 3};
  const Conv2dConfig config{32, 64, 3, {1, 1, 1}, true};
  const Conv2d a("body.mod1.conv1", config, options), again("body.mod1.conv1", config, options);
  const Conv2d other_name("body.mod1.conv2", config, options);
  const Conv2d other_seed("body.mod1.conv1", config, {DType::F32, Device::cpu(), 4});
  const std::vector<float> w = a.weight.value.to_vector<float>();
  CHECK(w == again.weight.value.to_vector<float>());
  CHECK(w != other_name.weight.value.to_vector<float>());
  CHECK(w != other_seed.weight.value.to_vector<float>());

  double sum = 0, squares = 0;
  for (float value : w) {
    sum += value;
    squares += double(value) * value;
  }
  const double n = double(w.size()), mean = sum / n, stddev = std::sqrt(squares / n - mean * mean);
  const double expected = std::sqrt(2.0 / (1.0 + kLeakySlope * kLeakySlope) / (3 * 3 * 32));
  CHECK(std::abs(mean) < 4 * expected / std::sqrt(n));
  CHECK(stddev == doctest::Approx(expected).epsilon(0.03));  // 18432 draws: the sample stddev is within ~1%

  for (float value : a.bias.value.to_vector<float>()) CHECK(value == 0.0f);
  for (const Parameter& p : parameters_of(a))
    for (float value : p.grad.to_vector<float>()) CHECK(value == 0.0f);
  CHECK(parameters_of(a)[0].name == "body.mod1.conv1.weight");
  CHECK(parameters_of(a)[1].name == "body.mod1.conv1.bias");
}

TEST_CASE("normalisation layers: cpu layers are InPlaceAbn whatever is asked for, and the cuDNN layer refuses them") {
  for (const NormImplementation asked : {NormImplementation::Native, NormImplementation::Cudnn}) {
    LayerOptions options = kFloat64;
    options.normalization = asked;
    const std::unique_ptr<NormActivation> layer = make_norm_activation("bn", 3, IabnActivation::LeakyRelu, options);
    CHECK(dynamic_cast<InPlaceAbn*>(layer.get()) != nullptr);
    std::vector<Parameter> parameters;
    layer->append_parameters(parameters);
    REQUIRE(parameters.size() == 2);
    CHECK(parameters[0].name == "bn.weight");
  }
  CHECK_THROWS_WITH_AS(CudnnBatchNormActivation("bn", 3, IabnActivation::LeakyRelu, kFloat64),
                       doctest::Contains("cuDNN runs on CUDA layers only"), Error);
}

TEST_CASE("InPlaceAbn: forward overwrites its input's memory and keeps it as the saved output") {
  InPlaceAbn bn("bn", 3, IabnActivation::LeakyRelu, kFloat64);
  Tensor x = test::random_tensor({2, 4, 5, 3}, 1);
  const void* memory = x.raw_data();
  const Tensor z = bn.forward(x, Mode::Train);
  CHECK(z.raw_data() == memory);
  // x itself now reads z: the conv output that fed the iABN is gone, as intended.
  CHECK(x.to_vector<double>() == z.to_vector<double>());
}

TEST_CASE("InPlaceAbn: input, weight and bias gradients in Train and Eval mode, leaky and identity") {
  const Shape shape = {2, 5, 7, 3};
  for (IabnActivation activation : {IabnActivation::LeakyRelu, IabnActivation::Identity})
    for (Mode mode : {Mode::Train, Mode::Eval}) {
      CAPTURE(int(activation));
      CAPTURE(int(mode));
      InPlaceAbn bn("bn", 3, activation, kFloat64);
      bn.weight.value.copy_from(Tensor::from_vector<double>({0.7, -1.3, 0.4}, {3}));
      bn.bias.value.copy_from(Tensor::from_vector<double>({0.1, -0.2, 0.3}, {3}));
      bn.running_mean.value.copy_from(Tensor::from_vector<double>({0.2, -0.1, 0.05}, {3}));
      bn.running_var.value.copy_from(Tensor::from_vector<double>({0.5, 1.5, 0.8}, {3}));
      // Eval mode must not move the running statistics and Train mode must not read them, so
      // the repeated forwards of the finite differences see the same function.
      Tensor x = test::random_tensor(shape, 1, -1.0, 2.0);
      const Tensor g = test::random_tensor(shape, 4);
      auto loss = [&] { return test::weighted_sum(bn.forward(x.clone(), mode), g); };
      const Tensor z = bn.forward(x.clone(), mode);
      if (activation == IabnActivation::LeakyRelu) REQUIRE(min_abs_preactivation(z) > kKinkMargin);
      Tensor dx = Tensor::empty(shape, DType::F64);
      bn.backward(g, dx);
      CHECK(test::max_gradient_error(x, dx, loss) < kGradientTolerance);
      CHECK(test::max_gradient_error(bn.weight.value, bn.weight.grad, loss) < kGradientTolerance);
      CHECK(test::max_gradient_error(bn.bias.value, bn.bias.grad, loss) < kGradientTolerance);
    }
}

TEST_CASE("InPlaceAbn: backward may write dx over dz") {
  InPlaceAbn bn("bn", 3, IabnActivation::LeakyRelu, kFloat64);
  const Tensor x = test::random_tensor({2, 3, 4, 3}, 1), g = test::random_tensor({2, 3, 4, 3}, 2);
  bn.forward(x.clone(), Mode::Train);
  Tensor separate = Tensor::empty(g.shape(), DType::F64);
  bn.backward(g, separate);
  bn.forward(x.clone(), Mode::Train);
  Tensor in_place = g.clone();
  bn.backward(in_place, in_place);
  CHECK(in_place.to_vector<double>() == separate.to_vector<double>());
}

TEST_CASE("InPlaceAbn: Train uses batch statistics and updates the running ones, Eval uses and keeps them") {
  InPlaceAbn bn("bn", 2, IabnActivation::Identity, kFloat64);
  const Tensor x = test::random_tensor({2, 3, 3, 2}, 1, -1.0, 3.0);
  const Tensor z = bn.forward(x.clone(), Mode::Train);
  for (std::int64_t c = 0; c < 2; ++c) {
    const std::vector<double> values = channel_values(x, c), normalised = channel_values(z, c);
    const double mean = mean_of(values), count = double(values.size());
    double squares = 0;
    for (double v : values) squares += (v - mean) * (v - mean);
    // running <- 0.9 running + 0.1 batch, from (0, 1), with the unbiased variance.
    CHECK(bn.running_mean.value.to_vector<double>()[std::size_t(c)] == doctest::Approx(0.1 * mean));
    CHECK(bn.running_var.value.to_vector<double>()[std::size_t(c)] ==
          doctest::Approx(0.9 + 0.1 * squares / (count - 1)));
    CHECK(mean_of(normalised) == doctest::Approx(0.0).epsilon(1e-12));  // w = 1, b = 0: standardised
  }

  const std::vector<double> running_mean = bn.running_mean.value.to_vector<double>();
  const std::vector<double> running_var = bn.running_var.value.to_vector<double>();
  const std::vector<double> eval = bn.forward(x.clone(), Mode::Eval).to_vector<double>();
  CHECK(bn.running_mean.value.to_vector<double>() == running_mean);
  CHECK(bn.running_var.value.to_vector<double>() == running_var);
  const std::vector<double> input = x.to_vector<double>();
  for (std::size_t i = 0; i < input.size(); ++i) {
    const std::size_t c = i % 2;
    const double expected = (1 + 1e-5) * (input[i] - running_mean[c]) / std::sqrt(running_var[c] + 1e-5);
    CHECK(eval[i] == doctest::Approx(expected).epsilon(1e-12));
  }
}

TEST_CASE("InPlaceAbn: parameters w = 1, b = 0 and buffers 0 / 1 with PyTorch names") {
  const InPlaceAbn bn("head.conv_last.1", 4, IabnActivation::LeakyRelu, kFloat64);
  std::vector<Parameter> parameters;
  std::vector<Buffer> buffers;
  bn.append_parameters(parameters);
  bn.append_buffers(buffers);
  REQUIRE(parameters.size() == 2);
  REQUIRE(buffers.size() == 2);
  CHECK(parameters[0].name == "head.conv_last.1.weight");
  CHECK(parameters[1].name == "head.conv_last.1.bias");
  CHECK(buffers[0].name == "head.conv_last.1.running_mean");
  CHECK(buffers[1].name == "head.conv_last.1.running_var");
  CHECK(parameters[0].value.to_vector<double>() == std::vector<double>(4, 1.0));
  CHECK(parameters[1].value.to_vector<double>() == std::vector<double>(4, 0.0));
  CHECK(buffers[0].value.to_vector<double>() == std::vector<double>(4, 0.0));
  CHECK(buffers[1].value.to_vector<double>() == std::vector<double>(4, 1.0));
}

TEST_CASE("MaxPool2d: input gradient") {
  MaxPool2d pool;
  Tensor x = test::random_tensor({2, 7, 8, 3}, 1);  // continuous values: no ties within one step
  const Tensor y = pool.forward(x);
  CHECK(y.shape() == Shape{2, 4, 4, 3});
  const Tensor g = test::random_tensor(y.shape(), 2);
  const Tensor dx = pool.backward(g);
  CHECK(test::max_gradient_error(x, dx, [&] { return test::weighted_sum(pool.forward(x), g); }) < kGradientTolerance);
}

TEST_CASE("ResidualAddLeaky: one gradient for the branch and the shortcut, and a new output tensor") {
  ResidualAddLeaky add;
  Tensor branch = test::random_tensor({2, 3, 4, 5}, 1), shortcut = test::random_tensor({2, 3, 4, 5}, 2);
  const Tensor out = add.forward(branch, shortcut);
  CHECK(out.raw_data() != branch.raw_data());
  CHECK(out.raw_data() != shortcut.raw_data());
  REQUIRE(min_abs_preactivation(out) > kKinkMargin);
  const Tensor g = test::random_tensor(out.shape(), 3);
  Tensor d = g.clone();
  add.backward(d, d);
  auto loss = [&] { return test::weighted_sum(add.forward(branch, shortcut), g); };
  CHECK(test::max_gradient_error(branch, d, loss) < kGradientTolerance);
  CHECK(test::max_gradient_error(shortcut, d, loss) < kGradientTolerance);
}

TEST_CASE("add_into adds exactly, in place") {
  Tensor sum = Tensor::from_vector<float>({1.5f, -2.0f, 0.25f, 1e-8f}, {1, 1, 2, 2});
  const Tensor addend = Tensor::from_vector<float>({-3.0f, 2.0f, 0.5f, 1.0f}, {1, 1, 2, 2});
  add_into(sum, addend);
  CHECK(sum.to_vector<float>() == std::vector<float>{-1.5f, 0.0f, 0.75f, 1e-8f + 1.0f});
}

TEST_CASE("Dropout2d: the mask depends on (seed, step, layer) only, and Eval and p = 0 are the identity") {
  const Tensor x = test::random_tensor({2, 3, 3, 64}, 1);
  Dropout2d dropout("head.conv_last.2", 0.5, 42), same("head.conv_last.2", 0.5, 42);
  Dropout2d other_layer("head.dropout_deepsup", 0.5, 42), other_seed("head.conv_last.2", 0.5, 43);
  const std::vector<double> at_step_3 = dropout.forward(x, Mode::Train, 3).to_vector<double>();
  CHECK(same.forward(x, Mode::Train, 3).to_vector<double>() == at_step_3);
  CHECK(dropout.forward(x, Mode::Train, 3).to_vector<double>() == at_step_3);
  CHECK(dropout.forward(x, Mode::Train, 4).to_vector<double>() != at_step_3);
  CHECK(other_layer.forward(x, Mode::Train, 3).to_vector<double>() != at_step_3);
  CHECK(other_seed.forward(x, Mode::Train, 3).to_vector<double>() != at_step_3);

  Tensor mask = Tensor::empty({2, 64}, DType::F64);
  dropout2d_mask(mask, 0.5, 42, dropout.stream_of_step(3));
  Tensor expected = Tensor::empty(x.shape(), DType::F64);
  dropout2d_forward(x, mask, expected);
  CHECK(expected.to_vector<double>() == at_step_3);

  CHECK(dropout.forward(x, Mode::Eval, 3).raw_data() == x.raw_data());
  Dropout2d off("off", 0.0, 42);
  CHECK(off.forward(x, Mode::Train, 3).raw_data() == x.raw_data());
  const Tensor g = test::random_tensor(x.shape(), 2);
  Tensor dx = Tensor::empty(x.shape(), DType::F64);
  off.backward(g, dx);
  CHECK(dx.to_vector<double>() == g.to_vector<double>());
}

TEST_CASE("Dropout2d: input gradient with the mask of a fixed step") {
  Dropout2d dropout("drop", 0.3, 42);
  Tensor x = test::random_tensor({2, 3, 4, 8}, 1);
  const Tensor g = test::random_tensor(x.shape(), 2);
  dropout.forward(x, Mode::Train, 11);
  Tensor d = g.clone();
  dropout.backward(d, d);
  CHECK(test::max_gradient_error(x, d, [&] { return test::weighted_sum(dropout.forward(x, Mode::Train, 11), g); }) <
        kGradientTolerance);
}

TEST_CASE("PyramidPooling: [x, p1, p2, p3, p6] and its gradients, through the kinks of the branch iABNs") {
  PyramidPooling pyramid("head.ppm", {1, 2, 3, 6}, 6, 3, kFloat64);
  CHECK(pyramid.out_channels() == 6 + 4 * 3);
  Tensor x = test::random_tensor({2, 7, 7, 6}, 1);
  const Tensor out = pyramid.forward(x, Mode::Train);
  REQUIRE(out.shape() == Shape{2, 7, 7, 18});
  const std::vector<double> concat = out.to_vector<double>(), input = x.to_vector<double>();
  for (std::size_t pixel = 0; pixel < 2 * 7 * 7; ++pixel)
    for (std::size_t c = 0; c < 6; ++c) CHECK(concat[pixel * 18 + c] == input[pixel * 6 + c]);

  const Tensor g = test::random_tensor(out.shape(), 2);
  const Tensor dx = pyramid.backward(g);
  std::vector<Parameter> parameters;
  pyramid.append_parameters(parameters);
  REQUIRE(parameters.size() == 12);
  CHECK(parameters[0].name == "head.ppm.0.1.weight");
  CHECK(parameters[2].name == "head.ppm.0.2.bias");
  CHECK(parameters[9].name == "head.ppm.3.1.weight");
  std::vector<test::CheckedTensor> checked = {{"x", x, dx}};
  for (const Parameter& p : parameters) checked.push_back({p.name, p.value, p.grad});
  const test::KinkAwareResult result =
      test::check_gradients_near_kinks(checked, [&] { return test::weighted_sum(pyramid.forward(x, Mode::Train), g); });
  INFO(result.worst);
  CHECK(result.max_error < kGradientTolerance);
  CHECK(result.near_kink <= 2);
}

TEST_CASE("CosineClassifier and LinearClassifier: logits and gradients") {
  for (ClassifierKind kind : {ClassifierKind::Cosine, ClassifierKind::Linear}) {
    CAPTURE(std::string(classifier_kind_name(kind)));
    const std::unique_ptr<Classifier> classifier = make_classifier(kind, "cls.cls", 5, 3, kFloat64);
    Tensor f = test::random_tensor({2, 3, 4, 5}, 1);
    const Tensor logits = classifier->forward(f);
    REQUIRE(logits.shape() == Shape{2, 3, 4, 3});
    if (kind == ClassifierKind::Cosine)
      for (double value : logits.to_vector<double>()) CHECK(std::abs(value) <= 10.0 + 1e-12);
    const Tensor g = test::random_tensor(logits.shape(), 2);
    const Tensor df = classifier->backward(g);
    std::vector<Parameter> parameters;
    classifier->append_parameters(parameters);
    REQUIRE(parameters.size() == (kind == ClassifierKind::Cosine ? 1u : 2u));
    CHECK(parameters[0].name == "cls.cls.weight");
    CHECK(parameters[0].value.shape() == Shape{3, 5});
    auto loss = [&] { return test::weighted_sum(classifier->forward(f), g); };
    CHECK(test::max_gradient_error(f, df, loss) < kGradientTolerance);
    for (Parameter& p : parameters) CHECK(test::max_gradient_error(p.value, p.grad, loss) < kGradientTolerance);
  }
}

TEST_CASE("child_name and name_stream") {
  CHECK(child_name("", "cls") == "cls");
  CHECK(child_name("body.mod2", "block1") == "body.mod2.block1");
  CHECK(name_stream("body.mod1.conv1.weight") == name_stream("body.mod1.conv1.weight"));
  CHECK(name_stream("body.mod1.conv1.weight") != name_stream("body.mod1.conv2.weight"));
}

TEST_CASE("the kink-aware gradient check passes the smooth side of a kink, and nothing else") {
  // L(v) = leaky_relu(v - 3e-7) at v = 0: the kink lies 0.3 steps to the right, so the central
  // difference mixes the slopes 0.01 and 1 while the left one-sided difference sees 0.01 only.
  Tensor v = Tensor::from_vector<double>({0.0}, {1});
  auto loss = [&] {
    const double y = v.to_vector<double>()[0] - 3e-7;
    return y >= 0 ? y : kLeakySlope * y;
  };
  const test::KinkAwareResult right =
      test::check_gradients_near_kinks({{"v", v, Tensor::from_vector<double>({kLeakySlope}, {1})}}, loss);
  CHECK(right.near_kink == 1);
  CHECK(right.max_error == 0.0);
  const test::KinkAwareResult wrong =
      test::check_gradients_near_kinks({{"v", v, Tensor::from_vector<double>({0.5}, {1})}}, loss);
  CHECK(wrong.near_kink == 0);
  CHECK(wrong.max_error > 0.1);
}
