// PNG files <-> Image, through stb_image / stb_image_write (Debian's libstb).
//
// Every failure throws pans::Error whose message starts with the file's path and says what is wrong
// (missing, unreadable, not a PNG, truncated, wrong channel count), so a data loader can pass it on
// to the user unchanged.
#pragma once

#include <string>

#include "data/atomic_file.h"
#include "data/image.h"

namespace pans {

// Any image stb_image decodes, converted to 8-bit RGB {H,W,3} (grey and alpha are converted as
// PIL's convert("RGB") does: grey is replicated, alpha dropped).
Image read_rgb_png(const std::string& path);

// A single-channel 8-bit PNG {H,W,1}, values as stored. Anything else (RGB, palette, grey+alpha,
// 16-bit) is refused rather than converted: a converted label map would hold wrong class ids.
Image read_label_png(const std::string& path);

// What a PNG's header says, and whether its samples are 16-bit.
struct PngHeader {
  int width = 0, height = 0, channels = 0;  // channels as stb reports them (a palette as 3 or 4)
  bool sixteen_bit = false;
};

// The header of a complete PNG, read without decoding the image: the file's first bytes and its
// last 12 (a complete PNG ends with the IEND chunk), the whole file only when those do not end in
// IEND. Throws pans::Error naming the path for what read_rgb_png would refuse as not a PNG or
// truncated (a PNG damaged in its middle passes here and fails to decode).
PngHeader read_png_header(const std::string& path);

// Writes 1 (grey) or 3 (RGB) channel images. Atomic: the bytes go to a temporary file in the same
// folder and the temporary is renamed over `path`, so a reader never sees a half-written file and
// an existing file is replaced only by a complete one.
void write_png(const std::string& path, const Image& image, FileSync sync = FileSync::Now);

}  // namespace pans
