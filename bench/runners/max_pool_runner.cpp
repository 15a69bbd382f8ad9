#include <cstdio>
#include <exception>
#include <memory>

#include "bench/cross_check.h"
#include "bench/runners/op_runners.h"
#include "kernels/cuda/cudnn.h"
#include "kernels/pool.h"

namespace pans::bench {
namespace {

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

}  // namespace

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

}  // namespace pans::bench
