#include "bench/gpu_bench.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>

#include "kernels/concat.h"
#include "kernels/configuration.h"
#include "kernels/conv2d.h"
#include "kernels/cosine_head.h"
#include "kernels/cross_entropy.h"
#include "kernels/cuda/conv2d_cudnn.h"
#include "kernels/cuda/cudnn.h"
#include "kernels/cuda/cudnn_elementwise.h"
#include "kernels/cuda/gemm_cublas.h"
#include "kernels/cuda/iabn_cudnn.h"
#include "kernels/cuda/stream.h"
#include "kernels/dropout.h"
#include "kernels/iabn.h"
#include "kernels/pool.h"
#include "kernels/random.h"
#include "kernels/residual.h"
#include "kernels/resize.h"
#include "kernels/sgd.h"
#include "tensor/cuda_check.h"
#include "tensor/cuda_runtime.h"

namespace pans::bench {
namespace {

using nlohmann::json;

constexpr std::uint64_t kSeed = 2024;
constexpr double kSlope = 0.01, kEps = 1e-5, kMomentum = 0.1;

// ---- device data ------------------------------------------------------------------------------

class Data {
 public:
  explicit Data(int device) : device_(Device::cuda(device)) {}

  Device device() const { return device_; }

  Tensor empty(const Shape& shape, DType dtype) const { return Tensor::empty(shape, dtype, device_); }
  Tensor zeros(const Shape& shape, DType dtype) const { return Tensor::zeros(shape, dtype, device_); }

  // Uniform in [low, high), drawn on the device (a fresh Philox stream per tensor); bfloat16 by
  // rounding a float32 draw.
  Tensor uniform(const Shape& shape, DType dtype, double low = -1.0, double high = 1.0) {
    Tensor values = empty(shape, DType::F32);
    fill_uniform(values, kSeed, next_stream_++, low, high);
    if (dtype == DType::F32) return values;
    PANS_CHECK(dtype == DType::BF16, "bench: no uniform fill for ", dtype_name(dtype));
    Tensor rounded = empty(shape, DType::BF16);
    cuda::convert_float_to_bf16(values.data<float>(), rounded.data<bf16>(), values.numel());
    return rounded;
  }

  // Labels in [0, classes) with about 5% ignored (255), as padded crops have; drawn on the host.
  Tensor labels(const Shape& shape, std::int64_t classes) {
    std::mt19937 random(unsigned(next_stream_++));
    std::uniform_int_distribution<int> draw(0, int(classes) - 1), ignore(0, 19);
    Tensor host = Tensor::empty(shape, DType::U8);
    std::uint8_t* values = host.data<std::uint8_t>();
    for (std::int64_t i = 0; i < host.numel(); ++i) values[i] = std::uint8_t(ignore(random) == 0 ? 255 : draw(random));
    return host.to(device_);
  }

 private:
  Device device_;
  std::uint64_t next_stream_ = 1;
};

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

// max |native - library| / max |library|: one number per tensor, infinite if native has a NaN or
// an infinity (an unwritten or broken output).
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

// ---- one row's work ---------------------------------------------------------------------------

// What a row times: `native` (the public pans op, as training calls it) and, if the row has a
// baseline, `library`; `check`, if set, runs both once more and compares their outputs.
struct Runner {
  std::function<void()> native;
  std::function<void()> library;
  std::string library_algo;
  std::string library_error;  // set when the baseline could not even be prepared
  std::function<json()> check;
};

template <class F>
void with_storage(DType dtype, F body) {
  if (dtype == DType::BF16)
    body(bf16{});
  else
    body(float{});
}

Shape nhwc(const ActivationShape& s) { return {s.n, s.h, s.w, s.c}; }

// Tolerances of the native-vs-cuDNN cross-check, relative to the largest |output|: TF32 rounds
// each input to 11 significant bits (relative 2^-11 ~ 4.9e-4 per product; errors of K random-sign
// terms grow like the outputs themselves, so ~1e-3 of a typical output, a few times less of the
// largest one); bfloat16 inputs are exact in both, but each output is rounded to 8 bits
// (2^-9 ~ 2e-3 relative) and the native float32 dw is compared with cuDNN's bfloat16 dw. A wrong
// index or a missing tile is an O(1) error.
double conv_tolerance(DType dtype) { return dtype == DType::BF16 ? 2e-2 : 1e-2; }

std::string conv_choice_text(const cuda::Conv2dCudnnChoice& choice) {
  return choice.algo + " math=" + choice.math + " workspace=" + std::to_string(choice.workspace_bytes >> 20) + "MiB " +
         (choice.deterministic ? "deterministic" : "nondeterministic") + ", " + choice.search;
}

void conv_runner(const Row& row, Data& data, Runner& r) {
  const Conv2dGeometry g = row.conv;
  const DType dt = row.dtype;
  const Conv2dParams params{g.stride, g.padding, g.dilation};
  const Shape xs{g.batch, g.in_height, g.in_width, g.in_channels},
      ys{g.batch, g.out_height, g.out_width, g.out_channels},
      ws{g.out_channels, g.kernel_height, g.kernel_width, g.in_channels};
  // Weights scaled so that outputs have about unit variance.
  const double bound = std::sqrt(3.0 / double(g.kernel_height * g.kernel_width * g.in_channels));
  cuda::Conv2dPass pass = cuda::Conv2dPass::Forward;
  if (row.pass == Pass::Forward) {
    Tensor x = data.uniform(xs, dt), w = data.uniform(ws, dt, -bound, bound);
    Tensor y = data.empty(ys, dt), y_library = data.empty(ys, dt);
    r.native = [=]() mutable { conv2d_forward(x, w, Tensor(), y, params); };
    r.library = [=]() mutable {
      cuda::conv2d_forward_cudnn(g, dt, x.raw_data(), w.raw_data(), nullptr, y_library.raw_data());
    };
    r.check = [=] { return compare({{y, y_library}}, conv_tolerance(dt)); };
  } else if (row.pass == Pass::BackwardInput) {
    pass = cuda::Conv2dPass::BackwardInput;
    Tensor dy = data.uniform(ys, dt), w = data.uniform(ws, dt, -bound, bound);
    Tensor dx = data.empty(xs, dt), dx_library = data.empty(xs, dt);
    r.native = [=]() mutable { conv2d_backward_input(dy, w, dx, params); };
    r.library = [=]() mutable {
      cuda::conv2d_backward_input_cudnn(g, dt, dy.raw_data(), w.raw_data(), dx_library.raw_data());
    };
    r.check = [=] { return compare({{dx, dx_library}}, conv_tolerance(dt)); };
  } else {
    pass = cuda::Conv2dPass::BackwardWeight;
    // pans keeps float32 weight gradients; cuDNN writes them in x's type (accumulating, beta = 1),
    // which is its fastest path: the baseline is the library kernel alone.
    Tensor dy = data.uniform(ys, dt), x = data.uniform(xs, dt);
    Tensor dw = data.zeros(ws, DType::F32), dw_library = data.zeros(ws, dt);
    r.native = [=]() mutable {
      Tensor no_bias;
      conv2d_backward_weight(dy, x, dw, no_bias, params);
    };
    r.library = [=]() mutable {
      cuda::conv2d_backward_weight_cudnn(g, dt, dy.raw_data(), x.raw_data(), dw_library.raw_data(), nullptr, dt);
    };
    // dw accumulates over the timed runs: start both from zero and run each once.
    r.check = [=]() mutable {
      dw.zero_();
      dw_library.zero_();
      Tensor no_bias;
      conv2d_backward_weight(dy, x, dw, no_bias, params);
      cuda::conv2d_backward_weight_cudnn(g, dt, dy.raw_data(), x.raw_data(), dw_library.raw_data(), nullptr, dt);
      return compare({{dw, dw_library}}, conv_tolerance(dt));
    };
  }
  // The algorithm search (a cudnnFind, timing cuDNN's candidates) happens here, before any timing.
  r.library_algo = conv_choice_text(cuda::conv2d_cudnn_choice(g, dt, pass));
}

void leaky_relu_forward_any(DType dtype, Tensor& y) {
  with_storage(dtype, [&](auto storage) {
    using S = decltype(storage);
    cuda::leaky_relu_forward<S>(y.data<S>(), y.data<S>(), y.numel(), float(kSlope));
  });
}

void leaky_relu_backward_any(DType dtype, const Tensor& z, const Tensor& dz, Tensor& dy) {
  with_storage(dtype, [&](auto storage) {
    using S = decltype(storage);
    cuda::leaky_relu_backward<S>(z.data<S>(), dz.data<S>(), dy.data<S>(), z.numel(), float(kSlope));
  });
}

void iabn_runner(const Row& row, Data& data, Runner& r) {
  const DType dt = row.dtype;
  const Shape xs = nhwc(row.shape);
  const Shape cs{row.shape.c};
  const cuda::BatchNormShape bn{row.shape.n, row.shape.h, row.shape.w, row.shape.c};
  const bool leaky = row.leaky;
  IabnParams params;
  params.activation = leaky ? IabnActivation::LeakyRelu : IabnActivation::Identity;
  params.slope = kSlope;
  params.eps = kEps;
  params.momentum = kMomentum;
  Tensor w = data.uniform(cs, DType::F32, 0.5, 1.5), b = data.uniform(cs, DType::F32, -0.1, 0.1);

  // The baseline's state: x kept for backward (standard batch norm), statistics saved by forward.
  Tensor x_library = data.uniform(xs, dt), y_library = data.empty(xs, dt);
  Tensor running_mean_library = data.zeros(cs, DType::F32);
  Tensor running_var_library = data.uniform(cs, DType::F32, 0.9, 1.1);
  Tensor save_mean = data.empty(cs, DType::F32), save_inv_std = data.empty(cs, DType::F32);
  Tensor reserve;
  std::size_t reserve_bytes = 0;
  try {
    reserve_bytes = cuda::cudnn_batch_norm_reserve_bytes(bn, dt);
    if (reserve_bytes > 0) reserve = data.empty({std::int64_t(reserve_bytes)}, DType::U8);
  } catch (const std::exception& error) {
    r.library_error = error.what();
  }
  auto library_forward = [=]() mutable {
    cuda::cudnn_batch_norm_forward_training(
        bn, dt, x_library.raw_data(), y_library.raw_data(), w.data<float>(), b.data<float>(),
        running_mean_library.data<float>(), running_var_library.data<float>(), save_mean.data<float>(),
        save_inv_std.data<float>(), kMomentum, kEps, reserve_bytes == 0 ? nullptr : reserve.raw_data(), reserve_bytes);
    if (leaky) leaky_relu_forward_any(dt, y_library);
  };
  r.library_algo = "CUDNN_BATCHNORM_SPATIAL_PERSISTENT, NHWC" + std::string(leaky ? ", then leaky_relu" : "");

  if (row.pass == Pass::Forward) {
    Tensor x = data.uniform(xs, dt);
    Tensor running_mean = data.zeros(cs, DType::F32), running_var = data.uniform(cs, DType::F32, 0.9, 1.1);
    Tensor saved_var = data.empty(cs, DType::F32);
    // In place, as in training: after the first call x holds z, whose statistics are as good.
    r.native = [=]() mutable { iabn_forward_train(x, w, b, running_mean, running_var, saved_var, params); };
    r.library = library_forward;
    return;
  }
  Tensor z = data.uniform(xs, dt), dz = data.uniform(xs, dt), dx = data.empty(xs, dt);
  Tensor saved_var = data.uniform(cs, DType::F32, 0.5, 1.5);
  Tensor dw = data.zeros(cs, DType::F32), db = data.zeros(cs, DType::F32);
  r.native = [=]() mutable { iabn_backward(z, dz, w, b, saved_var, dx, dw, db, IabnMode::Train, params); };
  Tensor dz_library = data.uniform(xs, dt), dy_library = data.empty(xs, dt), dx_library = data.empty(xs, dt);
  Tensor dscale = data.zeros(cs, DType::F32), dbias = data.zeros(cs, DType::F32);
  if (r.library_error.empty()) {
    try {
      library_forward();  // the saved statistics, the reserve and z = y_library that backward reads
    } catch (const std::exception& error) {
      r.library_error = error.what();
    }
  }
  // PyTorch's BatchNorm2d + LeakyReLU backward: the activation's gradient, then batch norm's.
  r.library = [=]() mutable {
    if (leaky) leaky_relu_backward_any(dt, y_library, dz_library, dy_library);
    cuda::cudnn_batch_norm_backward(bn, dt, x_library.raw_data(), leaky ? dy_library.raw_data() : dz_library.raw_data(),
                                    dx_library.raw_data(), w.data<float>(), b.data<float>(), dscale.data<float>(),
                                    dbias.data<float>(), save_mean.data<float>(), save_inv_std.data<float>(), kEps,
                                    reserve_bytes == 0 ? nullptr : reserve.raw_data(), reserve_bytes);
  };
}

void residual_runner(const Row& row, Data& data, Runner& r) {
  const Shape s = nhwc(row.shape);
  if (row.pass == Pass::Forward) {
    Tensor branch = data.uniform(s, row.dtype), shortcut = data.uniform(s, row.dtype), out = data.empty(s, row.dtype);
    r.native = [=]() mutable { residual_add_leaky_forward(branch, shortcut, out, kSlope); };
  } else {
    Tensor out = data.uniform(s, row.dtype), dout = data.uniform(s, row.dtype), d = data.empty(s, row.dtype);
    r.native = [=]() mutable { residual_add_leaky_backward(out, dout, d, kSlope); };
  }
}

// cuDNN max pooling, 3x3 stride 2 pad 1, NaN propagated (as pans and PyTorch do).
class CudnnMaxPool {
 public:
  CudnnMaxPool(const Row& row) {
    PANS_CUDNN_CHECK(cudnnCreatePoolingDescriptor(&pooling_));
    PANS_CUDNN_CHECK(cudnnSetPooling2dDescriptor(pooling_, CUDNN_POOLING_MAX, CUDNN_PROPAGATE_NAN, 3, 3, 1, 1, 2, 2));
    const cudnnDataType_t type = cuda::cudnn_data_type(row.dtype, "cuDNN max pooling");
    x_.set_nhwc(type, row.shape.n, row.shape.c, row.shape.h, row.shape.w);
    y_.set_nhwc(type, row.shape.n, row.shape.c, row.out_height, row.out_width);
  }
  ~CudnnMaxPool() {
    if (cudnnDestroyPoolingDescriptor(pooling_) != CUDNN_STATUS_SUCCESS)
      std::fprintf(stderr, "pans: cudnnDestroyPoolingDescriptor failed\n");
  }
  CudnnMaxPool(const CudnnMaxPool&) = delete;
  CudnnMaxPool& operator=(const CudnnMaxPool&) = delete;

  void forward(const void* x, void* y) const {
    const float one = 1.0f, zero = 0.0f;
    PANS_CUDNN_CHECK(cudnnPoolingForward(cuda::cudnn_handle(), pooling_, &one, x_.get(), x, &zero, y_.get(), y));
  }
  void backward(const void* y, const void* dy, const void* x, void* dx) const {
    const float one = 1.0f, zero = 0.0f;
    PANS_CUDNN_CHECK(cudnnPoolingBackward(cuda::cudnn_handle(), pooling_, &one, y_.get(), y, y_.get(), dy, x_.get(), x,
                                          &zero, x_.get(), dx));
  }

 private:
  cudnnPoolingDescriptor_t pooling_ = nullptr;
  cuda::CudnnTensorDescriptor x_, y_;
};

void max_pool_runner(const Row& row, Data& data, Runner& r) {
  const DType dt = row.dtype;
  const Shape xs = nhwc(row.shape), ys{row.shape.n, row.out_height, row.out_width, row.shape.c};
  Tensor x = data.uniform(xs, dt), y = data.empty(ys, dt), argmax = data.empty(ys, DType::I32);
  Tensor y_library = data.empty(ys, dt);
  std::shared_ptr<CudnnMaxPool> pool;
  try {
    pool = std::make_shared<CudnnMaxPool>(row);
  } catch (const std::exception& error) {
    r.library_error = error.what();
  }
  r.library_algo = "CUDNN_POOLING_MAX, CUDNN_PROPAGATE_NAN, NHWC";
  if (row.pass == Pass::Forward) {
    r.native = [=]() mutable { max_pool2d_forward(x, y, argmax); };
    r.library = [=]() mutable { pool->forward(x.raw_data(), y_library.raw_data()); };
    // Maxima are exact: equal values whichever element wins a tie.
    r.check = [=] { return compare({{y, y_library}}, 0.0); };
    return;
  }
  // Backward from the forwards' results (argmax for pans; y for cuDNN, which recomputes the choice).
  max_pool2d_forward(x, y, argmax);
  if (pool) {
    try {
      pool->forward(x.raw_data(), y_library.raw_data());
    } catch (const std::exception& error) {
      r.library_error = error.what();
    }
  }
  Tensor dy = data.uniform(ys, dt), dx = data.empty(xs, dt), dx_library = data.empty(xs, dt);
  r.native = [=]() mutable { max_pool2d_backward(dy, argmax, dx); };
  r.library = [=]() mutable {
    pool->backward(y_library.raw_data(), dy.raw_data(), x.raw_data(), dx_library.raw_data());
  };
}

void resample_runner(const Row& row, Data& data, Runner& r) {
  const Shape xs = nhwc(row.shape), ys{row.shape.n, row.out_height, row.out_width, row.shape.c};
  const bool pool = row.op == Op::AdaptivePool;
  if (row.pass == Pass::Forward) {
    Tensor x = data.uniform(xs, row.dtype), y = data.empty(ys, row.dtype);
    r.native = [=]() mutable {
      if (pool)
        adaptive_avg_pool2d_forward(x, y);
      else
        resize_bilinear_forward(x, y);
    };
  } else {
    Tensor dy = data.uniform(ys, row.dtype), dx = data.empty(xs, row.dtype);
    r.native = [=]() mutable {
      if (pool)
        adaptive_avg_pool2d_backward(dy, dx);
      else
        resize_bilinear_backward(dy, dx);
    };
  }
}

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

void dropout_runner(const Row& row, Data& data, Runner& r) {
  const Shape s = nhwc(row.shape);
  Tensor mask = data.empty({row.shape.n, row.shape.c}, DType::F32);
  dropout2d_mask(mask, 0.1, kSeed, 0);
  Tensor in = data.uniform(s, row.dtype), out = data.empty(s, row.dtype);
  if (row.pass == Pass::Forward)
    r.native = [=]() mutable { dropout2d_forward(in, mask, out); };
  else
    r.native = [=]() mutable { dropout2d_backward(in, mask, out); };
}

void cosine_head_runner(const Row& row, Data& data, Runner& r) {
  const Shape fs = nhwc(row.shape), ws{row.classes, row.shape.c},
              ls{row.shape.n, row.shape.h, row.shape.w, row.classes};
  Tensor f = data.uniform(fs, DType::F32), w = data.uniform(ws, DType::F32);
  if (row.pass == Pass::Forward) {
    Tensor logits = data.empty(ls, DType::F32);
    r.native = [=]() mutable { cosine_classifier_forward(f, w, logits); };
  } else {
    Tensor dlogits = data.uniform(ls, DType::F32), df = data.empty(fs, DType::F32), dw = data.zeros(ws, DType::F32);
    r.native = [=]() mutable { cosine_classifier_backward(dlogits, f, w, df, dw); };
  }
}

void cross_entropy_runner(const Row& row, Data& data, Runner& r) {
  const Shape s = nhwc(row.shape);
  Tensor logits = data.uniform(s, DType::F32, -3.0, 3.0), dlogits = data.empty(s, DType::F32);
  Tensor labels = data.labels({row.shape.n, row.shape.h, row.shape.w}, row.shape.c);
  r.native = [=]() mutable { softmax_cross_entropy(logits, labels, dlogits); };
}

void sgd_runner(const Row& row, Data& data, Runner& r) {
  std::vector<Tensor> params, grads, buffers;
  for (const std::vector<std::int64_t>& shape : row.parameters) {
    params.push_back(data.uniform(shape, DType::F32, -0.1, 0.1));
    grads.push_back(data.uniform(shape, DType::F32, -0.01, 0.01));
    buffers.push_back(data.zeros(shape, DType::F32));
  }
  SgdParams sgd;
  sgd.lr = 0.007;
  sgd.momentum = 0.9;
  sgd.weight_decay = 1e-4;
  r.native = [=]() mutable { sgd_nesterov_step_all(params, grads, buffers, sgd); };
}

std::unique_ptr<Runner> make_runner(const Row& row, Data& data) {
  auto r = std::make_unique<Runner>();
  switch (row.op) {
    case Op::Conv:
      try {
        conv_runner(row, data, *r);
      } catch (const std::exception& error) {
        // The search or descriptors failed: time pans alone if its inputs exist.
        if (!r->native) throw;
        r->library_error = error.what();
      }
      break;
    case Op::Iabn:
      iabn_runner(row, data, *r);
      break;
    case Op::Residual:
      residual_runner(row, data, *r);
      break;
    case Op::MaxPool:
      max_pool_runner(row, data, *r);
      break;
    case Op::AdaptivePool:
    case Op::Resize:
      resample_runner(row, data, *r);
      break;
    case Op::Concat:
      concat_runner(row, data, *r);
      break;
    case Op::Dropout:
      dropout_runner(row, data, *r);
      break;
    case Op::CosineHead:
      cosine_head_runner(row, data, *r);
      break;
    case Op::CrossEntropy:
      cross_entropy_runner(row, data, *r);
      break;
    case Op::Sgd:
      sgd_runner(row, data, *r);
      break;
  }
  if (!r->library_error.empty()) r->library = nullptr;
  return r;
}

// ---- timing -----------------------------------------------------------------------------------

struct Stats {
  double median = 0, min = 0, max = 0, p10 = 0, p90 = 0;
  int samples = 0;
};

Stats stats_of(std::vector<double> ms) {
  Stats s;
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  const std::size_t n = ms.size();
  s.samples = int(n);
  s.median = n % 2 == 1 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
  s.min = ms.front();
  s.max = ms.back();
  // Percentiles at the nearest rank of q (n - 1), as numpy's 'nearest' method.
  auto quantile = [&](double q) { return ms[std::size_t(std::lround(q * double(n - 1)))]; };
  s.p10 = quantile(0.1);
  s.p90 = quantile(0.9);
  return s;
}

json stats_json(const Stats& s) {
  return {{"median", s.median}, {"min", s.min}, {"max", s.max}, {"p10", s.p10}, {"p90", s.p90}, {"samples", s.samples}};
}

// One timed side of a row.
struct Side {
  std::function<void()> run;
  std::vector<double> ms;
  std::string error;
  bool alive() const { return run && error.empty(); }
};

class Timer {
 public:
  Timer(int device, int max_runs) {
    int l2_bytes = 0;
    PANS_CUDA_CHECK(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, device));
    // Writing twice the L2 evicts whatever a previous run left there (nvbench flushes the same way).
    flush_bytes_ = std::max<std::int64_t>(2 * std::int64_t(l2_bytes), 64 << 20);
    flush_ = Tensor::empty({flush_bytes_}, DType::U8, Device::cuda(device));
    for (int i = 0; i < 2 * max_runs; ++i) {
      starts_.emplace_back();
      ends_.emplace_back();
    }
  }

  std::int64_t flush_bytes() const { return flush_bytes_; }

  void flush() {
    PANS_CUDA_CHECK(
        cudaMemsetAsync(flush_.raw_data(), ++flush_value_ & 0x7f, std::size_t(flush_bytes_), cudaStreamLegacy));
  }

  // Warm-up, then `runs` rounds of (flush, time side 0), (flush, time side 1), ... A side that
  // throws is retired with its error; the others go on.
  void measure(std::vector<Side*> sides, int warmup, int runs) {
    PANS_CHECK(int(sides.size()) * runs <= int(starts_.size()), "bench: too many timed runs");
    for (int i = 0; i < warmup; ++i)
      for (Side* side : sides) attempt(*side, [&] { side->run(); });
    PANS_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<std::vector<int>> recorded(sides.size());
    int next_event = 0;
    for (int run = 0; run < runs; ++run) {
      for (std::size_t s = 0; s < sides.size(); ++s) {
        Side& side = *sides[s];
        if (!side.alive()) continue;
        const int e = next_event++;
        attempt(side, [&] {
          flush();
          starts_[std::size_t(e)].record(cudaStreamLegacy);
          side.run();
          ends_[std::size_t(e)].record(cudaStreamLegacy);
          recorded[s].push_back(e);
        });
      }
    }
    PANS_CUDA_CHECK(cudaDeviceSynchronize());
    for (std::size_t s = 0; s < sides.size(); ++s) {
      if (!sides[s]->alive()) continue;
      for (int e : recorded[s])
        sides[s]->ms.push_back(double(ends_[std::size_t(e)].milliseconds_since(starts_[std::size_t(e)])));
    }
  }

 private:
  Tensor flush_;
  std::int64_t flush_bytes_ = 0;
  int flush_value_ = 0;
  std::vector<cuda::Event> starts_, ends_;

  template <class F>
  static void attempt(Side& side, F body) {
    if (!side.alive()) return;
    try {
      body();
    } catch (const std::exception& error) {
      side.error = error.what();
      side.ms.clear();
    }
  }
};

// ---- the device and its peaks -----------------------------------------------------------------

std::string run_command(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return "";
  char buffer[512];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  pclose(pipe);
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  return output;
}

json clocks_now(int device) {
  const std::string query = run_command(
      "nvidia-smi -i " + std::to_string(device) +
      " --query-gpu=clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,power.draw,power.limit,temperature.gpu,pstate"
      " --format=csv");
  return query.empty() ? json("unavailable (nvidia-smi)") : json(query);
}

json environment(int device) {
  cudaDeviceProp prop{};
  PANS_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  auto attribute = [&](cudaDeviceAttr which) {
    int value = 0;
    return cudaDeviceGetAttribute(&value, which, device) == cudaSuccess ? value : -1;
  };
  int runtime = 0, driver = 0;
  PANS_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  PANS_CUDA_CHECK(cudaDriverGetVersion(&driver));
  const char* tf32_override = std::getenv("NVIDIA_TF32_OVERRIDE");
  return {{"index", device},
          {"name", prop.name},
          {"compute_capability", std::to_string(prop.major) + "." + std::to_string(prop.minor)},
          {"sms", prop.multiProcessorCount},
          {"memory_bytes", prop.totalGlobalMem},
          {"memory_bus_bits", prop.memoryBusWidth},
          {"l2_bytes", prop.l2CacheSize},
          {"sm_clock_peak_khz", attribute(cudaDevAttrClockRate)},
          {"memory_clock_peak_khz", attribute(cudaDevAttrMemoryClockRate)},
          {"clocks_at_start", clocks_now(device)},
          {"driver_version", run_command("nvidia-smi -i " + std::to_string(device) +
                                         " --query-gpu=driver_version --format=csv,noheader")},
          {"cuda_driver_api", driver},
          {"cuda_runtime", runtime},
          {"cudnn", cuda::cudnn_version_string()},
          {"cublas", cuda::cublas_version_string()},
          {"NVIDIA_TF32_OVERRIDE", tf32_override == nullptr ? json(nullptr) : json(tf32_override)}};
}

// The device-to-device copy bandwidth (bytes read + bytes written per second) and the cuBLAS GEMM
// rates that every row's percentage is taken against.
json calibrate(Data& data, Timer& timer, int runs) {
  json result;
  {
    std::size_t free_bytes = 0, total_bytes = 0;
    PANS_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    const std::int64_t bytes = std::int64_t(std::min<std::size_t>(std::size_t(1) << 30, free_bytes / 8));
    Tensor src = data.zeros({bytes}, DType::U8), dst = data.empty({bytes}, DType::U8);
    Side copy;
    copy.run = [=]() mutable {
      PANS_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), std::size_t(bytes), cudaMemcpyDeviceToDevice,
                                      cudaStreamLegacy));
    };
    timer.measure({&copy}, 3, runs);
    PANS_CHECK(copy.error.empty(), "bench: the copy calibration failed: ", copy.error);
    const Stats s = stats_of(copy.ms);
    result["copy"] = {{"bytes", bytes},
                      {"ms", stats_json(s)},
                      {"gbps", 2.0 * double(bytes) / (s.median * 1e-3) / 1e9},
                      {"how", "cudaMemcpyAsync device to device; read + write bytes / median time"}};
  }
  const std::int64_t n = 8192;
  for (cuda::GemmMath math : {cuda::GemmMath::Bf16, cuda::GemmMath::Tf32}) {
    const DType dt = math == cuda::GemmMath::Bf16 ? DType::BF16 : DType::F32;
    Tensor a = data.uniform({n, n}, dt), b = data.uniform({n, n}, dt), c = data.empty({n, n}, dt);
    Side gemm;
    gemm.run = [=]() mutable { cuda::gemm_cublas(math, n, n, n, a.raw_data(), b.raw_data(), c.raw_data()); };
    timer.measure({&gemm}, 3, runs);
    PANS_CHECK(gemm.error.empty(), "bench: the ", cuda::gemm_math_name(math), " GEMM calibration failed: ", gemm.error);
    const Stats s = stats_of(gemm.ms);
    result[std::string("gemm_") + cuda::gemm_math_name(math)] = {
        {"m", n},
        {"n", n},
        {"k", n},
        {"ms", stats_json(s)},
        {"tflops", 2.0 * double(n * n) * double(n) / (s.median * 1e-3) / 1e12},
        {"how",
         std::string("cublasGemmEx, ") + (math == cuda::GemmMath::Bf16 ? "bf16 in/out, CUBLAS_COMPUTE_32F"
                                                                       : "fp32 in/out, CUBLAS_COMPUTE_32F_FAST_TF32")}};
  }
  return result;
}

struct Peaks {
  double copy_gbps = 0, tf32_tflops = 0, bf16_tflops = 0;
};

Peaks peaks_of(const json& start, const json& end) {
  auto best = [&](const char* what, const char* field) {
    double value = start[what][field].get<double>();
    if (!end.is_null()) value = std::max(value, end[what][field].get<double>());
    return value;
  };
  return {best("copy", "gbps"), best("gemm_tf32", "tflops"), best("gemm_bf16", "tflops")};
}

// ---- one row, measured ------------------------------------------------------------------------

json side_json(const Row& row, const Side& side, const Peaks& peaks, const std::string& algo) {
  json result;
  if (!algo.empty()) result["algo"] = algo;
  if (!side.error.empty()) {
    result["error"] = side.error;
    return result;
  }
  const Stats s = stats_of(side.ms);
  result["ms"] = stats_json(s);
  const double seconds = s.median * 1e-3;
  if (row.compute_bound) {
    const double tflops = row.flops / seconds / 1e12;
    const double peak = row.dtype == DType::BF16 ? peaks.bf16_tflops : peaks.tf32_tflops;
    result["tflops"] = tflops;
    result["pct_of_peak"] = 100.0 * tflops / peak;
    result["peak"] = row.dtype == DType::BF16 ? "gemm_bf16" : "gemm_tf32";
  } else {
    const double gbps = row.bytes / seconds / 1e9;
    result["gbps"] = gbps;
    result["pct_of_peak"] = 100.0 * gbps / peaks.copy_gbps;
    result["peak"] = "copy";
  }
  if (row.flops > 0 && !row.compute_bound) result["tflops"] = row.flops / seconds / 1e12;
  return result;
}

// A row's raw measurements, before the peaks of the end calibration are known.
struct Measured {
  Side native, library;
  bool has_library = false;
  std::string library_algo;
  json check;
};

Measured measure_row(const Row& row, Data& data, Timer& timer, const GpuOptions& options) {
  Measured m;
  m.has_library = !row.library.empty();
  std::unique_ptr<Runner> runner;
  try {
    runner = make_runner(row, data);
  } catch (const std::exception& error) {
    m.native.error = std::string("setup: ") + error.what();
    m.library.error = "not run: the row's setup failed";
    return m;
  }
  m.native.run = runner->native;
  m.library.run = runner->library;
  m.library_algo = runner->library_algo;
  std::vector<Side*> sides{&m.native};
  if (m.library.run) sides.push_back(&m.library);
  timer.measure(sides, options.warmup, options.runs);
  if (!runner->library_error.empty()) m.library.error = runner->library_error;
  if (runner->check && m.native.error.empty() && m.library.alive()) {
    try {
      m.check = runner->check();
    } catch (const std::exception& error) {
      m.check = {{"ok", false}, {"error", error.what()}};
    }
  }
  m.native.run = nullptr;  // the runner's tensors go with it
  m.library.run = nullptr;
  return m;
}

json row_result(const Row& row, const Measured& m, const Peaks& peaks, int& failures, int& warnings) {
  json out;
  out["native"] = side_json(row, m.native, peaks, row.op == Op::Conv ? row.native : "");
  out["native"]["samples_ms"] = m.native.ms;
  if (m.has_library) {
    out["library"] = side_json(row, m.library, peaks, m.library_algo);
    out["library"]["samples_ms"] = m.library.ms;
    if (m.library.error.empty() && m.native.error.empty() && !m.native.ms.empty() && !m.library.ms.empty()) {
      const double ratio = stats_of(m.native.ms).median / stats_of(m.library.ms).median;
      out["ratio_native_to_library"] = ratio;
      out["speed_vs_library"] = 1.0 / ratio;
    }
    if (!m.library.error.empty()) ++warnings;
  }
  bool failed = !m.native.error.empty();
  if (!m.check.is_null()) {
    out["check"] = m.check;
    if (!m.check.value("ok", false)) failed = true;
  }
  out["status"] = failed ? "failed" : "ok";
  if (failed) ++failures;
  return out;
}

std::string fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", digits, value);
  return text;
}

// "res4.0.conv2 ... native 1.234 ms (45% of peak), library 0.987 ms, ratio 1.25"
std::string progress_line(const Row& row, const json& result) {
  std::string line = row.id + ": ";
  auto side = [&](const char* name) {
    const json& s = result[name];
    if (s.contains("error")) return std::string(name) + " ERROR " + s["error"].get<std::string>().substr(0, 200);
    return std::string(name) + " " + fixed(s["ms"]["median"].get<double>(), 4) + " ms (" +
           fixed(s["pct_of_peak"].get<double>(), 1) + "% of " + s["peak"].get<std::string>() + ")";
  };
  line += side("native");
  if (result.contains("library")) line += ", " + side("library");
  if (result.contains("ratio_native_to_library"))
    line += ", ratio " + fixed(result["ratio_native_to_library"].get<double>(), 3);
  if (result.contains("check"))
    line += std::string(", check ") + (result["check"].value("ok", false) ? "ok" : "FAILED");
  return line;
}

}  // namespace

GpuResults run_gpu_bench(const std::vector<Row>& rows, const GpuOptions& options,
                         void (*progress)(const std::string& line)) {
  PANS_CHECK(cuda_device_count() > options.device, "no CUDA device ", options.device, " (", cuda_device_count(),
             " usable; ", cuda_unavailable_reason(), ")");
  PANS_CHECK(options.runs >= 1 && options.warmup >= 0, "--runs must be >= 1, --warmup >= 0");
  CudaDeviceGuard guard(options.device);
  Implementations implementations = kernel_configuration();
  implementations.cudnn_search = options.cudnn_search == "heuristic" ? CudnnAlgoSearch::Heuristic : CudnnAlgoSearch::Find;
  configure_kernels(implementations);
  GpuResults results;
  results.environment = environment(options.device);
  Data data(options.device);
  Timer timer(options.device, std::max(options.runs, 20));
  results.environment["l2_flush_bytes"] = timer.flush_bytes();
  const int calibration_runs = 20;
  results.calibration["start"] = calibrate(data, timer, calibration_runs);
  Peaks peaks = peaks_of(results.calibration["start"], json());
  progress("calibration: copy " + std::to_string(int(peaks.copy_gbps)) + " GB/s, cuBLAS bf16 " +
           std::to_string(int(peaks.bf16_tflops)) + " TFLOP/s, tf32 " + std::to_string(int(peaks.tf32_tflops)) +
           " TFLOP/s");

  // A CUDA error surfacing at a synchronisation (an illegal address in a kernel, say) poisons the
  // context: every later call fails too. The row that met it and all after it are reported as
  // failed with that error, and the rows measured before keep their numbers.
  std::vector<Measured> measured(rows.size());
  std::string fatal;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (fatal.empty()) {
      try {
        measured[i] = measure_row(rows[i], data, timer, options);
      } catch (const std::exception& error) {
        fatal = std::string("the device failed while measuring ") + rows[i].id + ": " + error.what();
        measured[i].native.error = fatal;
      }
    } else {
      measured[i].native.error = "not run: " + fatal;
    }
    measured[i].has_library = !rows[i].library.empty();
    if (measured[i].has_library && measured[i].library.ms.empty() && measured[i].library.error.empty() &&
        !measured[i].native.error.empty())
      measured[i].library.error = "not run";
    int ignored_failures = 0, ignored_warnings = 0;
    progress(progress_line(rows[i], row_result(rows[i], measured[i], peaks, ignored_failures, ignored_warnings)));
  }
  if (fatal.empty()) {
    results.calibration["end"] = calibrate(data, timer, calibration_runs);
    results.environment["clocks_at_end"] = clocks_now(options.device);
  } else {
    results.error = fatal;
  }
  peaks =
      peaks_of(results.calibration["start"], results.calibration.contains("end") ? results.calibration["end"] : json());
  results.calibration["peaks_used"] = {{"copy_gbps", peaks.copy_gbps},
                                       {"gemm_tf32_tflops", peaks.tf32_tflops},
                                       {"gemm_bf16_tflops", peaks.bf16_tflops},
                                       {"rule", "the larger of the start and end calibrations"}};
  for (std::size_t i = 0; i < rows.size(); ++i)
    results.rows.push_back(row_result(rows[i], measured[i], peaks, results.failures, results.warnings));
  return results;
}

}  // namespace pans::bench
