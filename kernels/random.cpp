#include "kernels/random.h"

#include "kernels/cuda/random.h"
#include "kernels/op_check.h"
#include "tensor/philox.h"

#ifdef PANS_WITH_CUDA
#include "tensor/cuda_check.h"
#endif

namespace pans {
namespace {

// Runs the CPU loop, or on a CUDA tensor the CUDA launcher, which draws the same values.
template <class Draw, class CudaFill>
void fill(const char* op, Tensor& tensor, Draw draw, [[maybe_unused]] CudaFill cuda_fill) {
  OpCheck check(op, {{"tensor", &tensor}});
  check.same_device_float_contiguous();
  dispatch_floating(check, tensor.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* values = tensor.data<T>();
    if (tensor.device().is_cuda()) {
#ifdef PANS_WITH_CUDA
      CudaDeviceGuard guard(tensor.device().index);
      cuda_fill(values, tensor.numel());
      return;
#else
      fail_not_implemented_on_cuda(check);
#endif
    }
    for (std::int64_t i = 0; i < tensor.numel(); ++i) values[i] = T(draw(std::uint64_t(i)));
  });
}

}  // namespace

void fill_uniform(Tensor& tensor, std::uint64_t seed, std::uint64_t stream, double low, double high) {
  fill(
      "fill_uniform", tensor,
      [&](std::uint64_t i) { return scale_uniform(philox_uniform(seed, stream, i), low, high); },
      [&](auto* values, std::int64_t count) { cuda::fill_uniform(values, count, seed, stream, low, high); });
}

void fill_normal(Tensor& tensor, std::uint64_t seed, std::uint64_t stream, double mean, double stddev) {
  fill(
      "fill_normal", tensor,
      [&](std::uint64_t i) { return scale_normal(philox_normal(seed, stream, i), mean, stddev); },
      [&](auto* values, std::int64_t count) { cuda::fill_normal(values, count, seed, stream, mean, stddev); });
}

}  // namespace pans
