#include "apps/demo_net.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/cross_entropy.h"
#include "kernels/iabn.h"
#include "kernels/random.h"

namespace pans {
namespace {

constexpr std::int64_t kInChannels = 3, kHidden = 16, kClasses = 4;
constexpr std::uint64_t kTeacherStream = 1, kStudentStream = 2, kDataStream = 1000;
const Conv2dParams kSame3x3{1, 1, 1}, kPointwise{1, 0, 1};

Tensor kaiming_normal(const Shape& shape, std::uint64_t seed, std::uint64_t stream, Device device) {
  Tensor w = Tensor::empty(shape);
  const double fan_in = double(w.numel() / shape[0]);
  fill_normal(w, seed, stream, 0.0, std::sqrt(2.0 / fan_in));
  return w.to(device);
}

Tensor filled(std::int64_t size, float value, Device device) {
  return Tensor::from_vector(std::vector<float>(std::size_t(size), value), {size}).to(device);
}

}  // namespace

DemoBatch demo_batch(std::uint64_t seed, std::uint64_t step, std::int64_t batch, std::int64_t size) {
  DemoBatch out{Tensor::empty({batch, size, size, kInChannels}), Tensor::empty({batch, size, size}, DType::U8)};
  fill_normal(out.images, seed, kDataStream + step, 0.0, 1.0);
  const Tensor teacher = kaiming_normal({kClasses, 3, 3, kInChannels}, seed, kTeacherStream, Device::cpu());
  const Tensor scores = conv2d_forward(out.images, teacher, Tensor(), kSame3x3);
  const float* s = scores.data<float>();
  std::uint8_t* labels = out.labels.data<std::uint8_t>();
  for (std::int64_t p = 0; p < out.labels.numel(); ++p) {
    const float* row = s + p * kClasses;
    labels[p] = p % 20 == 0 ? 255 : std::uint8_t(std::max_element(row, row + kClasses) - row);
  }
  return out;
}

DemoNet::DemoNet(std::uint64_t seed, Device device)
    : device_(device),
      w1_(kaiming_normal({kHidden, 3, 3, kInChannels}, seed, kStudentStream, device)),
      bn_w_(filled(kHidden, 1.0f, device)),
      bn_b_(filled(kHidden, 0.0f, device)),
      running_mean_(filled(kHidden, 0.0f, device)),
      running_var_(filled(kHidden, 1.0f, device)),
      saved_var_(Tensor::empty({kHidden}, DType::F32, device)),
      w2_(kaiming_normal({kClasses, 1, 1, kHidden}, seed, kStudentStream + 1, device)),
      b2_(filled(kClasses, 0.0f, device)),
      dw1_(Tensor::zeros(w1_.shape(), DType::F32, device)),
      dbn_w_(Tensor::zeros({kHidden}, DType::F32, device)),
      dbn_b_(Tensor::zeros({kHidden}, DType::F32, device)),
      dw2_(Tensor::zeros(w2_.shape(), DType::F32, device)),
      db2_(Tensor::zeros({kClasses}, DType::F32, device)),
      optimizer_(0.9, 1e-4) {
  for (auto [param, grad] : {std::pair{w1_, dw1_}, {bn_w_, dbn_w_}, {bn_b_, dbn_b_}, {w2_, dw2_}, {b2_, db2_}})
    optimizer_.add(param, grad);
}

double DemoNet::train_step(const DemoBatch& batch, double lr) {
  const Tensor images = batch.images.to(device_), labels = batch.labels.to(device_);
  const IabnParams iabn;

  // Forward. The iABN output z overwrites the first conv's output.
  Tensor z = conv2d_forward(images, w1_, Tensor(), kSame3x3);
  iabn_forward_train(z, bn_w_, bn_b_, running_mean_, running_var_, saved_var_, iabn);
  const Tensor logits = conv2d_forward(z, w2_, b2_, kPointwise);
  Tensor dlogits = Tensor::empty(logits.shape(), DType::F32, device_);
  const double loss = softmax_cross_entropy(logits, labels, dlogits);

  // Backward, in reverse; parameter gradients accumulate, so they are zeroed first.
  optimizer_.zero_grad();
  conv2d_backward_weight(dlogits, z, dw2_, db2_, kPointwise);
  Tensor dz = Tensor::empty(z.shape(), DType::F32, device_);
  conv2d_backward_input(dlogits, w2_, dz, kPointwise);
  iabn_backward(z, dz, bn_w_, bn_b_, saved_var_, dz, dbn_w_, dbn_b_, IabnMode::Train, iabn);  // dx over dz
  Tensor no_bias;
  conv2d_backward_weight(dz, images, dw1_, no_bias, kSame3x3);

  optimizer_.step(lr);
  return loss;
}

}  // namespace pans
