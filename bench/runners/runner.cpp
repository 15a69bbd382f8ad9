#include <exception>

#include "bench/runners/op_runners.h"

namespace pans::bench {

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

}  // namespace pans::bench
