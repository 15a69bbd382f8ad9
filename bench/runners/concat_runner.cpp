#include <cuda_runtime_api.h>

#include <vector>

#include "bench/cross_check.h"
#include "bench/runners/op_runners.h"
#include "kernels/concat.h"
#include "tensor/cuda_check.h"

namespace pans::bench {
namespace {

// Channel concatenation by the copy engine's 2-D copies: one strided copy per input.
void copy_channels(const std::vector<Tensor>& parts, const Tensor& whole, bool into_whole) {
  const std::size_t es = dtype_size(whole.dtype());
  const std::size_t pitch = std::size_t(whole.dim(3)) * es;
  const std::size_t rows = std::size_t(whole.numel() / whole.dim(3));
  std::size_t offset = 0;
  for (const Tensor& part : parts) {
    const std::size_t width = std::size_t(part.dim(3)) * es;
    char* whole_bytes = static_cast<char*>(const_cast<void*>(whole.raw_data())) + offset;
    void* part_bytes = const_cast<void*>(part.raw_data());
    if (into_whole)
      PANS_CUDA_CHECK(cudaMemcpy2DAsync(whole_bytes, pitch, part_bytes, width, width, rows, cudaMemcpyDeviceToDevice,
                                        cudaStreamLegacy));
    else
      PANS_CUDA_CHECK(cudaMemcpy2DAsync(part_bytes, width, whole_bytes, pitch, width, rows, cudaMemcpyDeviceToDevice,
                                        cudaStreamLegacy));
    offset += width;
  }
}

}  // namespace

void concat_runner(const Row& row, Data& data, Runner& r) {
  const DType dt = row.dtype;
  const Shape whole_shape = nhwc(row.shape);
  auto parts = [&](bool random) {
    std::vector<Tensor> tensors;
    for (std::int64_t c : row.concat_inputs) {
      const Shape s{row.shape.n, row.shape.h, row.shape.w, c};
      tensors.push_back(random ? data.uniform(s, dt) : data.empty(s, dt));
    }
    return tensors;
  };
  r.library_algo = "cudaMemcpy2DAsync, device to device, one per input";
  if (row.pass == Pass::Forward) {
    const std::vector<Tensor> inputs = parts(true);
    Tensor out = data.empty(whole_shape, dt), out_library = data.empty(whole_shape, dt);
    r.native = [=]() mutable { concat_channels(inputs, out); };
    r.library = [=]() mutable { copy_channels(inputs, out_library, true); };
    r.check = [=] { return compare({{out, out_library}}, 0.0); };
    return;
  }
  Tensor dout = data.uniform(whole_shape, dt);
  const std::vector<Tensor> dinputs = parts(false), dinputs_library = parts(false);
  r.native = [=]() mutable {
    std::vector<Tensor> views = dinputs;
    split_channels(dout, views);
  };
  r.library = [=]() mutable { copy_channels(dinputs_library, dout, false); };
  r.check = [=] {
    std::vector<std::pair<Tensor, Tensor>> pairs;
    for (std::size_t i = 0; i < dinputs.size(); ++i) pairs.emplace_back(dinputs[i], dinputs_library[i]);
    return compare(pairs, 0.0);
  };
}

}  // namespace pans::bench
