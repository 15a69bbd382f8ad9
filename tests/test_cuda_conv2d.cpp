// Convolution on CUDA (or the SIMT emulator) against the CPU oracle in float64: forward, input
// gradient and weight gradient, for each native algorithm called through its launcher
// (kernels/cuda/conv2d.h) with chosen tilings, and for the public API's automatic choice.
//
// Error measure: per element, |got - expected| / magnitude, where magnitude is the same op run on
// the absolute values of its inputs (sum over the element's products of |a||b|, plus |bias| or the
// accumulated |dw0|). Any rounding of a product or of a partial sum is bounded relative to that
// magnitude, so the bounds below are worst cases, valid for every element whatever its
// cancellation, and an element whose terms are all zero (a stride-2 1x1's skipped pixels) must
// come out exactly zero.
//
// Two references per output:
// - "visible": the oracle on exactly the values the kernel multiplies: the float32 inputs rounded
//   to tf32 (cvt.rna, computed here on the host) for ImplicitGemmTensorCore on float32; the
//   bfloat16 values themselves on bfloat16; the float32 inputs for Simt. What remains is the
//   kernel's accumulation: an mma rounds its fp32 sum once per k-step (8 tf32 or 16 bf16 products)
//   at worst ~2^-21 of the magnitude (the emulator: 2^-24, in double inside each mma; hardware
//   accumulation order and rounding are unspecified, so 8x that), the epilogue's bias add and the
//   split reduction one rounding per split; Simt's fp32 sum rounds once per product, 2^-24.
//   Bound: output rounding (2^-8 for a bfloat16 output, 0 otherwise) + (K/k_step + K/32 + 3) * unit
//   (K the GEMM's reduction length; K/32 bounds the splits). For K = 576 in tf32: 4e-5; Simt: 4e-5.
//   A dropped, duplicated or misplaced product costs ~1/K of the magnitude (>= 1.7e-3), far above.
// - "exact": the oracle on the float32 inputs before any rounding: the visible bound plus the
//   operands' rounding, (1 + 2^-11)^2 - 1 ~ 2^-10 ~ 1e-3 for tf32, (1 + 2^-8)^2 - 1 ~ 2^-7 ~ 8e-3
//   for bfloat16: the usual rule of thumb, TF32 about 1e-3 and bf16 about 1e-2 relative.
//
// Shapes are small (the emulator runs ~1 us per thread switch and every mma is a warp exchange)
// but cover: batch 1 and 3; Cin 4, 8, 36, 64 and Cout 8, 24, 72 (not multiples of the 64-wide
// tiles, two N tiles, M over several 64- and 128-row tiles); stride 2; dilation 2 and 4; 1x1, 3x3,
// 7x7/2; the 3-channel stem (Simt only). Outputs start as NaN; dw and dbias start from random
// values and must accumulate.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/random.h"
#include "tests/cuda_storage_types.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

struct Case {
  const char* name;
  Shape x;  // {N, H, W, Cin}
  std::int64_t out_channels, kernel;
  Conv2dParams params;
};

const Case kCases[] = {
    {"3x3 pad 1, batch 3, 8 -> 8, three 64-row tiles", {3, 7, 9, 8}, 8, 3, {1, 1, 1}},
    {"3x3 pad 1, batch 3, 64 -> 72, three 64-row tiles, K 576", {3, 6, 8, 64}, 72, 3, {1, 1, 1}},
    {"3x3 dilation 2 pad 2, 36 -> 24", {1, 6, 7, 36}, 24, 3, {1, 2, 2}},
    {"3x3 dilation 4 pad 4, 4 -> 72, two N tiles", {1, 9, 10, 4}, 72, 3, {1, 4, 4}},
    {"3x3 stride 2 pad 1, batch 3, 64 -> 24", {3, 7, 8, 64}, 24, 3, {2, 1, 1}},
    {"1x1, batch 3, 64 -> 72", {3, 4, 5, 64}, 72, 1, {1, 0, 1}},
    {"1x1 stride 2 projection, 36 -> 8", {1, 9, 7, 36}, 8, 1, {2, 0, 1}},
    {"7x7 stride 2 pad 3, 4 -> 8", {1, 11, 13, 4}, 8, 7, {2, 3, 1}},
    {"3x3 stride 2 dilation 2 pad 2, 8 -> 16", {1, 9, 9, 8}, 16, 3, {2, 2, 2}},
    {"7x7 stride 2 pad 3 stem, 3 -> 8", {1, 13, 11, 3}, 8, 7, {2, 3, 1}},
    {"3x3 pad 1, 6 -> 12 (channels not in 16-byte chunks)", {3, 5, 4, 6}, 12, 3, {1, 1, 1}},
};

Conv2dGeometry geometry_of(const Case& c) {
  return {c.x[0],
          c.x[1],
          c.x[2],
          c.x[3],
          c.out_channels,
          c.kernel,
          c.kernel,
          conv2d_output_size(c.x[1], c.kernel, c.params),
          conv2d_output_size(c.x[2], c.kernel, c.params),
          c.params.stride,
          c.params.padding,
          c.params.dilation};
}

Tensor random_f32(const Shape& shape, std::uint64_t stream) { return uniform_f32(shape, stream, -1.0, 1.0, 2025); }

// tf32 = f32 with a 10-bit mantissa; cvt.rna rounds to nearest, ties away from zero. Computed
// from the significand in double, independently of the emulator's bit manipulation.
double round_to_tf32(double value) {
  if (value == 0.0) return value;
  int exponent;
  const double significand = std::frexp(std::abs(value), &exponent);  // in [0.5, 1)
  return std::copysign(std::ldexp(std::floor(significand * 2048.0 + 0.5) / 2048.0, exponent), value);
}

Tensor map64(const Tensor& t, double (*f)(double)) {
  Tensor r = t.cast(DType::F64);
  double* v = r.data<double>();
  for (std::int64_t i = 0; i < r.numel(); ++i) v[i] = f(v[i]);
  return r;
}
double identity(double v) { return v; }
double absolute(double v) { return std::abs(v); }

// max over elements of |got - expected| / magnitude; NaN anywhere counts as infinite.
double max_error_per_magnitude(const Tensor& got, const Tensor& expected, const Tensor& magnitude) {
  const std::vector<double> u = f64(got).to_vector<double>(), v = expected.to_vector<double>(),
                            m = magnitude.to_vector<double>();
  REQUIRE(u.size() == v.size());
  double worst = 0;
  for (std::size_t i = 0; i < u.size(); ++i) {
    if (std::isnan(u[i]) || std::isnan(v[i])) return std::numeric_limits<double>::infinity();
    const double error = std::abs(u[i] - v[i]);
    if (error == 0) continue;
    worst = std::max(worst, m[i] > 0 ? error / m[i] : std::numeric_limits<double>::infinity());
  }
  return worst;
}

// How a run is made: through the public API (automatic algorithm and tiling) or a launcher.
struct Variant {
  const char* name;
  bool public_api;
  Conv2dAlgo algo;
  cuda::Conv2dTiling tiling;
};

// The case's inputs as the device gets them (float32 or bfloat16 storage; bias, dw and dbias are
// float32 either way), and the pass being checked.
struct Problem {
  Case c;
  Conv2dGeometry g;
  DType dtype;
  Tensor x, w, dy, bias, dw0, dbias0;  // host tensors

  Problem(const Case& c_, DType dtype_) : c(c_), g(geometry_of(c_)), dtype(dtype_) {
    const auto storage = [&](const Shape& shape, std::uint64_t stream) {
      const Tensor t = random_f32(shape, stream);
      return dtype == DType::BF16 ? t.cast(DType::BF16) : t;
    };
    x = storage(c.x, 1);
    w = storage({g.out_channels, g.kernel_height, g.kernel_width, g.in_channels}, 2);
    dy = storage({g.batch, g.out_height, g.out_width, g.out_channels}, 3);
    bias = random_f32({g.out_channels}, 4);
    dw0 = random_f32(w.shape(), 5);
    dbias0 = random_f32({g.out_channels}, 6);
  }

  // The algorithm a variant runs (the public API's choice predicted from the misfit rule).
  Conv2dAlgo algo(const Variant& v) const {
    if (!v.public_api) return v.algo;
    const bool aligned_channels = g.in_channels % (16 / std::int64_t(dtype_size(dtype))) == 0 &&
                                  g.out_channels % (16 / std::int64_t(dtype_size(dtype))) == 0;
    return aligned_channels ? Conv2dAlgo::ImplicitGemmTensorCore : Conv2dAlgo::Simt;
  }
};

// Storage type dispatch for the launchers.
template <class Body>
void with_storage(DType dtype, Body body) {
  if (dtype == DType::BF16)
    body(bf16{});
  else
    body(float{});
}

Tensor run_forward(const Problem& p, const Variant& v) {
  const Tensor x = p.x.to(gpu()), w = p.w.to(gpu()), bias = p.bias.to(gpu());
  Tensor y = nan_tensor({p.g.batch, p.g.out_height, p.g.out_width, p.g.out_channels}, p.dtype);
  if (v.public_api) {
    conv2d_forward(x, w, bias, y, p.c.params);
  } else {
    with_storage(p.dtype, [&](auto storage) {
      using S = decltype(storage);
      cuda::conv2d_forward<S>(v.algo, p.g, x.data<S>(), w.data<S>(), bias.data<float>(), y.data<S>(), v.tiling);
    });
  }
  return on_cpu(y);
}

Tensor run_backward_input(const Problem& p, const Variant& v) {
  const Tensor dy = p.dy.to(gpu()), w = p.w.to(gpu());
  Tensor dx = nan_tensor(p.x.shape(), p.dtype);
  if (v.public_api) {
    conv2d_backward_input(dy, w, dx, p.c.params);
  } else {
    with_storage(p.dtype, [&](auto storage) {
      using S = decltype(storage);
      cuda::conv2d_backward_input<S>(v.algo, p.g, dy.data<S>(), w.data<S>(), dx.data<S>(), v.tiling);
    });
  }
  return on_cpu(dx);
}

std::pair<Tensor, Tensor> run_backward_weight(const Problem& p, const Variant& v) {
  const Tensor dy = p.dy.to(gpu()), x = p.x.to(gpu());
  Tensor dw = p.dw0.to(gpu()), dbias = p.dbias0.to(gpu());
  if (v.public_api) {
    conv2d_backward_weight(dy, x, dw, dbias, p.c.params);
  } else {
    Tensor scratch =
        Tensor::empty({cuda::conv2d_backward_weight_scratch_floats(v.algo, p.g, v.tiling)}, DType::F32, gpu());
    with_storage(p.dtype, [&](auto storage) {
      using S = decltype(storage);
      cuda::conv2d_backward_weight<S>(v.algo, p.g, dy.data<S>(), x.data<S>(), dw.data<float>(), dbias.data<float>(),
                                      scratch.data<float>(), v.tiling);
    });
  }
  return {on_cpu(dw), on_cpu(dbias)};
}

// The error bounds of the file comment for a reduction of length k.
struct Bounds {
  double visible, exact;
};
Bounds bounds(DType dtype, Conv2dAlgo algo, std::int64_t k, bool storage_output) {
  const double splits_and_epilogue = double(k) / 32 + 3;
  if (algo == Conv2dAlgo::Simt) {
    const double visible =
        (double(k) + splits_and_epilogue) * 0x1p-24 + (storage_output && dtype == DType::BF16 ? 0x1p-8 : 0);
    return {visible, visible + (dtype == DType::BF16 ? 0x1p-7 : 0)};
  }
  if (dtype == DType::BF16) {
    const double visible = (double(k) / 16 + splits_and_epilogue) * 0x1p-21 + (storage_output ? 0x1p-8 : 0);
    return {visible, visible + 0x1p-7};
  }
  const double visible = (double(k) / 8 + splits_and_epilogue) * 0x1p-21;
  return {visible, visible + 0x1p-10};
}

// Rounds what the kernel multiplies: tf32 operands for tensor cores on float32, else unchanged
// (bfloat16 storage already holds the values the kernel multiplies).
Tensor visible(const Tensor& t, DType dtype, Conv2dAlgo algo) {
  return map64(t, algo == Conv2dAlgo::ImplicitGemmTensorCore && dtype == DType::F32 ? round_to_tf32 : identity);
}
// The float32 values before the bfloat16 rounding (the "exact" reference).
Tensor unrounded(const Shape& shape, std::uint64_t stream) { return random_f32(shape, stream).cast(DType::F64); }

void check_forward(const Problem& p, const Variant& v) {
  INFO("variant: ", v.name);
  const Conv2dAlgo algo = p.algo(v);
  const Tensor y = run_forward(p, v);
  const Tensor bias = p.bias.cast(DType::F64);
  const Tensor magnitude =
      conv2d_forward(map64(p.x, absolute), map64(p.w, absolute), map64(p.bias, absolute), p.c.params);
  const Bounds bound = bounds(p.dtype, algo, p.g.kernel_height * p.g.kernel_width * p.g.in_channels, true);
  const double visible_error = max_error_per_magnitude(
      y, conv2d_forward(visible(p.x, p.dtype, algo), visible(p.w, p.dtype, algo), bias, p.c.params), magnitude);
  const double exact_error = max_error_per_magnitude(
      y, conv2d_forward(unrounded(p.x.shape(), 1), unrounded(p.w.shape(), 2), bias, p.c.params), magnitude);
  INFO("forward: error ", visible_error, " (bound ", bound.visible, "), against unrounded inputs ", exact_error,
       " (bound ", bound.exact, ")");
  CHECK(visible_error <= bound.visible);
  CHECK(exact_error <= bound.exact);
}

void check_backward_input(const Problem& p, const Variant& v) {
  INFO("variant: ", v.name);
  const Conv2dAlgo algo = p.algo(v);
  const Tensor dx = run_backward_input(p, v);
  const auto reference = [&](const Tensor& dy, const Tensor& w) {
    Tensor out = Tensor::empty(p.x.shape(), DType::F64);
    conv2d_backward_input(dy, w, out, p.c.params);
    return out;
  };
  const Tensor magnitude = reference(map64(p.dy, absolute), map64(p.w, absolute));
  const Bounds bound = bounds(p.dtype, algo, p.g.kernel_height * p.g.kernel_width * p.g.out_channels, true);
  const double visible_error =
      max_error_per_magnitude(dx, reference(visible(p.dy, p.dtype, algo), visible(p.w, p.dtype, algo)), magnitude);
  const double exact_error =
      max_error_per_magnitude(dx, reference(unrounded(p.dy.shape(), 3), unrounded(p.w.shape(), 2)), magnitude);
  INFO("backward input: error ", visible_error, " (bound ", bound.visible, "), against unrounded inputs ", exact_error,
       " (bound ", bound.exact, ")");
  CHECK(visible_error <= bound.visible);
  CHECK(exact_error <= bound.exact);
}

void check_backward_weight(const Problem& p, const Variant& v) {
  INFO("variant: ", v.name);
  const Conv2dAlgo algo = p.algo(v);
  const auto [dw, dbias] = run_backward_weight(p, v);
  // dw0 + the gradient, in float64: the expected accumulation.
  const auto reference = [&](const Tensor& dy, const Tensor& x, const Tensor& dw0, const Tensor& dbias0) {
    Tensor out = dw0.clone(), out_bias = dbias0.clone();
    conv2d_backward_weight(dy, x, out, out_bias, p.c.params);
    return std::pair<Tensor, Tensor>{out, out_bias};
  };
  const auto [magnitude, bias_magnitude] =
      reference(map64(p.dy, absolute), map64(p.x, absolute), map64(p.dw0, absolute), map64(p.dbias0, absolute));
  const Tensor dw0 = p.dw0.cast(DType::F64), dbias0 = p.dbias0.cast(DType::F64);
  const Bounds bound = bounds(p.dtype, algo, p.g.batch * p.g.out_height * p.g.out_width, false);
  const auto [visible_dw, visible_dbias] =
      reference(visible(p.dy, p.dtype, algo), visible(p.x, p.dtype, algo), dw0, dbias0);
  // dbias sums dy as stored (no tf32 rounding): its reference is the unrounded one.
  const auto [stored_dw, stored_dbias] = reference(p.dy.cast(DType::F64), p.x.cast(DType::F64), dw0, dbias0);
  const auto [exact_dw, exact_dbias] = reference(unrounded(p.dy.shape(), 3), unrounded(p.x.shape(), 1), dw0, dbias0);
  const double dw_error = max_error_per_magnitude(dw, visible_dw, magnitude);
  const double dbias_error = max_error_per_magnitude(dbias, stored_dbias, bias_magnitude);
  const double exact_dw_error = max_error_per_magnitude(dw, exact_dw, magnitude);
  const double exact_dbias_error = max_error_per_magnitude(dbias, exact_dbias, bias_magnitude);
  INFO("backward weight: dw error ", dw_error, ", dbias error ", dbias_error, " (bound ", bound.visible,
       "), against unrounded inputs ", exact_dw_error, ", ", exact_dbias_error, " (bound ", bound.exact, ")");
  CHECK(dw_error <= bound.visible);
  CHECK(dbias_error <= bound.visible);
  CHECK(exact_dw_error <= bound.exact);
  CHECK(exact_dbias_error <= bound.exact);
}

bool fits_tensor_cores(const Problem& p) {
  return cuda::conv2d_tensor_core_misfit(p.g, dtype_size(p.dtype), {}) == nullptr;
}

// Every case through the public API, the tensor-core launcher at the tiling the automatic choice
// does not take on these small shapes (128-row tiles, 3 weight-gradient splits), and Simt with 2
// splits.
void check_all_passes(DType dtype, const std::vector<int>& cases) {
  const Variant variants[] = {
      {"public API (automatic choice)", true, Conv2dAlgo::ImplicitGemmTensorCore, {}},
      {"tensor cores, 128-row tiles, 3 splits", false, Conv2dAlgo::ImplicitGemmTensorCore, {128, 3}},
      {"simt, 2 splits", false, Conv2dAlgo::Simt, {0, 2}},
  };
  for (int index : cases) {
    const Problem p(kCases[index], dtype);
    INFO("case: ", p.c.name);
    for (const Variant& v : variants) {
      if (!v.public_api && v.algo == Conv2dAlgo::ImplicitGemmTensorCore && !fits_tensor_cores(p)) continue;
      check_forward(p, v);
      check_backward_input(p, v);
      check_backward_weight(p, v);
    }
  }
}

}  // namespace

TEST_CASE("cuda conv2d float32 (tf32 tensor cores and simt) matches the oracle: 1x1, 3x3, dilation, stride") {
  check_all_passes(DType::F32, {0, 1, 2, 3, 4, 5, 6, 8});
}

TEST_CASE("cuda conv2d float32 7x7/2 and channel counts the tensor cores do not take") {
  check_all_passes(DType::F32, {7, 9, 10});
}

TEST_CASE("cuda conv2d bfloat16 (bf16 tensor cores and simt) matches the oracle") {
  // Cin 8 and 64 fit bf16's 8-element chunks; 36 and 3 go to Simt.
  check_all_passes(DType::BF16, {0, 4, 5, 6, 8, 9});
}

TEST_CASE("cuda conv2d tensor-core fit: 16-byte channel chunks and aligned pointers") {
  const Conv2dGeometry stem = geometry_of(kCases[9]), cin36 = geometry_of(kCases[2]);
  CHECK(std::string(cuda::conv2d_tensor_core_misfit(stem, 4, {})).find("Cin is not a multiple of 4") == 0);
  CHECK(cuda::conv2d_tensor_core_misfit(cin36, 4, {}) == nullptr);
  CHECK(std::string(cuda::conv2d_tensor_core_misfit(cin36, 2, {})).find("Cin is not a multiple of 8") == 0);
  alignas(16) float memory[8];
  CHECK(cuda::conv2d_tensor_core_misfit(cin36, 4, {memory}) == nullptr);
  CHECK(std::string(cuda::conv2d_tensor_core_misfit(cin36, 4, {memory + 1})).find("16-byte aligned") !=
        std::string::npos);
}

TEST_CASE_TEMPLATE("cuda conv2d is deterministic: the same call twice gives the same bits", T, float, bf16) {
  const Problem p(kCases[4], dtype_of<T>);  // 3x3/2, 64 -> 24: every pass on tensor cores
  for (const Variant& v : {Variant{"tensor cores, 4 splits", false, Conv2dAlgo::ImplicitGemmTensorCore, {64, 4}},
                           Variant{"simt, 3 splits", false, Conv2dAlgo::Simt, {0, 3}}}) {
    INFO("variant: ", v.name);
    CHECK(same_bits(run_forward(p, v), run_forward(p, v)));
    CHECK(same_bits(run_backward_input(p, v), run_backward_input(p, v)));
    const auto [dw, dbias] = run_backward_weight(p, v);
    const auto [dw_again, dbias_again] = run_backward_weight(p, v);
    CHECK(same_bits(dw, dw_again));
    CHECK(same_bits(dbias, dbias_again));
  }
}

// The epilogue stores two adjacent columns at once where the output is aligned for it; an output
// one element off that alignment takes the one-element stores, with the same bits (a paired store
// there would fault on a GPU, and UBSan reports it in the emulator's sanitizer build).
TEST_CASE_TEMPLATE("cuda conv2d tensor cores write an output at an odd element offset", T, float, bf16) {
  const Problem p(kCases[4], dtype_of<T>);  // 3x3/2, 64 -> 24: every pass on tensor cores
  const Variant v{"tensor cores", false, Conv2dAlgo::ImplicitGemmTensorCore, {64, 0}};
  const Tensor x = p.x.to(gpu()), w = p.w.to(gpu()), bias = p.bias.to(gpu()), dy = p.dy.to(gpu());
  const Shape y_shape{p.g.batch, p.g.out_height, p.g.out_width, p.g.out_channels};
  const auto odd_view = [&](const Shape& shape) {  // elements 1 .. n of a flat buffer of n + 1
    std::int64_t n = 1;
    for (std::int64_t extent : shape) n *= extent;
    return nan_tensor({n + 1}, p.dtype).narrow(0, 1, n).reshape(shape);
  };
  Tensor y = odd_view(y_shape), dx = odd_view(p.x.shape());
  REQUIRE(reinterpret_cast<std::uintptr_t>(y.data<T>()) % (2 * sizeof(T)) != 0);
  cuda::conv2d_forward<T>(v.algo, p.g, x.data<T>(), w.data<T>(), bias.data<float>(), y.data<T>(), v.tiling);
  cuda::conv2d_backward_input<T>(v.algo, p.g, dy.data<T>(), w.data<T>(), dx.data<T>(), v.tiling);
  CHECK(same_bits(on_cpu(y), run_forward(p, v)));
  CHECK(same_bits(on_cpu(dx), run_backward_input(p, v)));
}

TEST_CASE("cuda conv2d without bias, and the dtype rules of mixed precision") {
  const Problem p(kCases[0], DType::F32);
  const Tensor x = p.x.to(gpu()), w = p.w.to(gpu()), dy = p.dy.to(gpu());
  const Tensor y = conv2d_forward(x, w, Tensor(), p.c.params);
  const Tensor expected = conv2d_forward(p.x.cast(DType::F64), p.w.cast(DType::F64), Tensor(), p.c.params);
  CHECK(max_scaled_error(y, expected) < 1e-2);
  Tensor dw = p.dw0.to(gpu()), no_bias;
  conv2d_backward_weight(dy, x, dw, no_bias, p.c.params);
  Tensor expected_dw = p.dw0.cast(DType::F64), no_bias64;
  conv2d_backward_weight(p.dy.cast(DType::F64), p.x.cast(DType::F64), expected_dw, no_bias64, p.c.params);
  CHECK(max_scaled_error(dw, expected_dw) < 1e-2);

  const Tensor x64 = Tensor::zeros(p.x.shape(), DType::F64, gpu()), w64 = Tensor::zeros(p.w.shape(), DType::F64, gpu());
  CHECK_THROWS_WITH_AS(conv2d_forward(x64, w64, Tensor(), p.c.params), doctest::Contains("float64 is CPU-only"), Error);
  const Tensor x16 = p.x.cast(DType::BF16).to(gpu()), w16 = p.w.cast(DType::BF16).to(gpu());
  const Tensor bias16 = p.bias.cast(DType::BF16).to(gpu());
  CHECK_THROWS_WITH_AS(conv2d_forward(x16, w16, bias16, p.c.params),
                       doctest::Contains("bias must be float32 beside bfloat16 activations"), Error);
}

TEST_CASE("cuda conv2d on an empty batch writes nothing and adds nothing") {
  const Conv2dParams params{1, 1, 1};
  for (std::int64_t channels : {8, 3}) {  // tensor cores, Simt
    CAPTURE(channels);
    const Tensor x = Tensor::zeros({0, 5, 5, channels}, DType::F32, gpu());
    const Tensor w = Tensor::zeros({8, 3, 3, channels}, DType::F32, gpu());
    const Tensor y = conv2d_forward(x, w, Tensor(), params);
    CHECK(y.numel() == 0);
    Tensor dx = Tensor::zeros(x.shape(), DType::F32, gpu());
    conv2d_backward_input(y, w, dx, params);
    Tensor dw = Tensor::zeros(w.shape(), DType::F32, gpu()), dbias = Tensor::zeros({8}, DType::F32, gpu());
    conv2d_backward_weight(y, x, dw, dbias, params);
    CHECK(max_scaled_error(dw, Tensor::zeros(w.shape())) == 0);
    CHECK(max_scaled_error(dbias, Tensor::zeros({8})) == 0);
  }
}
