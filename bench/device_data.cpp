#include "bench/device_data.h"

#include <random>

#include "kernels/cuda/cudnn_elementwise.h"
#include "kernels/random.h"

namespace pans::bench {

Tensor Data::uniform(const Shape& shape, DType dtype, double low, double high) {
  Tensor values = empty(shape, DType::F32);
  fill_uniform(values, kSeed, next_stream_++, low, high);
  if (dtype == DType::F32) return values;
  PANS_CHECK(dtype == DType::BF16, "bench: no uniform fill for ", dtype_name(dtype));
  Tensor rounded = empty(shape, DType::BF16);
  cuda::convert_float_to_bf16(values.data<float>(), rounded.data<bf16>(), values.numel());
  return rounded;
}

Tensor Data::labels(const Shape& shape, std::int64_t classes) {
  std::mt19937 random(unsigned(next_stream_++));
  std::uniform_int_distribution<int> draw(0, int(classes) - 1), ignore(0, 19);
  Tensor host = Tensor::empty(shape, DType::U8);
  std::uint8_t* values = host.data<std::uint8_t>();
  for (std::int64_t i = 0; i < host.numel(); ++i) values[i] = std::uint8_t(ignore(random) == 0 ? 255 : draw(random));
  return host.to(device_);
}

}  // namespace pans::bench
