// CPU classifiers and L2 normalisation: plain loops over pixels, classes and channels. Every
// normalisation, of feature pixels and of weight rows alike, goes through l2_normalize_rows.
#pragma once

#include <cstdint>

#include "kernels/shared/l2_normalize_epsilon.h"

namespace pans::cpu {

// f is {pixels, channels}, w {classes, channels}, logits {pixels, classes}.
struct ClassifierGeometry {
  std::int64_t pixels, channels, classes;
};

// y = v / max(|v|, epsilon) for each row of the {rows, cols} matrix v.
template <class T>
void l2_normalize_rows(std::int64_t rows, std::int64_t cols, const T* v, T* y);
// dv (=) from dy and the rows v of the forward input.
template <class T>
void l2_normalize_rows_backward(std::int64_t rows, std::int64_t cols, const T* v, const T* dy, T* dv);

template <class T>
void cosine_classifier_forward(const ClassifierGeometry& g, const T* f, const T* w, double tau, T* logits);
template <class T>
void cosine_classifier_backward(const ClassifierGeometry& g, const T* dlogits, const T* f, const T* w, double tau,
                                T* df, T* dw);

template <class T>
void linear_classifier_forward(const ClassifierGeometry& g, const T* f, const T* w, const T* bias, T* logits);
template <class T>
void linear_classifier_backward(const ClassifierGeometry& g, const T* dlogits, const T* f, const T* w, T* df, T* dw,
                                T* dbias);

template <class T>
void cosine_max_similarity(std::int64_t pixels, std::int64_t classes, const T* logits, double tau, T* similarity);

}  // namespace pans::cpu
