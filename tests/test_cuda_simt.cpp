// Self-tests of the SIMT primitives. Expected values come from the CUDA Programming Guide's
// definitions, computed here on the host, never from the emulator. The same binary source runs on
// a GPU (label cuda) and on the emulator (label emu), so the emulator is checked against hardware
// whenever a GPU is present.
#include <doctest/doctest.h>

#include <numeric>

#include "tensor/tensor.h"
#include "tests/cuda_simt_kernels.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

// The source lane of `lane` for a shuffle, from the Programming Guide ("Warp Shuffle Functions").
int expected_source(ShuffleKind kind, int lane, int argument, int width) {
  const int low = lane / width * width, high = low + width - 1;
  switch (kind) {
    case ShuffleKind::Index:
      return low + argument % width;
    case ShuffleKind::Up:
      return lane - argument >= low ? lane - argument : lane;
    case ShuffleKind::Down:
      return lane + argument <= high ? lane + argument : lane;
    case ShuffleKind::Xor:
      return (lane ^ argument) <= high ? lane ^ argument : lane;
  }
  return -1;
}

std::vector<int> device_ints(const Tensor& t) { return on_cpu(t).to_vector<std::int32_t>(); }

}  // namespace

TEST_CASE("warp shuffles follow the CUDA definition for every width and offset") {
  Tensor out = Tensor::zeros({32}, DType::I32, gpu());
  for (ShuffleKind kind : {ShuffleKind::Index, ShuffleKind::Up, ShuffleKind::Down, ShuffleKind::Xor})
    for (int width : {32, 16, 8, 4, 2})
      for (int argument : {0, 1, 3, width - 1, 16, 31}) {
        CAPTURE(int(kind));
        CAPTURE(width);
        CAPTURE(argument);
        shuffle_probe(kind, argument, width, out.data<std::int32_t>());
        const std::vector<int> got = device_ints(out);
        for (int lane = 0; lane < 32; ++lane)
          CHECK(got[std::size_t(lane)] == 100 + expected_source(kind, lane, argument, width));
      }
}

TEST_CASE("warp votes: ballot, any and all") {
  Tensor out = Tensor::zeros({3}, DType::I32, gpu());
  const std::vector<std::vector<int>> patterns = {std::vector<int>(32, 0), std::vector<int>(32, 1), [] {
                                                    std::vector<int> p(32, 0);
                                                    for (int l = 0; l < 32; l += 3) p[std::size_t(l)] = l + 1;
                                                    return p;
                                                  }()};
  for (const auto& pattern : patterns) {
    const Tensor predicate = Tensor::from_vector<std::int32_t>(pattern, {32}).to(gpu());
    vote_probe(predicate.data<std::int32_t>(), reinterpret_cast<unsigned*>(out.data<std::int32_t>()));
    unsigned ballot = 0;
    for (int l = 0; l < 32; ++l)
      if (pattern[std::size_t(l)] != 0) ballot |= 1u << l;
    const std::vector<int> got = device_ints(out);
    CHECK(unsigned(got[0]) == ballot);
    CHECK(got[1] == (ballot != 0));
    CHECK(got[2] == (ballot == 0xffffffffu));
  }
}

TEST_CASE("__syncwarp orders a lane's shared write before another lane's read") {
  Tensor out = Tensor::zeros({32}, DType::I32, gpu());
  syncwarp_probe(out.data<std::int32_t>());
  const std::vector<int> got = device_ints(out);
  for (int lane = 0; lane < 32; ++lane) CHECK(got[std::size_t(lane)] == 31 - lane);
}

TEST_CASE("__syncthreads makes every thread's shared write visible to the block") {
  for (int threads : {32, 96, 256, 1024}) {
    CAPTURE(threads);
    Tensor out = Tensor::zeros({threads}, DType::I32, gpu());
    neighbour_exchange(threads, true, out.data<std::int32_t>());
    const std::vector<int> got = device_ints(out);
    for (int t = 0; t < threads; ++t) CHECK(got[std::size_t(t)] == (t + 1) % threads);
  }
}

#ifdef PANS_SIMT_EMU
TEST_CASE("emulator: a kernel missing its __syncthreads gives a wrong result under the shuffled order") {
  // The shuffled schedule runs some threads to their end before their neighbour has written, and
  // the emulator fills dynamic shared memory with 0xFF bytes before every block: those reads see -1.
  Tensor out = Tensor::zeros({64}, DType::I32, gpu());
  neighbour_exchange(64, false, out.data<std::int32_t>());
  const std::vector<int> got = device_ints(out);
  int wrong = 0;
  for (int t = 0; t < 64; ++t) wrong += got[std::size_t(t)] != (t + 1) % 64;
  CHECK(wrong > 0);
}

TEST_CASE("emulator: __syncthreads reached from different lines is reported") {
  CHECK_THROWS_WITH_AS(divergent_barrier(64), doctest::Contains("divergent __syncthreads"), Error);
}
#endif

TEST_CASE("dynamic shared memory holds a block's data across a barrier") {
  for (int threads : {1, 33, 512}) {
    CAPTURE(threads);
    std::vector<float> values(static_cast<std::size_t>(threads));
    std::iota(values.begin(), values.end(), 0.5f);
    const Tensor input = Tensor::from_vector(values, {threads}).to(gpu());
    Tensor out = Tensor::zeros({threads}, DType::F32, gpu());
    reverse_through_dynamic_shared(threads, input.data<float>(), out.data<float>());
    const std::vector<float> got = on_cpu(out).to_vector<float>();
    for (int t = 0; t < threads; ++t) CHECK(got[std::size_t(t)] == values[std::size_t(threads - 1 - t)]);
  }
}

TEST_CASE("atomics from many blocks and threads") {
  Tensor sum = Tensor::zeros({1}, DType::F32, gpu());
  Tensor maximum = Tensor::zeros({1}, DType::I32, gpu());
  Tensor counter = Tensor::zeros({1}, DType::I32, gpu());
  atomics_probe(3, 96, sum.data<float>(), maximum.data<std::int32_t>(),
                reinterpret_cast<unsigned*>(counter.data<std::int32_t>()));
  CHECK(on_cpu(sum).to_vector<float>()[0] == 288.0f);  // integers up to 2^24 add exactly in float
  CHECK(device_ints(maximum)[0] == 287);
  CHECK(device_ints(counter)[0] == 288);
}

TEST_CASE("invalid launches fail with the kernel's name") {
  CHECK_THROWS_WITH_AS(launch_empty(1, 1025, 0), doctest::Contains("empty_kernel"), Error);
  CHECK_THROWS_WITH_AS(launch_empty(0, 32, 0), doctest::Contains("empty_kernel"), Error);
  CHECK_THROWS_WITH_AS(launch_empty(1, 32, 64 * 1024), doctest::Contains("empty_kernel"), Error);
  CHECK_NOTHROW(launch_empty(2, 1024, 48 * 1024));
}
