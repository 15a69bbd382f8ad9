#include "data/png.h"

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "tensor/error.h"

namespace pans {
namespace {

std::vector<std::uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) PANS_FAIL(path, ": cannot open (", std::strerror(errno), ")");
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) PANS_FAIL(path, ": read error (", std::strerror(errno), ")");
  PANS_CHECK(bytes.size() <= std::size_t(INT_MAX), path, ": file too large to decode (", bytes.size(), " bytes)");
  return bytes;
}

// Only PNG: stb_image would decode other formats too, each with its own ways to state sizes.
void check_png_signature(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  static const std::uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kSignature, 8) != 0)
    PANS_FAIL(path, ": cannot decode image (not a PNG: the file does not start with the PNG signature)");
}

// A complete PNG: its chunks in sequence up to IEND, each with its 4-byte CRC, all within the file.
// stb_image stops reading at the IEND chunk's type and never checks what follows, so a PNG cut in
// its last bytes would pass as whole. And stb grows its buffer for the compressed data by each IDAT
// chunk's stated length before it reads the chunk: a header stating 1.2 GB in an 80-byte file cost
// 2 GB (found by fuzz_png).
void check_png_is_complete(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  check_png_signature(path, bytes);
  const auto be32 = [&](std::size_t at) {
    return std::uint32_t(bytes[at]) << 24 | std::uint32_t(bytes[at + 1]) << 16 | std::uint32_t(bytes[at + 2]) << 8 |
           std::uint32_t(bytes[at + 3]);
  };
  for (std::size_t at = 8; at + 8 <= bytes.size();) {
    const std::uint64_t length = be32(at), left = bytes.size() - at - 8;
    const std::string type(reinterpret_cast<const char*>(bytes.data() + at + 4), 4);
    if (length + 4 > left)
      PANS_FAIL(path, ": truncated or corrupt PNG (its ", type, " chunk at byte ", at, " states ", length,
                " bytes and a CRC, the file holds ", left, " after the chunk's header)");
    if (type == "IEND") return;
    at += 12 + std::size_t(length);
  }
  PANS_FAIL(path, ": truncated PNG (the file ends before its IEND chunk, after ", bytes.size(), " bytes)");
}

// Whether the file ends with an IEND chunk (empty, type, CRC), as PNG encoders write it.
bool ends_with_iend(std::ifstream& file) {
  static const std::uint8_t kIend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
  std::uint8_t tail[12];
  file.seekg(0, std::ios::end);
  if (file.tellg() < std::streamoff(sizeof tail)) return false;
  file.seekg(-std::streamoff(sizeof tail), std::ios::end);
  file.read(reinterpret_cast<char*>(tail), sizeof tail);
  return file && std::memcmp(tail, kIend, sizeof tail) == 0;
}

// stb leaves the reason empty for some broken streams.
std::string failure_reason() {
  const char* reason = stbi_failure_reason();
  return reason != nullptr && *reason != 0 ? reason : "corrupt or truncated data";
}

struct StbPixels {
  void operator()(stbi_uc* pixels) const { stbi_image_free(pixels); }
};

// stb allocates the decoded image at the size the header states before it inflates the pixel
// data, so a few bytes claiming 16384x16384 would cost a gigabyte. Each row holds a filter byte and
// at least one bit per pixel, and deflate expands at most 1032-fold: a file of n bytes holds at most
// 8 * 1032 * n pixels, and a header claiming more is refused before anything is allocated.
void check_size_fits_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  int width = 0, height = 0, stored_channels = 0;
  if (!stbi_info_from_memory(bytes.data(), int(bytes.size()), &width, &height, &stored_channels))
    PANS_FAIL(path, ": cannot decode image (", failure_reason(), ")");
  constexpr std::uint64_t kMaxPixelsPerByte = 8 * 1032;
  PANS_CHECK(std::uint64_t(width) * std::uint64_t(height) <= kMaxPixelsPerByte * bytes.size(), path,
             ": corrupt PNG (its header states ", width, "x", height, " pixels, more than its ", bytes.size(),
             " bytes can hold)");
}

Image decode(const std::string& path, const std::vector<std::uint8_t>& bytes, int channels) {
  check_size_fits_file(path, bytes);
  int width = 0, height = 0, stored_channels = 0;
  std::unique_ptr<stbi_uc, StbPixels> pixels(
      stbi_load_from_memory(bytes.data(), int(bytes.size()), &width, &height, &stored_channels, channels));
  if (!pixels) PANS_FAIL(path, ": cannot decode image (", failure_reason(), ")");
  Image image(height, width, channels);
  std::memcpy(image.pixels.data(), pixels.get(), image.pixels.size());
  return image;
}

void append_to_vector(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(context);
  const auto* begin = static_cast<const std::uint8_t*>(data);
  out->insert(out->end(), begin, begin + size);
}

}  // namespace

Image read_rgb_png(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(path);
  check_png_is_complete(path, bytes);
  return decode(path, bytes, 3);
}

Image read_label_png(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(path);
  check_png_is_complete(path, bytes);
  int width = 0, height = 0, channels = 0;
  if (!stbi_info_from_memory(bytes.data(), int(bytes.size()), &width, &height, &channels))
    PANS_FAIL(path, ": cannot decode image (", failure_reason(), ")");
  // stb reports a palette PNG as 3 or 4 channels, which this check refuses too.
  if (channels != 1)
    PANS_FAIL(path, ": a label map must be a single-channel 8-bit PNG, this one has ", channels, " channels");
  if (stbi_is_16_bit_from_memory(bytes.data(), int(bytes.size())))
    PANS_FAIL(path, ": a label map must be a single-channel 8-bit PNG, this one has 16-bit samples");
  return decode(path, bytes, 1);
}

PngHeader read_png_header(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) PANS_FAIL(path, ": cannot open (", std::strerror(errno), ")");
  // The signature and IHDR come first; a palette image also needs its PLTE, which precedes the
  // pixel data: 64 KiB hold them in any file but one with unusually large metadata chunks.
  std::vector<std::uint8_t> head(std::size_t(64) << 10);
  file.read(reinterpret_cast<char*>(head.data()), std::streamsize(head.size()));
  head.resize(std::size_t(file.gcount()));
  check_png_signature(path, head);
  const bool whole = file.eof();
  file.clear();
  if (!ends_with_iend(file)) check_png_is_complete(path, read_file_bytes(path));
  if (!whole && !stbi_info_from_memory(head.data(), int(head.size()), nullptr, nullptr, nullptr))
    head = read_file_bytes(path);
  PngHeader header;
  if (!stbi_info_from_memory(head.data(), int(head.size()), &header.width, &header.height, &header.channels))
    PANS_FAIL(path, ": cannot decode image (", failure_reason(), ")");
  header.sixteen_bit = stbi_is_16_bit_from_memory(head.data(), int(head.size())) != 0;
  return header;
}

void write_png(const std::string& path, const Image& image, FileSync sync) {
  PANS_CHECK(image.channels == 1 || image.channels == 3, path, ": write_png takes 1 or 3 channels, not ",
             image.channels);
  PANS_CHECK(image.height > 0 && image.width > 0 && image.height <= INT_MAX / 3 && image.width <= INT_MAX / 3, path,
             ": cannot write a ", image.height, "x", image.width, " image");
  std::vector<std::uint8_t> encoded;
  const int stride = int(image.width * image.channels);
  if (!stbi_write_png_to_func(append_to_vector, &encoded, int(image.width), int(image.height), int(image.channels),
                              image.pixels.data(), stride))
    PANS_FAIL(path, ": PNG encoding failed");

  write_file_atomically(path, encoded.data(), encoded.size(), sync);
}

}  // namespace pans
