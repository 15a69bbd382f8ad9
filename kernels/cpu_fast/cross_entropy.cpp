#include "kernels/cpu_fast/cross_entropy.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu_fast/parallel.h"

namespace pans::cpu_fast {

template <>
double softmax_cross_entropy<float>(std::int64_t pixels, std::int64_t classes, const float* logits,
                                    const std::uint8_t* labels, int ignore_index, double loss_scale, float* dlogits) {
  const std::int64_t counted = pixels - std::count(labels, labels + pixels, ignore_index);
  if (counted == 0) {
    std::fill(dlogits, dlogits + pixels * classes, 0.0f);
    return 0.0;
  }
  const float gradient_scale = float(loss_scale / double(counted));
  // Pixels per chunk: about kElementGrain logits.
  const std::int64_t grain = std::max<std::int64_t>(1, kElementGrain / classes);
  std::vector<double> chunk_loss(std::size_t(chunk_count(pixels, grain)), 0.0);
  parallel_chunks(pixels, grain, [&](std::int64_t chunk, std::int64_t begin, std::int64_t end) {
    double loss = 0.0;
    for (std::int64_t p = begin; p < end; ++p) {
      float* grad = dlogits + p * classes;
      if (labels[p] == ignore_index)
        std::fill(grad, grad + classes, 0.0f);
      else
        loss += cpu::cross_entropy_pixel(classes, logits + p * classes, labels[p], gradient_scale, grad);
    }
    chunk_loss[std::size_t(chunk)] = loss;
  });
  double loss_sum = 0.0;
  for (const double loss : chunk_loss) loss_sum += loss;
  return loss_scale * loss_sum / double(counted);
}

}  // namespace pans::cpu_fast
