// demo_train: the smallest end-to-end use of pans' ops. The demo network of apps/demo_net.h (conv,
// InPlace-ABN, classifier, cross-entropy) learns to label pixels like a fixed random teacher conv, on
// fresh random images every step, with Nesterov SGD and the poly schedule of PAnS, on the CPU or a GPU.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "apps/demo_net.h"
#include "tensor/device.h"
#include "optim/poly_lr.h"

namespace {

using namespace pans;

struct Options {
  int steps = 100;
  int batch = 8;
  int size = 16;
  double lr = 0.05;
  std::uint64_t seed = 42;
  std::string device = "cpu";
};

int run(const Options& options) {
  DemoNet net(options.seed, parse_device(options.device));
  const PolyLearningRate schedule(options.lr, options.steps);
  const auto start = std::chrono::steady_clock::now();
  double first_losses = 0, last_losses = 0;
  const int window = std::max(1, std::min(10, options.steps / 4));
  for (int step = 0; step < options.steps; ++step) {
    const double lr = schedule.at(step);
    const double loss = net.train_step(demo_batch(options.seed, std::uint64_t(step), options.batch, options.size), lr);
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
  app.add_option("--device", options.device, "cpu or cuda:N");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(options);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "demo_train: %s\n", error.what());
    return 1;
  }
}
