#include "kernels/cosine_head.h"

#include "kernels/cpu/cosine_head.h"
#include "kernels/op_check.h"

namespace pans {
namespace {

void check_tau(const OpCheck& check, double tau) { check.require(tau > 0, "tau must be positive, it is ", tau); }

void check_normalized_axis(const OpCheck& check, const Tensor& x) {
  check.require(x.defined() && x.ndim() >= 1 && x.dim(-1) >= 1, "x needs a nonempty last axis to normalise");
}

// The last axis is the one normalised; all others are rows.
std::int64_t rows_of(const Tensor& x) { return x.numel() / x.dim(-1); }

// Validates f {N,H,W,C} against w {K,C} and derives the geometry of the classifier.
cpu::ClassifierGeometry geometry(const OpCheck& check, const Tensor& f, const Tensor& w) {
  check.rank("f", f, 4);
  check.rank("w", w, 2);
  check.require(w.dim(1) == f.dim(3), "w expects ", w.dim(1), " channels, f has ", f.dim(3));
  return {f.dim(0) * f.dim(1) * f.dim(2), f.dim(3), w.dim(0)};
}

Shape logits_shape(const Tensor& f, const Tensor& w) { return {f.dim(0), f.dim(1), f.dim(2), w.dim(0)}; }

Tensor empty_logits(const char* op, const Tensor& f, const Tensor& w) {
  PANS_CHECK(f.ndim() == 4 && w.ndim() == 2, op, ": ", f.describe("f"), " must have 4 dimensions and ", w.describe("w"),
             " 2");
  return Tensor::empty(logits_shape(f, w), f.dtype(), f.device());
}

}  // namespace

void l2_normalize_forward(const Tensor& x, Tensor& y) {
  const OpCheck check("l2_normalize_forward", {{"x", &x}, {"y", &y}});
  check.same_device_float_contiguous();
  check_normalized_axis(check, x);
  check.shape("y", y, x.shape());
  if (x.device().is_cuda()) fail_not_implemented_on_cuda(check);
  dispatch_floating(check, x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::l2_normalize_rows<T>(rows_of(x), x.dim(-1), x.data<T>(), y.data<T>());
  });
}

Tensor l2_normalize_forward(const Tensor& x) {
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  l2_normalize_forward(x, y);
  return y;
}

void l2_normalize_backward(const Tensor& dy, const Tensor& x, Tensor& dx) {
  const OpCheck check("l2_normalize_backward", {{"dy", &dy}, {"x", &x}, {"dx", &dx}});
  check.same_device_float_contiguous();
  check_normalized_axis(check, x);
  check.shape("dy", dy, x.shape());
  check.shape("dx", dx, x.shape());
  if (x.device().is_cuda()) fail_not_implemented_on_cuda(check);
  dispatch_floating(check, x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::l2_normalize_rows_backward<T>(rows_of(x), x.dim(-1), x.data<T>(), dy.data<T>(), dx.data<T>());
  });
}

void cosine_classifier_forward(const Tensor& f, const Tensor& w, Tensor& logits, double tau) {
  const OpCheck check("cosine_classifier_forward", {{"f", &f}, {"w", &w}, {"logits", &logits}});
  check.same_device_float_contiguous();
  check_tau(check, tau);
  const cpu::ClassifierGeometry g = geometry(check, f, w);
  check.shape("logits", logits, logits_shape(f, w));
  if (f.device().is_cuda()) fail_not_implemented_on_cuda(check);
  dispatch_floating(check, f.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::cosine_classifier_forward<T>(g, f.data<T>(), w.data<T>(), tau, logits.data<T>());
  });
}

Tensor cosine_classifier_forward(const Tensor& f, const Tensor& w, double tau) {
  Tensor logits = empty_logits("cosine_classifier_forward", f, w);
  cosine_classifier_forward(f, w, logits, tau);
  return logits;
}

void cosine_classifier_backward(const Tensor& dlogits, const Tensor& f, const Tensor& w, Tensor& df, Tensor& dw,
                                double tau) {
  const OpCheck check("cosine_classifier_backward",
                      {{"dlogits", &dlogits}, {"f", &f}, {"w", &w}, {"df", &df}, {"dw", &dw}});
  check.same_device_float_contiguous();
  check_tau(check, tau);
  const cpu::ClassifierGeometry g = geometry(check, f, w);
  check.shape("dlogits", dlogits, logits_shape(f, w));
  check.shape("df", df, f.shape());
  check.shape("dw", dw, w.shape());
  if (f.device().is_cuda()) fail_not_implemented_on_cuda(check);
  dispatch_floating(check, f.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::cosine_classifier_backward<T>(g, dlogits.data<T>(), f.data<T>(), w.data<T>(), tau, df.data<T>(), dw.data<T>());
  });
}

void linear_classifier_forward(const Tensor& f, const Tensor& w, const Tensor& bias, Tensor& logits) {
  const OpCheck check("linear_classifier_forward", {{"f", &f}, {"w", &w}, {"bias", &bias}, {"logits", &logits}});
  check.same_device_float_contiguous();
  const cpu::ClassifierGeometry g = geometry(check, f, w);
  if (bias.defined()) check.shape("bias", bias, {g.classes});
  check.shape("logits", logits, logits_shape(f, w));
  if (f.device().is_cuda()) fail_not_implemented_on_cuda(check);
  dispatch_floating(check, f.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::linear_classifier_forward<T>(g, f.data<T>(), w.data<T>(), bias.defined() ? bias.data<T>() : nullptr,
                                      logits.data<T>());
  });
}

Tensor linear_classifier_forward(const Tensor& f, const Tensor& w, const Tensor& bias) {
  Tensor logits = empty_logits("linear_classifier_forward", f, w);
  linear_classifier_forward(f, w, bias, logits);
  return logits;
}

void linear_classifier_backward(const Tensor& dlogits, const Tensor& f, const Tensor& w, Tensor& df, Tensor& dw,
                                Tensor& dbias) {
  const OpCheck check("linear_classifier_backward",
                      {{"dlogits", &dlogits}, {"f", &f}, {"w", &w}, {"df", &df}, {"dw", &dw}, {"dbias", &dbias}});
  check.same_device_float_contiguous();
  const cpu::ClassifierGeometry g = geometry(check, f, w);
  check.shape("dlogits", dlogits, logits_shape(f, w));
  check.shape("df", df, f.shape());
  check.shape("dw", dw, w.shape());
  if (dbias.defined()) check.shape("dbias", dbias, {g.classes});
  if (f.device().is_cuda()) fail_not_implemented_on_cuda(check);
  dispatch_floating(check, f.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::linear_classifier_backward<T>(g, dlogits.data<T>(), f.data<T>(), w.data<T>(), df.data<T>(), dw.data<T>(),
                                       dbias.defined() ? dbias.data<T>() : nullptr);
  });
}

void cosine_max_similarity(const Tensor& logits, Tensor& similarity, double tau) {
  const OpCheck check("cosine_max_similarity", {{"logits", &logits}, {"similarity", &similarity}});
  check.same_device_float_contiguous();
  check_tau(check, tau);
  check.rank("logits", logits, 4);
  check.require(logits.dim(3) >= 1, "logits need at least one class");
  check.shape("similarity", similarity, {logits.dim(0), logits.dim(1), logits.dim(2)});
  if (logits.device().is_cuda()) fail_not_implemented_on_cuda(check);
  dispatch_floating(check, logits.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::cosine_max_similarity<T>(similarity.numel(), logits.dim(3), logits.data<T>(), tau, similarity.data<T>());
  });
}

Tensor cosine_max_similarity(const Tensor& logits, double tau) {
  PANS_CHECK(logits.ndim() == 4, "cosine_max_similarity: ", logits.describe("logits"), " must have 4 dimensions");
  Tensor similarity = Tensor::empty({logits.dim(0), logits.dim(1), logits.dim(2)}, logits.dtype(), logits.device());
  cosine_max_similarity(logits, similarity, tau);
  return similarity;
}

}  // namespace pans
