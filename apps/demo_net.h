// The demo network of demo_train, on any device: a student
//   conv 3x3 (3 -> 16) -> InPlace-ABN (leaky ReLU, in place) -> conv 1x1 (16 -> 4, bias) -> cross-entropy
// learning to label each pixel like a fixed random "teacher" conv 3x3 (3 -> 4) followed by argmax,
// trained with Nesterov SGD. The forward and backward passes are written out in order, as the
// layers of the PAnS model do them. Only kernels/ and optim/ are used, so the same source builds
// against the native CUDA kernels (demo_train) and against the SIMT emulator's (the emulated
// training test, tests/test_cuda_training.cpp).
#pragma once

#include <cstdint>

#include "optim/sgd.h"
#include "tensor/tensor.h"

namespace pans {

struct DemoBatch {
  Tensor images;  // {N,S,S,3} float32, standard normal
  Tensor labels;  // {N,S,S} uint8: the teacher's argmax, every 20th pixel 255 (ignored)
};

// The batch of training step `step`, made on the CPU: the data depend only on (seed, step).
DemoBatch demo_batch(std::uint64_t seed, std::uint64_t step, std::int64_t batch, std::int64_t size);

class DemoNet {
 public:
  // Kaiming-normal weights from `seed` (drawn on the CPU, so every device starts from the same ones).
  DemoNet(std::uint64_t seed, Device device);

  // One forward, backward and SGD step at learning rate `lr` on a batch (copied to the net's
  // device); returns the mean cross-entropy before the step.
  double train_step(const DemoBatch& batch, double lr);

  // Every parameter, in a fixed order: conv1 weight, iABN weight and bias, classifier weight and bias.
  std::vector<Tensor> parameters() const { return {w1_, bn_w_, bn_b_, w2_, b2_}; }
  std::vector<Tensor> running_statistics() const { return {running_mean_, running_var_}; }

 private:
  Device device_;
  Tensor w1_, bn_w_, bn_b_, running_mean_, running_var_, saved_var_, w2_, b2_;
  Tensor dw1_, dbn_w_, dbn_b_, dw2_, db2_;
  SgdOptimizer optimizer_;
};

}  // namespace pans
