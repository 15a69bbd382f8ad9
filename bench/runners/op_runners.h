// The runner of each op, which make_runner (runner.cpp) picks by the row's op: an op with a library
// baseline has a file of its own (<op>_runner.cpp), those timed alone share native_runners.cpp.
#pragma once

#include "bench/runners/runner.h"

namespace pans::bench {

constexpr double kSlope = 0.01;  // the leaky ReLU slope of InPlace-ABN and of the residual add

inline Shape nhwc(const ActivationShape& s) { return {s.n, s.h, s.w, s.c}; }

void conv_runner(const Row& row, Data& data, Runner& r);
void iabn_runner(const Row& row, Data& data, Runner& r);
void max_pool_runner(const Row& row, Data& data, Runner& r);
void concat_runner(const Row& row, Data& data, Runner& r);
void residual_runner(const Row& row, Data& data, Runner& r);
void resample_runner(const Row& row, Data& data, Runner& r);  // adaptive pooling and resizing
void dropout_runner(const Row& row, Data& data, Runner& r);
void cosine_head_runner(const Row& row, Data& data, Runner& r);
void cross_entropy_runner(const Row& row, Data& data, Runner& r);
void sgd_runner(const Row& row, Data& data, Runner& r);

}  // namespace pans::bench
