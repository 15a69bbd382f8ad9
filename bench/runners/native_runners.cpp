// The ops whose rows have no library baseline: pans' side is timed alone.
#include <vector>

#include "bench/runners/op_runners.h"
#include "kernels/cosine_head.h"
#include "kernels/cross_entropy.h"
#include "kernels/dropout.h"
#include "kernels/pool.h"
#include "kernels/residual.h"
#include "kernels/resize.h"
#include "kernels/sgd.h"

namespace pans::bench {

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

}  // namespace pans::bench
