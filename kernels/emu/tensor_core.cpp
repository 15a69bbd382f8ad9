#include "kernels/emu/tensor_core.h"

#include <cstring>

#include "kernels/emu/scheduler.h"
#include "tensor/error.h"

namespace pans::emu {
namespace {

struct MmaLane {
  const std::uint32_t* a;
  const std::uint32_t* b;
  const float* c;
  float* d;
};

float f32_from_bits(std::uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

double tf32_value(std::uint32_t bits) { return double(f32_from_bits(bits & 0xFFFFE000u)); }
double bf16_value(std::uint32_t register_bits, int half) {
  return double(f32_from_bits(half == 0 ? register_bits << 16 : register_bits & 0xFFFF0000u));
}

// D = A * B + C for a 16 x 8 tile, K = 8 or 16, once A, B and C have been gathered from the lanes;
// then D is scattered back with the accumulator layout both shapes share:
//   d0 = D[g][2t], d1 = D[g][2t+1], d2 = D[g+8][2t], d3 = D[g+8][2t+1]   (g = lane/4, t = lane%4).
template <int K>
void multiply_and_scatter(MmaLane* const* lanes, const double (&a)[16][K], const double (&b)[K][8]) {
  double c[16][8];
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane >> 2, t = lane & 3;
    c[g][2 * t] = lanes[lane]->c[0];
    c[g][2 * t + 1] = lanes[lane]->c[1];
    c[g + 8][2 * t] = lanes[lane]->c[2];
    c[g + 8][2 * t + 1] = lanes[lane]->c[3];
  }
  double d[16][8];
  for (int r = 0; r < 16; ++r)
    for (int n = 0; n < 8; ++n) {
      double sum = c[r][n];
      for (int k = 0; k < K; ++k) sum += a[r][k] * b[k][n];
      d[r][n] = sum;
    }
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane >> 2, t = lane & 3;
    lanes[lane]->d[0] = float(d[g][2 * t]);
    lanes[lane]->d[1] = float(d[g][2 * t + 1]);
    lanes[lane]->d[2] = float(d[g + 8][2 * t]);
    lanes[lane]->d[3] = float(d[g + 8][2 * t + 1]);
  }
}

MmaLane* const* as_mma_lanes(void* const* payloads, int lane_count) {
  PANS_CHECK(lane_count == 32, "mma.sync needs a full warp of 32 lanes, this one has ", lane_count);
  return reinterpret_cast<MmaLane* const*>(payloads);
}

// tf32 m16n8k8 fragments: a0 = A[g][t], a1 = A[g+8][t], a2 = A[g][t+4], a3 = A[g+8][t+4];
// b0 = B[t][g], b1 = B[t+4][g].
void resolve_mma_tf32(void* const* payloads, int lane_count) {
  MmaLane* const* lanes = as_mma_lanes(payloads, lane_count);
  double a[16][8], b[8][8];
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane >> 2, t = lane & 3;
    const std::uint32_t* ra = lanes[lane]->a;
    a[g][t] = tf32_value(ra[0]);
    a[g + 8][t] = tf32_value(ra[1]);
    a[g][t + 4] = tf32_value(ra[2]);
    a[g + 8][t + 4] = tf32_value(ra[3]);
    b[t][g] = tf32_value(lanes[lane]->b[0]);
    b[t + 4][g] = tf32_value(lanes[lane]->b[1]);
  }
  multiply_and_scatter<8>(lanes, a, b);
}

// bf16 m16n8k16 fragments, two elements per register, the lower index in bits 0-15:
// a0 = A[g][2t..2t+1], a1 = A[g+8][2t..2t+1], a2 = A[g][2t+8..2t+9], a3 = A[g+8][2t+8..2t+9];
// b0 = B[2t..2t+1][g], b1 = B[2t+8..2t+9][g].
void resolve_mma_bf16(void* const* payloads, int lane_count) {
  MmaLane* const* lanes = as_mma_lanes(payloads, lane_count);
  double a[16][16], b[16][8];
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane >> 2, t = lane & 3;
    const std::uint32_t* ra = lanes[lane]->a;
    for (int half = 0; half < 2; ++half) {
      a[g][2 * t + half] = bf16_value(ra[0], half);
      a[g + 8][2 * t + half] = bf16_value(ra[1], half);
      a[g][2 * t + 8 + half] = bf16_value(ra[2], half);
      a[g + 8][2 * t + 8 + half] = bf16_value(ra[3], half);
      b[2 * t + half][g] = bf16_value(lanes[lane]->b[0], half);
      b[2 * t + 8 + half][g] = bf16_value(lanes[lane]->b[1], half);
    }
  }
  multiply_and_scatter<16>(lanes, a, b);
}

struct LdmatrixLane {
  const unsigned char* row_address;
  std::uint32_t* registers;
  int count;
  bool transpose;
};

std::uint16_t element(const LdmatrixLane* const* lanes, int matrix, int row, int column) {
  std::uint16_t value;
  std::memcpy(&value, lanes[8 * matrix + row]->row_address + 2 * column, sizeof(value));
  return value;
}

// Lane l's register j holds matrix j's elements (l/4, 2(l%4)) and (l/4, 2(l%4)+1), or with .trans
// the elements (2(l%4), l/4) and (2(l%4)+1, l/4); the first in bits 0-15.
void resolve_ldmatrix(void* const* payloads, int lane_count) {
  PANS_CHECK(lane_count == 32, "ldmatrix needs a full warp of 32 lanes, this one has ", lane_count);
  const LdmatrixLane* const* lanes = reinterpret_cast<const LdmatrixLane* const*>(payloads);
  const int count = lanes[0]->count;
  for (int supplier = 0; supplier < 8 * count; ++supplier)
    PANS_CHECK(reinterpret_cast<std::uintptr_t>(lanes[supplier]->row_address) % 16 == 0, "ldmatrix: lane ", supplier,
               "'s row address is not 16-byte aligned");
  for (int lane = 0; lane < 32; ++lane) {
    PANS_CHECK(lanes[lane]->count == count && lanes[lane]->transpose == lanes[0]->transpose,
               "ldmatrix: lanes disagree on .x", count, " or .trans");
    const int quad = lane >> 2, pair = 2 * (lane & 3);
    for (int j = 0; j < count; ++j) {
      const std::uint16_t low = lanes[0]->transpose ? element(lanes, j, pair, quad) : element(lanes, j, quad, pair);
      const std::uint16_t high =
          lanes[0]->transpose ? element(lanes, j, pair + 1, quad) : element(lanes, j, quad, pair + 1);
      lanes[lane]->registers[j] = std::uint32_t(low) | (std::uint32_t(high) << 16);
    }
  }
}

}  // namespace

void mma_m16n8k8_tf32(float d[4], const std::uint32_t a[4], const std::uint32_t b[2], const float c[4],
                      const char* file, int line) {
  MmaLane lane{a, b, c, d};
  warp_exchange(resolve_mma_tf32, &lane, file, line);
}

void mma_m16n8k16_bf16(float d[4], const std::uint32_t a[4], const std::uint32_t b[2], const float c[4],
                       const char* file, int line) {
  MmaLane lane{a, b, c, d};
  warp_exchange(resolve_mma_bf16, &lane, file, line);
}

void ldmatrix(std::uint32_t* registers, int count, bool transpose, const void* row_address, const char* file,
              int line) {
  PANS_CHECK(count == 1 || count == 2 || count == 4, "ldmatrix loads 1, 2 or 4 matrices, not ", count);
  LdmatrixLane lane{static_cast<const unsigned char*>(row_address), registers, count, transpose};
  warp_exchange(resolve_ldmatrix, &lane, file, line);
}

std::uint32_t cvt_rna_tf32(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  if ((bits & 0x7F800000u) == 0x7F800000u) return bits;  // Inf and NaN pass unchanged
  // Adding half of the 13 dropped bits to the magnitude and truncating rounds ties away from zero.
  return (bits + 0x1000u) & 0xFFFFE000u;
}

}  // namespace pans::emu
