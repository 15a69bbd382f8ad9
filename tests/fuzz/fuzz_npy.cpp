// eval/npy.h on any bytes: a score map or pans::Error, and a map read back must hold rows·cols values.
#include <cstdlib>

#include "eval/npy.h"
#include "tensor/error.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = pans::fuzz::write_input("input.npy", data, size);
  try {
    const pans::FloatMatrix matrix = pans::read_npy_matrix(path);
    if (matrix.rows < 0 || matrix.cols < 0 || matrix.values.size() != std::size_t(matrix.rows * matrix.cols))
      std::abort();
  } catch (const pans::Error&) {
  }
  return 0;
}
