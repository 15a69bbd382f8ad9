// demo_train: the smallest end-to-end use of pans' ops. A student network
//   conv 3x3 (3 -> 16) -> InPlace-ABN (leaky ReLU, in place) -> conv 1x1 (16 -> 4, bias) -> cross-entropy
// learns to label each pixel like a fixed random "teacher" conv 3x3 (3 -> 4) followed by argmax, on
// fresh random images every step, with Nesterov SGD and the poly schedule of PAnS. The forward and
// backward passes are written out in order, as the layers of the PAnS model will do them.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "kernels/conv2d.h"
#include "kernels/cross_entropy.h"
#include "kernels/iabn.h"
#include "kernels/random.h"
#include "optim/poly_lr.h"
#include "optim/sgd.h"

namespace {

using namespace pans;

constexpr std::int64_t kInChannels = 3, kHidden = 16, kClasses = 4;
constexpr std::uint64_t kTeacherStream = 1, kStudentStream = 2, kDataStream = 1000;

struct Options {
  int steps = 100;
  int batch = 8;
  int size = 16;
  double lr = 0.05;
  std::uint64_t seed = 42;
};

Tensor kaiming_normal(const Shape& shape, std::uint64_t seed, std::uint64_t stream) {
  Tensor w = Tensor::empty(shape);
  const double fan_in = double(w.numel() / shape[0]);
  fill_normal(w, seed, stream, 0.0, std::sqrt(2.0 / fan_in));
  return w;
}

Tensor filled(const Shape& shape, float value) {
  return Tensor::from_vector(std::vector<float>(std::size_t(shape[0]), value), shape);
}

// Labels = argmax over the teacher's 4 output channels; every 20th pixel is ignored (255), as
// padding is in real crops.
Tensor teacher_labels(const Tensor& images, const Tensor& teacher) {
  const Tensor scores = conv2d_forward(images, teacher, Tensor(), Conv2dParams{1, 1, 1});
  const std::int64_t pixels = scores.numel() / kClasses;
  Tensor labels = Tensor::empty({images.dim(0), images.dim(1), images.dim(2)}, DType::U8);
  const float* s = scores.data<float>();
  for (std::int64_t p = 0; p < pixels; ++p) {
    const float* row = s + p * kClasses;
    labels.data<std::uint8_t>()[p] = p % 20 == 0 ? 255 : std::uint8_t(std::max_element(row, row + kClasses) - row);
  }
  return labels;
}

int run(const Options& options) {
  const Conv2dParams same3x3{1, 1, 1}, pointwise{1, 0, 1};
  const Tensor teacher = kaiming_normal({kClasses, 3, 3, kInChannels}, options.seed, kTeacherStream);

  Tensor w1 = kaiming_normal({kHidden, 3, 3, kInChannels}, options.seed, kStudentStream);
  Tensor bn_w = filled({kHidden}, 1.0f), bn_b = filled({kHidden}, 0.0f);
  Tensor running_mean = filled({kHidden}, 0.0f), running_var = filled({kHidden}, 1.0f);
  Tensor saved_var = Tensor::empty({kHidden});
  Tensor w2 = kaiming_normal({kClasses, 1, 1, kHidden}, options.seed, kStudentStream + 1);
  Tensor b2 = filled({kClasses}, 0.0f);
  Tensor dw1 = Tensor::zeros(w1.shape()), dbn_w = Tensor::zeros({kHidden}), dbn_b = Tensor::zeros({kHidden});
  Tensor dw2 = Tensor::zeros(w2.shape()), db2 = Tensor::zeros({kClasses});

  SgdOptimizer optimizer(0.9, 1e-4);
  for (auto [param, grad] : {std::pair{w1, dw1}, {bn_w, dbn_w}, {bn_b, dbn_b}, {w2, dw2}, {b2, db2}})
    optimizer.add(param, grad);
  const PolyLearningRate schedule(options.lr, options.steps);
  const IabnParams iabn;

  const auto start = std::chrono::steady_clock::now();
  double first_losses = 0, last_losses = 0;
  const int window = std::max(1, std::min(10, options.steps / 4));
  for (int step = 0; step < options.steps; ++step) {
    Tensor images = Tensor::empty({options.batch, options.size, options.size, kInChannels});
    fill_normal(images, options.seed, kDataStream + std::uint64_t(step), 0.0, 1.0);
    const Tensor labels = teacher_labels(images, teacher);

    // Forward. The iABN output z overwrites the first conv's output.
    Tensor z = conv2d_forward(images, w1, Tensor(), same3x3);
    iabn_forward_train(z, bn_w, bn_b, running_mean, running_var, saved_var, iabn);
    const Tensor logits = conv2d_forward(z, w2, b2, pointwise);
    Tensor dlogits = Tensor::empty(logits.shape());
    const double loss = softmax_cross_entropy(logits, labels, dlogits);

    // Backward, in reverse; parameter gradients accumulate, so they are zeroed first.
    optimizer.zero_grad();
    conv2d_backward_weight(dlogits, z, dw2, db2, pointwise);
    Tensor dz = Tensor::empty(z.shape());
    conv2d_backward_input(dlogits, w2, dz, pointwise);
    iabn_backward(z, dz, bn_w, bn_b, saved_var, dz, dbn_w, dbn_b, IabnMode::Train, iabn);  // dx over dz
    Tensor no_bias;
    conv2d_backward_weight(dz, images, dw1, no_bias, same3x3);

    const double lr = schedule.at(step);
    optimizer.step(lr);

    if (step < window) first_losses += loss / window;
    if (step >= options.steps - window) last_losses += loss / window;
    if ((step + 1) % 10 == 0 || step + 1 == options.steps) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double rate = (step + 1) / seconds;
      std::printf("step %4d/%d  loss %.4f  lr %.5f  %.1f steps/s  ETA %.1fs\n", step + 1, options.steps, loss, lr, rate,
                  (options.steps - step - 1) / rate);
    }
  }
  std::printf("mean loss over the first %d steps %.4f, over the last %d steps %.4f\n", window, first_losses, window,
              last_losses);
  if (!(last_losses < first_losses)) {
    std::fprintf(stderr, "demo_train: the loss did not fall\n");
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{
      "Trains a tiny conv net (conv, InPlace-ABN, classifier) on random images labelled by a random "
      "teacher conv, printing a falling loss. Exits non-zero if the loss does not fall."};
  app.add_option("--steps", options.steps, "training steps")->check(CLI::Range(4, 1000000));
  app.add_option("--batch", options.batch, "images per step (at least 2: batch statistics)")
      ->check(CLI::Range(2, 4096));
  app.add_option("--size", options.size, "image height and width in pixels")->check(CLI::Range(3, 4096));
  app.add_option("--lr", options.lr, "base learning rate of the poly schedule")->check(CLI::PositiveNumber);
  app.add_option("--seed", options.seed, "seed of the weights, the teacher and the data");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(options);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "demo_train: %s\n", error.what());
    return 1;
  }
}
