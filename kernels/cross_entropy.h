// Softmax over the class axis and the fused softmax cross-entropy loss of semantic segmentation.
//
// Softmax over the last axis of logits of any rank >= 1 (NHWC logits {N,H,W,K}: per pixel):
//   p_k = exp(l_k - max_j l_j) / sum_i exp(l_i - max_j l_j)    (subtracting the max keeps exp finite)
//   dl_k = p_k (dp_k - sum_i p_i dp_i)                           (=)
//
// Cross-entropy with an ignore index, logits {N,H,W,K}, labels uint8 {N,H,W}:
//   loss = loss_scale * (1/count) * sum over pixels with label != ignore_index of -log p_label
//   dlogits = loss_scale * (p - onehot(label)) / count at those pixels, 0 at ignored ones   (=)
// where count is the number of pixels not ignored. The loss is accumulated in double.
// When every pixel is ignored the loss is 0 and dlogits is 0. PyTorch returns NaN there (a mean
// over no elements); a crop that is all padding must not poison the training, so pans does not.
// A label that is neither the ignore index nor below K is an error.
// loss_scale weights one loss among several (0.4 for the deep-supervision branch) without a
// separate pass over dlogits.
// CUDA tensors (float32 only; kernels/cuda/cross_entropy.cu): the labels are checked on the GPU,
// and a bad label raises the same error with dlogits left unwritten; the loss is reduced in a
// fixed order, so it has the same bits on every call, and returning it synchronises the device.
#pragma once

#include "tensor/tensor.h"

namespace pans {

constexpr int kIgnoreLabel = 255;

// logits of any rank >= 1, probs (=) of the same shape.
void softmax_forward(const Tensor& logits, Tensor& probs);
Tensor softmax_forward(const Tensor& logits);
// dlogits (=) from the forward output probs and dprobs, all of one shape.
void softmax_backward(const Tensor& probs, const Tensor& dprobs, Tensor& dlogits);

// Returns the loss and writes dlogits {N,H,W,K} (=), the gradient of the returned loss.
double softmax_cross_entropy(const Tensor& logits, const Tensor& labels, Tensor& dlogits,
                             int ignore_index = kIgnoreLabel, double loss_scale = 1.0);

}  // namespace pans
