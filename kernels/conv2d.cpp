#include "kernels/conv2d.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <mutex>
#include <set>
#include <string>

#include "kernels/configuration.h"
#include "kernels/cpu_fast/conv2d.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/conv2d_cudnn.h"
#include "kernels/cuda_dispatch.h"
#include "kernels/op_check.h"

namespace pans {

const char* conv2d_algo_name(Conv2dAlgo algo) {
  switch (algo) {
    case Conv2dAlgo::ImplicitGemmTensorCore:
      return "implicit_gemm_tensor_core";
    case Conv2dAlgo::Simt:
      return "simt";
    case Conv2dAlgo::Cudnn:
      return "cudnn";
  }
  return "unknown";
}

namespace cuda {

// Host logic only, so that every build (the benchmark's dry run included) can ask it.
const char* conv2d_tensor_core_misfit(const Conv2dGeometry& g, std::size_t element_bytes,
                                      std::initializer_list<const void*> pointers) {
  const std::int64_t chunk = 16 / std::int64_t(element_bytes);
  if (g.in_channels == 0 || g.out_channels == 0) return "a channel count is 0";
  if (g.in_channels % chunk != 0)
    return element_bytes == 2 ? "Cin is not a multiple of 8 bfloat16 (16 bytes)"
                              : "Cin is not a multiple of 4 floats (16 bytes)";
  if (g.out_channels % chunk != 0)
    return element_bytes == 2 ? "Cout is not a multiple of 8 bfloat16 (16 bytes)"
                              : "Cout is not a multiple of 4 floats (16 bytes)";
  for (const void* pointer : pointers)
    if (reinterpret_cast<std::uintptr_t>(pointer) % 16 != 0) return "a tensor is not 16-byte aligned";
  return nullptr;
}

}  // namespace cuda

namespace {

void check_params(const OpCheck& check, const Conv2dParams& params) {
  check.require(params.stride >= 1 && params.dilation >= 1 && params.padding >= 0, "invalid stride ", params.stride,
                ", padding ", params.padding, ", dilation ", params.dilation);
}

// Validates the tensors shared by all three passes and derives the geometry from x's shape (or,
// for the input gradient, from dx's shape) and w.
Conv2dGeometry geometry(const OpCheck& check, const Tensor& input, const Tensor& w, const Conv2dParams& params) {
  check_params(check, params);
  check.rank("input", input, 4);
  check.rank("w", w, 4);
  check.require(w.dim(3) == input.dim(3), "w expects ", w.dim(3), " input channels, the input has ", input.dim(3));
  Conv2dGeometry g{input.dim(0),
                   input.dim(1),
                   input.dim(2),
                   input.dim(3),
                   w.dim(0),
                   w.dim(1),
                   w.dim(2),
                   conv2d_output_size(input.dim(1), w.dim(1), params),
                   conv2d_output_size(input.dim(2), w.dim(2), params),
                   params.stride,
                   params.padding,
                   params.dilation};
  check.require(g.out_height > 0 && g.out_width > 0, "the ", g.kernel_height, "x", g.kernel_width,
                " kernel does not fit the padded input");
  return g;
}

Shape output_shape(const Conv2dGeometry& g) { return {g.batch, g.out_height, g.out_width, g.out_channels}; }

// Logs the algorithm chosen for a CUDA convolution to stderr, once per distinct op, layer shape
// and dtype (the choice depends on nothing else), e.g.
//   pans: conv2d_forward 7x7/2 3->64 float32: simt, as Cin is not a multiple of 4 floats (16 bytes)
// Implementations::log_conv_algorithms = false (PANS_CONV_LOG=0) silences it. (Unused in builds
// without CUDA.)
[[maybe_unused]] void log_algo_choice(const char* op, const Conv2dGeometry& g, DType dtype, Conv2dAlgo algo,
                                      const char* why) {
  if (!kernel_configuration().log_conv_algorithms) return;
  std::string line = std::string(op) + " " + std::to_string(g.kernel_height) + "x" + std::to_string(g.kernel_width) +
                     "/" + std::to_string(g.stride);
  if (g.dilation != 1) line += " dilation " + std::to_string(g.dilation);
  line += " " + std::to_string(g.in_channels) + "->" + std::to_string(g.out_channels) + " " + dtype_name(dtype) + ": " +
          conv2d_algo_name(algo);
  if (why != nullptr) line += std::string(", as ") + why;
  static std::mutex mutex;
  static std::set<std::string> logged;
  const std::lock_guard<std::mutex> lock(mutex);
  if (logged.insert(line).second) std::fprintf(stderr, "pans: %s\n", line.c_str());
}

// The one place that picks a CUDA convolution's algorithm: cuDNN when the configuration asks for it
// (kernels/configuration.h; cuDNN is a cross-check and speed baseline, never a silent fallback),
// otherwise the tensor-core implicit GEMM whenever it takes the layer (channel counts in whole
// 16-byte chunks, aligned tensors), else the plain SIMT kernel.
// A template on the storage type S (float or bf16), instantiated only where a CUDA launch is.
template <class S>
Conv2dAlgo cuda_algo(const char* op, const Conv2dGeometry& g, std::initializer_list<const void*> pointers) {
  const bool cudnn = kernel_configuration().conv == ConvImplementation::Cudnn;
  const char* misfit = cudnn ? "cuDNN was asked for" : cuda::conv2d_tensor_core_misfit(g, sizeof(S), pointers);
  const Conv2dAlgo algo = cudnn               ? Conv2dAlgo::Cudnn
                          : misfit == nullptr ? Conv2dAlgo::ImplicitGemmTensorCore
                                              : Conv2dAlgo::Simt;
  log_algo_choice(op, g, dtype_of<S>, algo, misfit);
  return algo;
}

}  // namespace

std::int64_t conv2d_output_size(std::int64_t input_size, std::int64_t kernel_size, const Conv2dParams& params) {
  PANS_CHECK(params.stride >= 1 && params.dilation >= 1 && params.padding >= 0, "conv2d: invalid stride ",
             params.stride, ", padding ", params.padding, ", dilation ", params.dilation);
  const std::int64_t span = input_size + 2 * params.padding - params.dilation * (kernel_size - 1) - 1;
  // A kernel wider than the padded input has no output (C++ division would round -1/s up to 0).
  return span < 0 ? 0 : span / params.stride + 1;
}

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, const Conv2dParams& params) {
  const OpCheck check("conv2d_forward", {{"x", &x}, {"w", &w}, {"bias", &bias}, {"y", &y}});
  check.same_device_float_contiguous({}, {"bias"});
  const Conv2dGeometry g = geometry(check, x, w, params);
  if (bias.defined()) check.shape("bias", bias, {g.out_channels});
  check.shape("y", y, output_shape(g));
  if (ran_on_cuda_with_bf16(check, x, [&](auto storage) {
        using S = decltype(storage);
        const Conv2dAlgo algo = cuda_algo<S>(check.op(), g, {x.raw_data(), w.raw_data()});
        const float* bias_values = bias.defined() ? bias.data<float>() : nullptr;
        if (algo == Conv2dAlgo::Cudnn)
          cuda::conv2d_forward_cudnn(g, dtype_of<S>, x.raw_data(), w.raw_data(), bias_values, y.raw_data());
        else
          cuda::conv2d_forward<S>(algo, g, x.data<S>(), w.data<S>(), bias_values, y.data<S>());
      }))
    return;
  dispatch_floating(check, x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu_fast::conv2d_forward<T>(g, x.data<T>(), w.data<T>(), bias.defined() ? bias.data<T>() : nullptr, y.data<T>());
  });
}

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& params) {
  PANS_CHECK(x.ndim() == 4 && w.ndim() == 4, "conv2d_forward: ", x.describe("x"), " and ", w.describe("w"),
             " must both have 4 dimensions");
  Tensor y = Tensor::empty({x.dim(0), conv2d_output_size(x.dim(1), w.dim(1), params),
                            conv2d_output_size(x.dim(2), w.dim(2), params), w.dim(0)},
                           x.dtype(), x.device());
  conv2d_forward(x, w, bias, y, params);
  return y;
}

void conv2d_backward_input(const Tensor& dy, const Tensor& w, Tensor& dx, const Conv2dParams& params) {
  const OpCheck check("conv2d_backward_input", {{"dy", &dy}, {"w", &w}, {"dx", &dx}});
  check.same_device_float_contiguous();
  const Conv2dGeometry g = geometry(check, dx, w, params);
  check.shape("dy", dy, output_shape(g));
  if (ran_on_cuda_with_bf16(check, dy, [&](auto storage) {
        using S = decltype(storage);
        const Conv2dAlgo algo = cuda_algo<S>(check.op(), g, {dy.raw_data(), w.raw_data()});
        if (algo == Conv2dAlgo::Cudnn)
          cuda::conv2d_backward_input_cudnn(g, dtype_of<S>, dy.raw_data(), w.raw_data(), dx.raw_data());
        else
          cuda::conv2d_backward_input<S>(algo, g, dy.data<S>(), w.data<S>(), dx.data<S>());
      }))
    return;
  dispatch_floating(check, dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu_fast::conv2d_backward_input<T>(g, dy.data<T>(), w.data<T>(), dx.data<T>());
  });
}

void conv2d_backward_weight(const Tensor& dy, const Tensor& x, Tensor& dw, Tensor& dbias, const Conv2dParams& params) {
  const OpCheck check("conv2d_backward_weight", {{"dy", &dy}, {"x", &x}, {"dw", &dw}, {"dbias", &dbias}});
  check.same_device_float_contiguous({}, {"dw", "dbias"});
  const Conv2dGeometry g = geometry(check, x, dw, params);
  check.shape("dy", dy, output_shape(g));
  if (dbias.defined()) check.shape("dbias", dbias, {g.out_channels});
  if (ran_on_cuda_with_bf16(check, dy, [&](auto storage) {
        using S = decltype(storage);
        const Conv2dAlgo algo = cuda_algo<S>(check.op(), g, {dy.raw_data(), x.raw_data()});
        if (algo == Conv2dAlgo::Cudnn) {
          cuda::conv2d_backward_weight_cudnn(g, dtype_of<S>, dy.raw_data(), x.raw_data(), dw.raw_data(),
                                             dbias.defined() ? dbias.raw_data() : nullptr, DType::F32);
          return;
        }
        Tensor scratch = Tensor::empty(
            {std::max<std::int64_t>(1, cuda::conv2d_backward_weight_scratch_floats(algo, g))}, DType::F32, dy.device());
        cuda::conv2d_backward_weight<S>(algo, g, dy.data<S>(), x.data<S>(), dw.data<float>(),
                                        dbias.defined() ? dbias.data<float>() : nullptr, scratch.data<float>());
      }))
    return;
  dispatch_floating(check, dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu_fast::conv2d_backward_weight<T>(g, dy.data<T>(), x.data<T>(), dw.data<T>(),
                                   dbias.defined() ? dbias.data<T>() : nullptr);
  });
}

}  // namespace pans
