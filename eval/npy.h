// 2-D float32 maps in NumPy's .npy format (little-endian '<f4', C order), the exchange format of
// anomaly maps: `np.save("x.npy", scores.astype(np.float32))` writes one, eval_pans --scores reads
// them. Every failure throws pans::Error starting with the file's path and saying what to change.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pans {

struct FloatMatrix {
  std::int64_t rows = 0, cols = 0;
  std::vector<float> values;  // row-major, rows·cols
};

// Accepts format versions 1.0, 2.0 and 3.0; refuses any other dtype, Fortran order, a rank other
// than 2, and a file whose data is shorter or longer than its shape.
FloatMatrix read_npy_matrix(const std::string& path);

// Format 1.0, written atomically (a temporary file renamed over `path`).
void write_npy_matrix(const std::string& path, const FloatMatrix& matrix);

}  // namespace pans
