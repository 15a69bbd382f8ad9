#include "kernels/cpu/dropout.h"

#include "tensor/philox.h"

namespace pans::cpu {

template <class T>
void dropout2d_mask(std::int64_t batch, std::int64_t channels, double p, std::uint64_t seed, std::uint64_t stream,
                    T* mask) {
  const T keep_scale = T(1.0 / (1.0 - p));
  // i = n*channels + c: the row-major index of mask[n,c] is the Philox draw index.
  for (std::int64_t i = 0; i < batch * channels; ++i)
    mask[i] = double(philox_uniform(seed, stream, std::uint64_t(i))) < p ? T(0) : keep_scale;
}

template <class T>
void dropout2d_apply(const Dropout2dGeometry& g, const T* in, const T* mask, T* out) {
  for (std::int64_t n = 0; n < g.batch; ++n)
    for (std::int64_t pixel = 0; pixel < g.pixels; ++pixel)
      for (std::int64_t c = 0; c < g.channels; ++c) {
        const std::int64_t i = (n * g.pixels + pixel) * g.channels + c;
        out[i] = in[i] * mask[n * g.channels + c];
      }
}

#define PANS_INSTANTIATE_DROPOUT(T)                                                                      \
  template void dropout2d_mask<T>(std::int64_t, std::int64_t, double, std::uint64_t, std::uint64_t, T*); \
  template void dropout2d_apply<T>(const Dropout2dGeometry&, const T*, const T*, T*);
PANS_INSTANTIATE_DROPOUT(float)
PANS_INSTANTIATE_DROPOUT(double)
#undef PANS_INSTANTIATE_DROPOUT

}  // namespace pans::cpu
