// The two resamplers of the PAnS augmentation, written to match Pillow's Image.resize (PAnS pins
// pillow 8.0; the formulas are unchanged through 9.x), because the official training ran through PIL.
#pragma once

#include <cstdint>

#include "data/image.h"

namespace pans {

// Pillow's BILINEAR: a separable triangle filter whose support widens with the downscale factor
// (support = max(in/out, 1) source pixels on each side of the centre (dst + 0.5)·in/out), so a
// downscale averages every covered source pixel instead of sampling two (antialiasing). Weights are
// normalised per output pixel and rounded to 22-bit fixed point; the horizontal pass runs first and
// is rounded to uint8 before the vertical pass, as in Pillow's Resample.c. Any channel count.
Image resize_antialiased_bilinear(const Image& image, std::int64_t out_height, std::int64_t out_width);

// Pillow's NEAREST: output index d reads source index floor((d + 0.5)·in/out), with the position
// accumulated by repeated addition as Pillow does. Values are copied, never mixed: labels stay labels.
Image resize_nearest(const Image& image, std::int64_t out_height, std::int64_t out_width);

}  // namespace pans
