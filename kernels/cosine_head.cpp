#include "kernels/cosine_head.h"

#include "kernels/cpu/cosine_head.h"
#include "kernels/cuda/cosine_head.h"
#include "kernels/cuda_dispatch.h"
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

// Float32 scratch memory for a CUDA launcher, on x's device.
Tensor cuda_scratch(const Tensor& x, std::int64_t floats) { return Tensor::empty({floats}, DType::F32, x.device()); }

// A float32 pointer, or null for an undefined optional tensor.
float* optional_data(Tensor& t) { return t.defined() ? t.data<float>() : nullptr; }
const float* optional_data(const Tensor& t) { return t.defined() ? t.data<float>() : nullptr; }

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
  if (ran_on_cuda(check, x,
                  [&] { cuda::l2_normalize_forward(rows_of(x), x.dim(-1), x.data<float>(), y.data<float>()); }))
    return;
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
  if (ran_on_cuda(check, x, [&] {
        cuda::l2_normalize_backward(rows_of(x), x.dim(-1), x.data<float>(), dy.data<float>(), dx.data<float>());
      }))
    return;
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
  if (ran_on_cuda(check, f, [&] {
        Tensor scratch = cuda_scratch(f, cuda::cosine_classifier_forward_scratch_floats(g.channels, g.classes));
        cuda::cosine_classifier_forward(g.pixels, g.channels, g.classes, f.data<float>(), w.data<float>(), tau,
                                        logits.data<float>(), scratch.data<float>());
      }))
    return;
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
  if (ran_on_cuda(check, f, [&] {
        Tensor scratch =
            cuda_scratch(f, cuda::cosine_classifier_backward_scratch_floats(g.pixels, g.channels, g.classes));
        cuda::cosine_classifier_backward(g.pixels, g.channels, g.classes, dlogits.data<float>(), f.data<float>(),
                                         w.data<float>(), tau, df.data<float>(), dw.data<float>(),
                                         scratch.data<float>());
      }))
    return;
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
  if (ran_on_cuda(check, f, [&] {
        cuda::linear_classifier_forward(g.pixels, g.channels, g.classes, f.data<float>(), w.data<float>(),
                                        optional_data(bias), logits.data<float>());
      }))
    return;
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
  if (ran_on_cuda(check, f, [&] {
        Tensor scratch =
            cuda_scratch(f, cuda::linear_classifier_backward_scratch_floats(g.pixels, g.channels, g.classes));
        cuda::linear_classifier_backward(g.pixels, g.channels, g.classes, dlogits.data<float>(), f.data<float>(),
                                         w.data<float>(), df.data<float>(), dw.data<float>(), optional_data(dbias),
                                         scratch.data<float>());
      }))
    return;
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
  if (ran_on_cuda(check, logits, [&] {
        cuda::cosine_max_similarity(similarity.numel(), logits.dim(3), logits.data<float>(), tau,
                                    similarity.data<float>());
      }))
    return;
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
