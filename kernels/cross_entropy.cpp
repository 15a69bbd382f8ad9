#include "kernels/cross_entropy.h"

#include <cstdint>

#include "kernels/cpu_fast/cross_entropy.h"
#include "kernels/cuda/cross_entropy.h"
#include "kernels/cuda_dispatch.h"
#include "kernels/op_check.h"

namespace pans {
namespace {

void check_class_axis(const OpCheck& check, const Tensor& logits) {
  check.require(logits.defined() && logits.ndim() >= 1 && logits.dim(-1) >= 1, "logits need a nonempty class axis");
}

std::int64_t rows_of(const Tensor& logits) { return logits.numel() / logits.dim(-1); }

void check_loss_arguments(const OpCheck& check, const Tensor& logits, const Tensor& labels, const Tensor& dlogits) {
  check.same_device_float_contiguous({{"labels", DType::U8}});
  check.rank("logits", logits, 4);
  check.require(logits.dim(3) >= 1, "logits need at least one class");
  check.shape("labels", labels, {logits.dim(0), logits.dim(1), logits.dim(2)});
  check.shape("dlogits", dlogits, logits.shape());
}

// The error of a label that is neither a class below `classes` nor the ignore index.
void require_label_is_class(const OpCheck& check, bool ok, int label, std::int64_t pixel, std::int64_t classes,
                            int ignore_index) {
  check.require(ok, "label ", label, " at pixel ", pixel, " is neither a class below ", classes,
                " nor the ignore index ", ignore_index);
}

// Reads the labels on the host, so CPU tensors only (the CUDA kernels find a bad label themselves).
void check_labels_are_classes(const OpCheck& check, const Tensor& labels, std::int64_t classes, int ignore_index) {
  const std::uint8_t* values = labels.data<std::uint8_t>();
  for (std::int64_t i = 0; i < labels.numel(); ++i)
    require_label_is_class(check, values[i] == ignore_index || values[i] < classes, values[i], i, classes,
                           ignore_index);
}

}  // namespace

void softmax_forward(const Tensor& logits, Tensor& probs) {
  const OpCheck check("softmax_forward", {{"logits", &logits}, {"probs", &probs}});
  check.same_device_float_contiguous();
  check_class_axis(check, logits);
  check.shape("probs", probs, logits.shape());
  if (ran_on_cuda(check, logits, [&] {
        cuda::softmax_forward(rows_of(logits), logits.dim(-1), logits.data<float>(), probs.data<float>());
      }))
    return;
  dispatch_floating(check, logits.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::softmax_forward<T>(rows_of(logits), logits.dim(-1), logits.data<T>(), probs.data<T>());
  });
}

Tensor softmax_forward(const Tensor& logits) {
  Tensor probs = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
  softmax_forward(logits, probs);
  return probs;
}

void softmax_backward(const Tensor& probs, const Tensor& dprobs, Tensor& dlogits) {
  const OpCheck check("softmax_backward", {{"probs", &probs}, {"dprobs", &dprobs}, {"dlogits", &dlogits}});
  check.same_device_float_contiguous();
  check_class_axis(check, probs);
  check.shape("dprobs", dprobs, probs.shape());
  check.shape("dlogits", dlogits, probs.shape());
  if (ran_on_cuda(check, probs, [&] {
        cuda::softmax_backward(rows_of(probs), probs.dim(-1), probs.data<float>(), dprobs.data<float>(),
                               dlogits.data<float>());
      }))
    return;
  dispatch_floating(check, probs.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::softmax_backward<T>(rows_of(probs), probs.dim(-1), probs.data<T>(), dprobs.data<T>(), dlogits.data<T>());
  });
}

double softmax_cross_entropy(const Tensor& logits, const Tensor& labels, Tensor& dlogits, int ignore_index,
                             double loss_scale) {
  const OpCheck check("softmax_cross_entropy", {{"logits", &logits}, {"labels", &labels}, {"dlogits", &dlogits}});
  check_loss_arguments(check, logits, labels, dlogits);
  const std::int64_t classes = logits.dim(3);
  double loss = 0.0;
  if (ran_on_cuda(check, logits, [&] {
        Tensor scratch =
            Tensor::empty({cuda::softmax_cross_entropy_scratch_doubles(labels.numel())}, DType::F64, logits.device());
        const cuda::CrossEntropyResult result =
            cuda::softmax_cross_entropy(labels.numel(), classes, logits.data<float>(), labels.data<std::uint8_t>(),
                                        ignore_index, loss_scale, dlogits.data<float>(), scratch.data<double>());
        require_label_is_class(check, result.bad_pixel < 0, result.bad_label, result.bad_pixel, classes, ignore_index);
        loss = result.loss;
      }))
    return loss;
  check_labels_are_classes(check, labels, classes, ignore_index);
  dispatch_floating(check, logits.dtype(), [&](auto zero) {
    using T = decltype(zero);
    loss = cpu_fast::softmax_cross_entropy<T>(labels.numel(), classes, logits.data<T>(), labels.data<std::uint8_t>(),
                                         ignore_index, loss_scale, dlogits.data<T>());
  });
  return loss;
}

}  // namespace pans
