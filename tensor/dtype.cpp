#include "tensor/dtype.h"

#include "tensor/error.h"

namespace pans {

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F32:
      return 4;
    case DType::BF16:
      return 2;
    case DType::F64:
      return 8;
    case DType::I32:
      return 4;
    case DType::U8:
      return 1;
  }
  PANS_FAIL("dtype_size: unknown dtype ", int(dtype));
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32:
      return "float32";
    case DType::BF16:
      return "bfloat16";
    case DType::F64:
      return "float64";
    case DType::I32:
      return "int32";
    case DType::U8:
      return "uint8";
  }
  PANS_FAIL("dtype_name: unknown dtype ", int(dtype));
}

}  // namespace pans
