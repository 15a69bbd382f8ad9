#include "kernels/random.h"

#include "kernels/op_check.h"
#include "tensor/philox.h"

namespace pans {
namespace {

template <class Draw>
void fill(const char* op, Tensor& tensor, Draw draw) {
  OpCheck check(op, {{"tensor", &tensor}});
  check.same_device_float_contiguous();
  if (tensor.device().is_cuda()) fail_not_implemented_on_cuda(check);
  dispatch_floating(check, tensor.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* values = tensor.data<T>();
    for (std::int64_t i = 0; i < tensor.numel(); ++i) values[i] = T(draw(std::uint64_t(i)));
  });
}

}  // namespace

void fill_uniform(Tensor& tensor, std::uint64_t seed, std::uint64_t stream, double low, double high) {
  fill("fill_uniform", tensor,
       [&](std::uint64_t i) { return low + (high - low) * double(philox_uniform(seed, stream, i)); });
}

void fill_normal(Tensor& tensor, std::uint64_t seed, std::uint64_t stream, double mean, double stddev) {
  fill("fill_normal", tensor,
       [&](std::uint64_t i) { return mean + stddev * double(philox_normal(seed, stream, i)); });
}

}  // namespace pans
