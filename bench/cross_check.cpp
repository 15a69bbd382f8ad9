#include "bench/cross_check.h"

#include <algorithm>
#include <cmath>

#include "tensor/cuda_runtime.h"

namespace pans::bench {

using nlohmann::json;

namespace {

std::vector<float> host_floats(const Tensor& tensor) {
  std::vector<float> values(std::size_t(tensor.numel()));
  if (tensor.dtype() == DType::F32) {
    copy_bytes(values.data(), Device::cpu(), tensor.raw_data(), tensor.device(), tensor.nbytes());
  } else {
    PANS_CHECK(tensor.dtype() == DType::BF16, "bench: cannot compare ", tensor.describe("tensor"));
    std::vector<bf16> raw(values.size());
    copy_bytes(raw.data(), Device::cpu(), tensor.raw_data(), tensor.device(), tensor.nbytes());
    for (std::size_t i = 0; i < raw.size(); ++i) values[i] = bf16_to_float(raw[i]);
  }
  return values;
}

}  // namespace

json compare(const std::vector<std::pair<Tensor, Tensor>>& pairs, double tolerance) {
  double max_diff = 0, max_ref = 0;
  bool finite = true;
  for (const auto& [native, library] : pairs) {
    const std::vector<float> a = host_floats(native), b = host_floats(library);
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!std::isfinite(a[i])) finite = false;
      max_diff = std::max(max_diff, double(std::fabs(a[i] - b[i])));
      max_ref = std::max(max_ref, double(std::fabs(b[i])));
    }
  }
  const double scaled = finite ? max_diff / std::max(max_ref, 1e-30) : INFINITY;
  return {{"max_abs_diff", finite ? json(max_diff) : json("non-finite")},
          {"max_abs_library", max_ref},
          {"scaled_diff", finite ? json(scaled) : json("inf")},
          {"tolerance", tolerance},
          {"ok", finite && scaled <= tolerance}};
}

}  // namespace pans::bench
