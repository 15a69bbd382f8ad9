// data/png.h on any bytes: the header reader, the RGB and the label decoders must each return an
// image or throw pans::Error; anything else (a crash, a sanitizer report, another exception, an
// allocation beyond libFuzzer's limit) is a bug.
#include "data/png.h"
#include "tensor/error.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = pans::fuzz::write_input("input.png", data, size);
  try {
    pans::read_png_header(path);
  } catch (const pans::Error&) {
  }
  try {
    pans::read_rgb_png(path);
  } catch (const pans::Error&) {
  }
  try {
    pans::read_label_png(path);
  } catch (const pans::Error&) {
  }
  return 0;
}
