// Residual add + leaky ReLU on CUDA (a GPU or the emulator) against the CPU oracle.
//
// Tolerance: none. Both sides widen the float32 inputs to double, add (exactly), multiply by the
// slope at most once, and round once to float32; nothing can be contracted into an FMA and GPU
// double arithmetic rounds as the host's does. So every element must equal the CPU's bit for bit.
//
// bfloat16 storage: the inputs are rounded to bfloat16 on the host and the oracle runs in float64
// on those very values. The kernel computes the float32 result above from them and rounds it once
// to bfloat16 when storing: at most 2^-24 relative from the float32 rounding plus 2^-8 from the
// store (bfloat16 has 8 significant bits, 7 stored: an ulp is 2^-7 of the leading power of two,
// half of it 2^-8; torch.finfo(torch.bfloat16).eps = 2^-7), so max_scaled_error <= 2^-8 + 2^-23.
// Gradients where out >= 0 pass dout through unchanged: those must be exact.
// And since the float32 arithmetic is the oracle's, the bfloat16 result must be exactly the
// float32 oracle's result on the rounded inputs, rounded to bfloat16 on the host.
//
// The parity checks run for both storage types: with float32 storage the store adds nothing, so
// the results are the float32 oracle's and within 2^-23 of the float64 one.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "kernels/random.h"
#include "kernels/residual.h"
#include "tests/cuda_storage_types.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

// A CPU float32 tensor, uniform in [low, high).
Tensor uniform(const Shape& shape, std::uint64_t stream, double low = -1.0, double high = 1.0) {
  return uniform_f32(shape, stream, low, high, 1234);
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
  Tensor out = Tensor::empty(branch.shape(), branch.dtype());
  residual_add_leaky_forward(branch, shortcut, out, slope);
  return out;
}

Tensor cpu_backward(const Tensor& out, const Tensor& dout, double slope) {
  Tensor d = Tensor::empty(out.shape(), out.dtype());
  residual_add_leaky_backward(out, dout, d, slope);
  return d;
}

}  // namespace

TEST_CASE_TEMPLATE("cuda residual add leaky relu forward and backward equal the cpu bit for bit, in place too", T,
                   float, bf16) {
  // 1 element (scalar tail only), odd sizes (a tail of 1..3 after the float4s), channels that are
  // not multiples of 4 or 32, and 14586 elements: more than the emulator's 4 x 256 threads take in
  // one pass, so the grid-stride loops iterate.
  const std::vector<Shape> shapes = {{1, 1, 1, 1}, {1, 3, 5, 7}, {3, 7, 9, 5}, {2, 13, 17, 33}};
  for (const Shape& shape : shapes)
    for (double slope : {0.01, 0.2}) {
      CAPTURE(shape_str(shape));
      CAPTURE(slope);
      const auto [host_branch, host_shortcut] = inputs(shape, 1);
      const Stored branch(host_branch, dtype_of<T>), shortcut(host_shortcut, dtype_of<T>);
      const Tensor expected = cpu_forward(branch.f32, shortcut.f32, slope);
      Tensor out = nan_tensor(shape, dtype_of<T>);
      residual_add_leaky_forward(branch.device, shortcut.device, out, slope);
      CHECK(out.dtype() == dtype_of<T>);
      CHECK(same_bits(out, expected.cast(dtype_of<T>)));
      CHECK(max_scaled_error(out, cpu_forward(branch.f64, shortcut.f64, slope)) <= kStoreRounding<T> + 0x1p-23);
      Tensor in_place = branch.device.clone();
      residual_add_leaky_forward(in_place, shortcut.device, in_place, slope);
      CHECK(max_scaled_error(in_place, out) == 0.0);

      // Backward from the stored forward output: the oracles' gradient of the very same values.
      const Stored stored_out(expected, dtype_of<T>), dout(uniform(shape, 3), dtype_of<T>);
      const Tensor expected_gradient = cpu_backward(stored_out.f32, dout.f32, slope);
      Tensor d = nan_tensor(shape, dtype_of<T>);
      residual_add_leaky_backward(stored_out.device, dout.device, d, slope);
      CHECK(same_bits(d, expected_gradient.cast(dtype_of<T>)));
      CHECK(max_scaled_error(d, cpu_backward(stored_out.f64, dout.f64, slope)) <= kStoreRounding<T> + 0x1p-23);
      const std::vector<double> got = on_cpu(d).cast(DType::F64).to_vector<double>();
      const std::vector<double> z = stored_out.f64.to_vector<double>(), passed = dout.f64.to_vector<double>();
      bool pass_through_exact = true;
      for (std::size_t i = 0; i < got.size(); ++i)
        if (z[i] >= 0) pass_through_exact = pass_through_exact && got[i] == passed[i];
      CHECK(pass_through_exact);
      Tensor gradient_in_place = dout.device.clone();
      residual_add_leaky_backward(stored_out.device, gradient_in_place, gradient_in_place, slope);
      CHECK(max_scaled_error(gradient_in_place, d) == 0.0);
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
  const Tensor empty_bf16 = Tensor::zeros({0, 2, 2, 3}, DType::BF16, gpu());
  Tensor empty_bf16_out = Tensor::zeros({0, 2, 2, 3}, DType::BF16, gpu());
  CHECK_NOTHROW(residual_add_leaky_forward(empty_bf16, empty_bf16, empty_bf16_out));
}

TEST_CASE("cuda residual add leaky relu takes bfloat16 storage only on CUDA and not beside float32") {
  const Tensor branch = Tensor::zeros({1, 2, 2, 3}, DType::BF16, gpu());
  const Tensor shortcut = Tensor::zeros({1, 2, 2, 3}, DType::F32, gpu());
  Tensor out = Tensor::zeros({1, 2, 2, 3}, DType::BF16, gpu());
  CHECK_THROWS_WITH_AS(
      residual_add_leaky_forward(branch, shortcut, out),
      doctest::Contains("all tensors must share one dtype, shortcut is float32 and branch is bfloat16"), Error);
  const Tensor cpu_branch = Tensor::zeros({1, 2, 2, 3}).cast(DType::BF16);
  Tensor cpu_out = Tensor::zeros({1, 2, 2, 3}).cast(DType::BF16);
  CHECK_THROWS_WITH_AS(residual_add_leaky_forward(cpu_branch, cpu_branch, cpu_out),
                       doctest::Contains("bfloat16 tensors are CUDA-only storage"), Error);
}
