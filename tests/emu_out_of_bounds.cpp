// Runs an emulated kernel that indexes one element past the end of its memory, for the sanitizer
// build's tests that expect AddressSanitizer to report it:
//   emu_out_of_bounds shared   - dynamic shared memory of 64 bytes, element 16 written
//   emu_out_of_bounds global   - a device tensor of 10 floats, element 10 written
// Exits 0 if nothing noticed, which those tests count as a failure.
#include <cstdio>
#include <cstring>

#include "tensor/tensor.h"
#include "tests/cuda_simt_kernels.h"

int main(int argc, char** argv) {
  if (argc != 2 || (std::strcmp(argv[1], "shared") != 0 && std::strcmp(argv[1], "global") != 0)) {
    std::fprintf(stderr, "usage: emu_out_of_bounds shared|global\n");
    return 2;
  }
  if (std::strcmp(argv[1], "shared") == 0) {
    pans::test::write_dynamic_shared(64, 16);
  } else {
    pans::Tensor values = pans::Tensor::zeros({10}, pans::DType::F32, pans::Device::cuda(0));
    pans::test::write_element(values.data<float>(), 10);
  }
  std::printf("the out-of-bounds write went unnoticed\n");
  return 0;
}
