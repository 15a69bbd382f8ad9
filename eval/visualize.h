// Pictures of an evaluated image for people to look at: the segmentation in the StreetHazards
// palette (docs/data_format.md#classes-and-palette, data/classes.h), an anomaly map as a heat map,
// and the image blended with that heat map.
//
// The heat map uses inferno (matplotlib's perceptually uniform ramp, black -> purple -> orange ->
// pale yellow), rebuilt from its 11 colours at t = 0, 0.1, ..., 1 and interpolated linearly between
// them: brightness rises monotonically, so "brighter = more anomalous" reads the same in colour and
// in greyscale print.
#pragma once

#include "data/classes.h"
#include "data/image.h"
#include "tensor/tensor.h"

namespace pans {

// Class ids uint8 {H,W} (0..13, 255) -> RGB {H,W,3} in the StreetHazards palette.
Image colorize_segmentation(const Tensor& class_ids);

// Decoded ground-truth class ids {H,W,1} (0..13, 255; data/classes.h) -> RGB {H,W,3} in the same
// palette as colorize_segmentation, so a label picture and a prediction compare colour for colour;
// the anomaly class gets the palette's anomaly colour. Ignore (255) is drawn black rather than the
// palette's white, as in the paper's figures: "no label here" should recede, not stand out.
Image colorize_labels(const Image& class_ids);

// Which scores the ramp spans.
//   Fixed:    [0, 1], the range of MSP, cosine + softmax and PAnS: one colour means one score in
//             every image, so maps can be compared side by side.
//   PerImage: the map's own minimum to maximum (the only choice for the unbounded max logit): shows
//             where an image is most anomalous relative to itself; a constant map is drawn at the
//             bottom of the ramp.
// Scores outside the range are clamped to its ends.
enum class HeatRange { Fixed, PerImage };

// The ramp's colour at t, clamped to [0, 1].
streethazards::Rgb inferno_color(double t);

// scores float32 {H,W} on the CPU -> RGB {H,W,3}.
Image heat_map(const Tensor& scores, HeatRange range);

// (1 − alpha)·image + alpha·heat per channel, rounded; both RGB of one size.
Image overlay(const Image& image, const Image& heat, double alpha = 0.5);

}  // namespace pans
