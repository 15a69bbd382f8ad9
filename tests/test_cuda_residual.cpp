// Residual add + leaky ReLU on CUDA (a GPU or the emulator) against the CPU oracle.
//
// Tolerance: none. Both sides widen the float32 inputs to double, add (exactly), multiply by the
// slope at most once, and round once to float32; nothing can be contracted into an FMA and GPU
// double arithmetic rounds as the host's does. So every element must equal the CPU's bit for bit.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/random.h"
#include "kernels/residual.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

// A CPU float32 tensor, uniform in [low, high).
Tensor uniform(const Shape& shape, std::uint64_t stream, double low = -1.0, double high = 1.0) {
  Tensor t = Tensor::empty(shape);
  fill_uniform(t, 1234, stream, low, high);
  return t;
}

bool same_bits(const Tensor& gpu_result, const Tensor& expected) {
  const std::vector<float> a = on_cpu(gpu_result).to_vector<float>(), b = expected.to_vector<float>();
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// A device tensor of `shape` that starts `offset` floats into a NaN-filled allocation with spare
// floats after it: offsets 1..3 give views that are not 16-byte aligned, and the spare floats show
// whether a kernel wrote outside its view.
constexpr std::int64_t kSpare = 8;
struct Placed {
  Tensor base, view;
  std::int64_t offset;
};
Placed placed_nan(const Shape& shape, std::int64_t offset) {
  std::int64_t count = 1;
  for (std::int64_t d : shape) count *= d;
  Tensor base = nan_tensor({count + kSpare});
  return {base, base.narrow(0, offset, count).reshape(shape), offset};
}
Placed placed_copy(const Tensor& host, std::int64_t offset) {
  Placed placed = placed_nan(host.shape(), offset);
  placed.view.copy_from(host);
  return placed;
}
bool spare_untouched(const Placed& placed) {
  const std::vector<float> all = on_cpu(placed.base).to_vector<float>();
  const std::int64_t count = placed.view.numel();
  for (std::int64_t i = 0; i < std::int64_t(all.size()); ++i)
    if ((i < placed.offset || i >= placed.offset + count) && all[std::size_t(i)] == all[std::size_t(i)]) return false;
  return true;
}

// Branch and shortcut with every 7th sum exactly 0 (the kink: forward gives +0, backward passes
// the gradient unscaled) and the rest of both signs.
std::pair<Tensor, Tensor> inputs(const Shape& shape, std::uint64_t stream) {
  Tensor branch = uniform(shape, stream), shortcut = uniform(shape, stream + 100);
  for (std::int64_t i = 0; i < branch.numel(); i += 7) shortcut.data<float>()[i] = -branch.data<float>()[i];
  return {branch, shortcut};
}

Tensor cpu_forward(const Tensor& branch, const Tensor& shortcut, double slope) {
  Tensor out = Tensor::empty(branch.shape());
  residual_add_leaky_forward(branch, shortcut, out, slope);
  return out;
}

Tensor cpu_backward(const Tensor& out, const Tensor& dout, double slope) {
  Tensor d = Tensor::empty(out.shape());
  residual_add_leaky_backward(out, dout, d, slope);
  return d;
}

}  // namespace

TEST_CASE("cuda residual add leaky relu forward and backward equal the cpu bit for bit") {
  // 1 element (scalar tail only), odd sizes (a tail of 1..3 after the float4s), channels that are
  // not multiples of 4 or 32, and 14586 elements: more than the emulator's 4 x 256 threads take in
  // one pass, so the grid-stride loops iterate.
  const std::vector<Shape> shapes = {{1, 1, 1, 1}, {1, 3, 5, 7}, {3, 7, 9, 5}, {2, 13, 17, 33}};
  for (const Shape& shape : shapes)
    for (double slope : {0.01, 0.2}) {
      CAPTURE(shape_str(shape));
      CAPTURE(slope);
      const auto [branch, shortcut] = inputs(shape, 1);
      const Tensor expected = cpu_forward(branch, shortcut, slope);
      Tensor out = nan_tensor(shape);
      residual_add_leaky_forward(branch.to(gpu()), shortcut.to(gpu()), out, slope);
      CHECK(same_bits(out, expected));

      const Tensor dout = uniform(shape, 3);
      const Tensor expected_gradient = cpu_backward(expected, dout, slope);
      Tensor d = nan_tensor(shape);
      residual_add_leaky_backward(expected.to(gpu()), dout.to(gpu()), d, slope);
      CHECK(same_bits(d, expected_gradient));
    }
}

TEST_CASE("cuda residual add leaky relu on misaligned views") {
  // Offsets {1,1,1} and {3,3,3}: one misalignment, scalar head then float4s; {0,1,2} and {2,0,0}:
  // no common alignment, all scalar. 315 and 4 elements: a tail after the float4s, and a view
  // shorter than its head.
  const std::vector<std::vector<std::int64_t>> offsets = {{1, 1, 1}, {3, 3, 3}, {0, 1, 2}, {2, 0, 0}};
  for (const Shape& shape : std::vector<Shape>{{3, 5, 7, 3}, {1, 1, 2, 2}})
    for (const auto& offset : offsets) {
      CAPTURE(shape_str(shape));
      CAPTURE(offset[0]);
      CAPTURE(offset[1]);
      CAPTURE(offset[2]);
      const double slope = 0.01;
      const auto [branch, shortcut] = inputs(shape, 5);
      const Tensor expected = cpu_forward(branch, shortcut, slope);
      const Placed branch_gpu = placed_copy(branch, offset[0]), shortcut_gpu = placed_copy(shortcut, offset[1]);
      Placed out = placed_nan(shape, offset[2]);
      residual_add_leaky_forward(branch_gpu.view, shortcut_gpu.view, out.view, slope);
      CHECK(same_bits(out.view, expected));
      CHECK(spare_untouched(out));

      const Tensor dout = uniform(shape, 6);
      const Placed out_gpu = placed_copy(expected, offset[0]), dout_gpu = placed_copy(dout, offset[1]);
      Placed d = placed_nan(shape, offset[2]);
      residual_add_leaky_backward(out_gpu.view, dout_gpu.view, d.view, slope);
      CHECK(same_bits(d.view, cpu_backward(expected, dout, slope)));
      CHECK(spare_untouched(d));
    }
}

TEST_CASE("cuda residual add leaky relu in place") {
  for (const Shape& shape : std::vector<Shape>{{2, 5, 7, 3}, {1, 1, 1, 4097}})
    for (std::int64_t offset : {0, 1}) {
      CAPTURE(shape_str(shape));
      CAPTURE(offset);
      const double slope = 0.01;
      const auto [branch, shortcut] = inputs(shape, 7);
      const Tensor expected = cpu_forward(branch, shortcut, slope);

      Placed into_branch = placed_copy(branch, offset);
      residual_add_leaky_forward(into_branch.view, shortcut.to(gpu()), into_branch.view, slope);
      CHECK(same_bits(into_branch.view, expected));
      CHECK(spare_untouched(into_branch));
      Placed into_shortcut = placed_copy(shortcut, offset);
      residual_add_leaky_forward(branch.to(gpu()), into_shortcut.view, into_shortcut.view, slope);
      CHECK(same_bits(into_shortcut.view, expected));

      const Tensor dout = uniform(shape, 8);
      Placed into_dout = placed_copy(dout, offset);
      residual_add_leaky_backward(expected.to(gpu()), into_dout.view, into_dout.view, slope);
      CHECK(same_bits(into_dout.view, cpu_backward(expected, dout, slope)));
      CHECK(spare_untouched(into_dout));
    }
}

TEST_CASE("cuda residual add leaky relu takes float32 only and empty tensors") {
  const Tensor branch = Tensor::zeros({1, 2, 2, 3}, DType::F64, gpu());
  Tensor out = Tensor::zeros({1, 2, 2, 3}, DType::F64, gpu());
  CHECK_THROWS_WITH_AS(residual_add_leaky_forward(branch, branch, out),
                       doctest::Contains("float64 is CPU-only; CUDA kernels take float32"), Error);
  CHECK_THROWS_WITH_AS(residual_add_leaky_backward(branch, branch, out),
                       doctest::Contains("float64 is CPU-only; CUDA kernels take float32"), Error);
  const Tensor empty = Tensor::zeros({0, 2, 2, 3}, DType::F32, gpu());
  Tensor empty_out = Tensor::zeros({0, 2, 2, 3}, DType::F32, gpu());
  CHECK_NOTHROW(residual_add_leaky_forward(empty, empty, empty_out));
  CHECK_NOTHROW(residual_add_leaky_backward(empty, empty, empty_out));
}
