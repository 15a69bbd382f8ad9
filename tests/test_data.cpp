// The data pipeline: PNG I/O, StreetHazards labels and layout, Pillow-exact resampling, the PAnS
// augmentation, the prefetching loader and the procedural scene generator.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "data/augment.h"
#include "data/classes.h"
#include "data/loader.h"
#include "data/pipelines.h"
#include "data/png.h"
#include "data/resize.h"
#include "data/sampler.h"
#include "data/scenes/generator.h"
#include "data/scenes/scene.h"
#include "data/streethazards.h"
#include "tests/test_helpers.h"

using namespace pans;
using namespace pans::test;
namespace fs = std::filesystem;
namespace sh = pans::streethazards;

namespace {

Image image_from(std::int64_t height, std::int64_t width, std::int64_t channels, std::vector<std::uint8_t> pixels) {
  Image image(height, width, channels);
  REQUIRE(pixels.size() == image.pixels.size());
  image.pixels = std::move(pixels);
  return image;
}

Image pattern_image(std::int64_t height, std::int64_t width, std::int64_t channels) {
  Image image(height, width, channels);
  for (std::size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = std::uint8_t((i * 37 + i / 7) % 256);
  return image;
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("png: RGB and single-channel images survive a write and a read unchanged") {
  TempDir dir;
  const Image rgb = pattern_image(13, 17, 3), grey = pattern_image(9, 4, 1);
  write_png(dir / "rgb.png", rgb);
  write_png(dir / "grey.png", grey);
  CHECK(read_rgb_png(dir / "rgb.png").pixels == rgb.pixels);
  const Image label = read_label_png(dir / "grey.png");
  CHECK(label.height == 9);
  CHECK(label.width == 4);
  CHECK(label.channels == 1);
  CHECK(label.pixels == grey.pixels);
  // A grey PNG read as RGB replicates the grey value, as PIL's convert("RGB") does.
  const Image grey_as_rgb = read_rgb_png(dir / "grey.png");
  CHECK(grey_as_rgb.at(3, 2, 0) == grey.at(3, 2));
  CHECK(grey_as_rgb.at(3, 2, 2) == grey.at(3, 2));
}

TEST_CASE("png: a write replaces the file whole and leaves no temporary behind") {
  TempDir dir;
  write_png(dir / "a.png", pattern_image(4, 4, 3));
  write_png(dir / "a.png", pattern_image(6, 5, 1));
  CHECK(read_label_png(dir / "a.png").width == 5);
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
  check_error_mentions([&] { write_png(dir / "no_such_folder/b.png", pattern_image(2, 2, 3)); },
                       {"no_such_folder/b.png"});
}

TEST_CASE("png: a label PNG with three channels, a missing file and corrupt bytes are errors naming the file") {
  TempDir dir;
  write_png(dir / "rgb_label.png", pattern_image(5, 5, 3));
  check_error_mentions([&] { read_label_png(dir / "rgb_label.png"); },
                       {"rgb_label.png", "single-channel", "3 channels"});
  check_error_mentions([&] { read_rgb_png(dir / "missing.png"); }, {"missing.png", "cannot open"});
  write_bytes(dir / "garbage.png", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  check_error_mentions([&] { read_rgb_png(dir / "garbage.png"); }, {"garbage.png", "cannot decode"});
  check_error_mentions([&] { read_label_png(dir / "garbage.png"); }, {"garbage.png"});
}

// stb allocates the image its header states before it reads the pixel data: a 59-byte file stating
// 16384x16384 RGB would cost 768 MiB. The reader refuses more pixels than the file's bytes can
// inflate to, and any file that is not a PNG (tests/fuzz/fuzz_png looks for more).
TEST_CASE("png: a header stating more pixels than the file can hold, and a file that is no PNG, are refused") {
  TempDir dir;
  const std::vector<std::uint8_t> huge = {
      0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',                                        // signature
      0,    0,   0,   13,  'I',  'H',  'D',  'R',  0,    0,    0x40, 0,   0, 0, 0x40, 0,  // IHDR: 16384 x 16384
      8,    2,   0,   0,   0,    0,    0,    0,    0,                            // 8-bit RGB, CRC (stb ignores it)
      0,    0,   0,   2,   'I',  'D',  'A',  'T',  0x78, 0x9c, 0,    0,   0, 0,  // 2 bytes of zlib stream
      0,    0,   0,   0,   'I',  'E',  'N',  'D',  0xae, 0x42, 0x60, 0x82};
  write_bytes(dir / "huge.png", huge);
  check_error_mentions([&] { read_rgb_png(dir / "huge.png"); }, {"huge.png", "16384x16384", "more than its"});
  CHECK(read_png_header(dir / "huge.png").width == 16384);  // the header alone allocates nothing
  // An IDAT chunk stating 1.2 GB in a small file: stb would grow its buffer to 2 GB before reading it
  // (found by tests/fuzz/fuzz_png).
  write_png(dir / "small.png", pattern_image(4, 3, 3));
  std::vector<std::uint8_t> bytes = read_bytes(dir / "small.png");
  const std::string text(bytes.begin(), bytes.end());
  const std::size_t idat = text.find("IDAT");
  REQUIRE(idat != std::string::npos);
  for (std::size_t i = 0; i < 4; ++i) bytes[idat - 4 + i] = std::uint8_t("IDAT"[i]);  // 0x49444154 bytes
  write_bytes(dir / "small.png", bytes);
  check_error_mentions([&] { read_rgb_png(dir / "small.png"); }, {"small.png", "IDAT chunk", "1229209940 bytes"});
  // A BMP stb_image would decode.
  write_bytes(dir / "picture.png", {'B', 'M', 0x3a, 0, 0, 0, 0, 0,    0, 0, 0x36, 0, 0, 0, 0x28, 0, 0,    0, 1, 0, 0,
                                    0,   1,   0,    0, 0, 1, 0, 0x18, 0, 0, 0,    0, 0, 4, 0,    0, 0,    0, 0, 0, 0,
                                    0,   0,   0,    0, 0, 0, 0, 0,    0, 0, 0,    0, 0, 0, 0,    0, 0xff, 0, 0});
  for (const auto& read : {read_rgb_png, read_label_png})
    check_error_mentions([&] { read(dir / "picture.png"); }, {"picture.png", "not a PNG"});
  check_error_mentions([&] { read_png_header(dir / "picture.png"); }, {"picture.png", "not a PNG"});
}

TEST_CASE("png: every truncation of a PNG is an error naming the file") {
  TempDir dir;
  write_png(dir / "whole.png", pattern_image(24, 31, 3));
  const std::vector<std::uint8_t> whole = read_bytes(dir / "whole.png");
  for (std::size_t keep = 0; keep < whole.size(); keep += std::max<std::size_t>(1, whole.size() / 97)) {
    CAPTURE(keep);
    write_bytes(dir / "cut.png", {whole.begin(), whole.begin() + std::ptrdiff_t(keep)});
    check_error_mentions([&] { read_rgb_png(dir / "cut.png"); }, {"cut.png"});
  }
  write_bytes(dir / "cut.png", {whole.begin(), whole.end() - 2});  // all image data, the IEND CRC cut
  check_error_mentions([&] { read_rgb_png(dir / "cut.png"); }, {"cut.png", "truncated"});
}

TEST_CASE("png header: size and channels without decoding, and every truncation is an error naming the file") {
  TempDir dir;
  write_png(dir / "whole.png", pattern_image(24, 31, 3));
  write_png(dir / "grey.png", Image(7, 9, 1, 3));
  const PngHeader rgb = read_png_header(dir / "whole.png"), grey = read_png_header(dir / "grey.png");
  CHECK((rgb.height == 24 && rgb.width == 31 && rgb.channels == 3 && !rgb.sixteen_bit));
  CHECK((grey.height == 7 && grey.width == 9 && grey.channels == 1));
  // The same truncations read_rgb_png refuses, found from the file's ends alone.
  const std::vector<std::uint8_t> whole = read_bytes(dir / "whole.png");
  for (std::size_t keep = 0; keep < whole.size(); keep += std::max<std::size_t>(1, whole.size() / 97)) {
    CAPTURE(keep);
    write_bytes(dir / "cut.png", {whole.begin(), whole.begin() + std::ptrdiff_t(keep)});
    check_error_mentions([&] { read_png_header(dir / "cut.png"); }, {"cut.png"});
  }
  write_bytes(dir / "cut.png", {whole.begin(), whole.end() - 2});
  check_error_mentions([&] { read_png_header(dir / "cut.png"); }, {"cut.png", "truncated"});
  // Bytes after IEND: the fast path misses IEND at the end, the whole-file check finds it, as the decoder does.
  std::vector<std::uint8_t> trailing = whole;
  trailing.insert(trailing.end(), {1, 2, 3});
  write_bytes(dir / "trailing.png", trailing);
  CHECK(read_png_header(dir / "trailing.png").width == 31);
  check_error_mentions([&] { read_png_header(dir / "missing.png"); }, {"missing.png", "cannot open"});
}

TEST_CASE("labels: PNG value v becomes class v - 1, 0 becomes 255 (ignore), 14 the anomaly class 13") {
  Image label = image_from(1, 5, 1, {0, 1, 8, 13, 14});
  sh::decode_label_values(label, "x.png");
  CHECK(label.pixels == std::vector<std::uint8_t>{255, 0, 7, 12, 13});
  CHECK(std::string(sh::class_name(sh::kRoad)) == "road");
  CHECK(sh::class_color(sh::kCar).b == 142);
  CHECK(sh::class_color(sh::kIgnore).r == 255);
  Image bad = image_from(2, 2, 1, {1, 2, 3, 15});
  check_error_mentions([&] { sh::decode_label_values(bad, "bad_label.png"); },
                       {"bad_label.png", "value 15", "row 1 column 1"});
}

namespace {

// A StreetHazards tree under `root`: the given (split, town, file) images with labels holding
// PNG value `label_value` everywhere.
void write_sample(const std::string& root, Split split, const std::string& town, const std::string& file,
                  std::int64_t height = 6, std::int64_t width = 8, std::uint8_t label_value = 8) {
  const fs::path images = fs::path(root) / split_image_folder(split) / town;
  const fs::path labels = fs::path(root) / split_label_folder(split) / town;
  fs::create_directories(images);
  fs::create_directories(labels);
  write_png((images / file).string(), pattern_image(height, width, 3));
  write_png((labels / file).string(), Image(height, width, 1, label_value));
}

}  // namespace

TEST_CASE("streethazards: a split lists town/file in sorted order and decodes its labels") {
  TempDir dir;
  const std::string root = dir / "sh";
  write_sample(root, Split::Test, "t6", "2.png");
  write_sample(root, Split::Test, "t5", "b.png");
  write_sample(root, Split::Test, "t5", "a.png", 6, 8, 14);
  write_sample(root, Split::Training, "t1", "0.png");
  const StreetHazards test(root, Split::Test);
  REQUIRE(test.size() == 3);
  CHECK(test.paths(0).image == root + "/test/images/test/t5/a.png");
  CHECK(test.paths(0).label == root + "/test/annotations/test/t5/a.png");
  CHECK(test.paths(1).image == root + "/test/images/test/t5/b.png");
  CHECK(test.paths(2).image == root + "/test/images/test/t6/2.png");
  const LabeledImage first = test.load(0);
  CHECK(first.image.channels == 3);
  CHECK(first.label.at(2, 3) == sh::kAnomaly);
  CHECK(test.load(1).label.at(0, 0) == sh::kRoad);
  CHECK(StreetHazards(root, Split::Training).size() == 1);
}

TEST_CASE("streethazards: a missing split folder, a missing label and mismatched sizes are errors naming paths") {
  TempDir dir;
  const std::string root = dir / "sh";
  write_sample(root, Split::Training, "t1", "0.png");
  check_error_mentions([&] { StreetHazards(root, Split::Validation); }, {"train/images/validation", "no such folder"});
  check_error_mentions([&] { StreetHazards(dir / "nowhere", Split::Training); }, {"nowhere/train/images/training"});

  fs::remove(root + "/train/annotations/training/t1/0.png");
  check_error_mentions([&] { StreetHazards(root, Split::Training); },
                       {"train/annotations/training/t1/0.png", "missing label"});

  write_png(root + "/train/annotations/training/t1/0.png", Image(5, 8, 1, 3));
  const StreetHazards mismatched(root, Split::Training);
  check_error_mentions([&] { mismatched.load(0); }, {"train/annotations/training/t1/0.png", "5x8", "6x8"});
  check_error_mentions([&] { mismatched.check_files(); }, {"train/annotations/training/t1/0.png", "5x8", "6x8"});
}

TEST_CASE("streethazards: check_files passes a good split and names a truncated image or an RGB label") {
  TempDir dir;
  const std::string root = dir / "sh";
  write_sample(root, Split::Training, "t1", "0.png");
  write_sample(root, Split::Training, "t1", "1.png");
  const StreetHazards split(root, Split::Training);
  split.check_files();
  const std::vector<std::uint8_t> whole = read_bytes(split.paths(1).image);
  write_bytes(split.paths(1).image, {whole.begin(), whole.begin() + std::ptrdiff_t(whole.size() - 5)});
  check_error_mentions([&] { split.check_files(); }, {split.paths(1).image, "truncated"});
  write_bytes(split.paths(1).image, whole);
  write_png(split.paths(0).label, pattern_image(6, 8, 3));
  check_error_mentions([&] { split.check_files(); }, {split.paths(0).label, "single-channel", "3 channels"});
}

TEST_CASE("resize: antialiased bilinear and nearest match Pillow's Image.resize byte for byte") {
  // Fixtures from Pillow 9.4 (Debian 12's python3-pil; Resample.c and Geometry.c are unchanged since
  // pillow 8.0, the version PAnS pins): random.seed(7), a 5x7 RGB image of random.randrange(256)
  // bytes, then a 5x7 label map of random.randrange(14), each resized with Image.resize((w, h), ...);
  // tools/fixtures/pillow_resize.py prints them.
  const Image source =
      image_from(5, 7, 3, {165, 77,  202, 24,  37,  48,  187, 29,  109, 19,  44,  222, 214, 35,  123, 46,  217, 30,
                           63,  114, 31,  203, 25,  113, 23,  68,  148, 214, 73,  60,  157, 92,  52,  96,  190, 49,
                           32,  30,  105, 254, 218, 160, 238, 232, 185, 153, 127, 92,  124, 41,  153, 253, 175, 229,
                           147, 37,  60,  214, 84,  175, 77,  250, 215, 20,  39,  160, 174, 179, 254, 233, 35,  47,
                           138, 242, 33,  31,  158, 228, 145, 197, 177, 11,  236, 181, 86,  59,  252, 30,  111, 147,
                           66,  126, 203, 200, 254, 41,  85,  229, 205, 142, 70,  220, 142, 212, 183});
  CHECK(resize_antialiased_bilinear(source, 3, 4).pixels ==
        std::vector<std::uint8_t>{115, 53,  129, 130, 53,  105, 115, 98,  102, 101, 146, 76,
                                  158, 131, 151, 171, 98,  125, 146, 118, 122, 126, 172, 175,
                                  76,  90,  201, 138, 143, 119, 110, 198, 162, 109, 179, 192});
  CHECK(resize_antialiased_bilinear(source, 2, 7).pixels ==
        std::vector<std::uint8_t>{191, 89,  160, 60,  77,  108, 186, 50,  96,  134, 102, 145, 142, 104,
                                  83,  83,  109, 100, 142, 193, 132, 99,  89,  193, 117, 141, 178, 154,
                                  67,  121, 185, 224, 81,  77,  155, 174, 155, 123, 187, 79,  231, 188});
  CHECK(resize_antialiased_bilinear(source, 6, 9).pixels ==
        std::vector<std::uint8_t>{
            165, 77,  202, 71,  50,  99,  96,  33,  75,  150, 32,  134, 19,  44,  222, 171, 37,  145, 121, 136, 71,
            52,  183, 30,  63,  114, 31,  194, 38,  135, 80,  53,  127, 105, 61,  101, 188, 66,  77,  123, 80,  95,
            125, 135, 74,  75,  110, 78,  93,  116, 100, 206, 192, 128, 223, 146, 155, 140, 117, 128, 127, 81,  115,
            173, 74,  123, 213, 140, 155, 146, 110, 78,  132, 79,  106, 142, 120, 161, 151, 237, 192, 147, 152, 175,
            157, 149, 165, 165, 100, 137, 178, 75,  117, 205, 203, 147, 123, 113, 134, 146, 112, 156, 140, 169, 184,
            49,  244, 201, 37,  44,  183, 105, 123, 213, 162, 116, 165, 183, 99,  75,  154, 245, 35,  69,  192, 181,
            100, 170, 203, 111, 187, 186, 44,  230, 182, 86,  59,  252, 49,  94,  182, 46,  118, 172, 96,  154, 167,
            200, 254, 41,  111, 235, 169, 117, 141, 213, 142, 117, 208, 142, 212, 183});

  const Image labels = image_from(5, 7, 1, {10, 6, 3, 2, 1, 2, 2, 3, 10, 3,  0, 7, 13, 9,  2,  4, 4, 0,
                                            2,  6, 8, 5, 9, 9, 5, 2, 11, 13, 8, 9, 10, 10, 11, 0, 7});
  CHECK(resize_nearest(labels, 3, 4).pixels == std::vector<std::uint8_t>{10, 3, 1, 2, 2, 4, 2, 8, 8, 10, 11, 7});
  CHECK(resize_nearest(labels, 4, 3).pixels == std::vector<std::uint8_t>{6, 2, 2, 10, 0, 13, 9, 5, 11, 9, 10, 0});
  CHECK(resize_nearest(labels, 6, 9).pixels ==
        std::vector<std::uint8_t>{10, 6, 6, 3, 2, 1, 2,  2,  2,  3, 10, 10, 3,  0,  7,  13, 13, 9,
                                  2,  4, 4, 4, 0, 2, 6,  6,  8,  2, 4,  4,  4,  0,  2,  6,  6,  8,
                                  5,  9, 9, 9, 5, 2, 11, 11, 13, 8, 9,  9,  10, 10, 11, 0,  0,  7});
}

TEST_CASE("resize: a constant image stays constant and a 2x downscale of a checkerboard is its mean") {
  for (auto [in_h, in_w, out_h, out_w] :
       {std::array<std::int64_t, 4>{40, 50, 17, 23}, {17, 23, 40, 50}, {30, 30, 30, 11}, {720, 1280, 300, 533}}) {
    CAPTURE(in_h);
    CAPTURE(out_w);
    const Image constant(in_h, in_w, 3, 173);
    const Image resized = resize_antialiased_bilinear(constant, out_h, out_w);
    CHECK(resized.height == out_h);
    CHECK(resized.width == out_w);
    CHECK(std::all_of(resized.pixels.begin(), resized.pixels.end(), [](std::uint8_t v) { return v == 173; }));
  }
  Image checker(64, 64, 1);
  for (std::int64_t y = 0; y < 64; ++y)
    for (std::int64_t x = 0; x < 64; ++x) checker.at(y, x) = (x + y) % 2 ? 255 : 0;
  const Image half = resize_antialiased_bilinear(checker, 32, 32);
  // Each output pixel averages a 4x4 window with weights (1,3,3,1)/8 per axis: exactly 127.5 inside,
  // rounded to 127 or 128; the border rows and columns see a clipped window.
  for (std::int64_t y = 1; y < 31; ++y)
    for (std::int64_t x = 1; x < 31; ++x) CHECK(std::abs(int(half.at(y, x)) - 127.5) <= 0.5);
  double sum = 0;
  for (std::uint8_t v : half.pixels) sum += v;
  CHECK(std::abs(sum / double(half.pixels.size()) - 127.5) < 2.0);
}

namespace {

// Big blocks of class ids with an image whose colour encodes the class: ((id + 1) * 17, 200 - id * 9, id * 13).
struct BlockScene {
  Image image, ids;
};
BlockScene block_scene(std::int64_t height, std::int64_t width) {
  BlockScene scene{Image(height, width, 3), Image(height, width, 1)};
  for (std::int64_t y = 0; y < height; ++y)
    for (std::int64_t x = 0; x < width; ++x) {
      const std::uint8_t id = std::uint8_t((y / 23 * 5 + x / 29) % 13);
      scene.ids.at(y, x) = id;
      scene.image.at(y, x, 0) = std::uint8_t((id + 1) * 17);
      scene.image.at(y, x, 1) = std::uint8_t(200 - id * 9);
      scene.image.at(y, x, 2) = std::uint8_t(id * 13);
    }
  return scene;
}

float normalized(std::uint8_t value, int channel) {
  const float mean[3] = {0.485f, 0.456f, 0.406f}, std_dev[3] = {0.229f, 0.224f, 0.225f};
  return (float(value) / 255.0f - mean[channel]) / std_dev[channel];
}

}  // namespace

TEST_CASE("augment: the plan follows method.md §4 and depends only on (seed, epoch, sample index)") {
  const AugmentConfig config;  // the official recipe: scale [300/720, 1000/1280], crop 450
  std::set<bool> flips;
  for (std::int64_t index = 0; index < 200; ++index) {
    const AugmentPlan plan = plan_augmentation(720, 1280, config, 42, 3, index);
    CHECK(plan.scale >= 300.0 / 720.0);
    CHECK(plan.scale <= 1000.0 / 1280.0);
    CHECK(plan.scaled_height == std::int64_t(720 * plan.scale));
    CHECK(plan.scaled_width == std::int64_t(1280 * plan.scale));
    // The width is never below 533, so only a height under 450 pads: int((1 + 450 - h) / 2) per side.
    CHECK(plan.pad == (plan.scaled_height < 450 ? (451 - plan.scaled_height) / 2 : 0));
    CHECK(plan.crop_top + 450 <= plan.scaled_height + 2 * plan.pad);
    CHECK(plan.crop_left + 450 <= plan.scaled_width + 2 * plan.pad);
    flips.insert(plan.flip);
    const AugmentPlan again = plan_augmentation(720, 1280, config, 42, 3, index);
    CHECK(again.scale == plan.scale);
    CHECK(again.crop_left == plan.crop_left);
  }
  CHECK(flips.size() == 2);
  const AugmentPlan a = plan_augmentation(720, 1280, config, 42, 3, 7);
  CHECK(plan_augmentation(720, 1280, config, 42, 4, 7).scale != a.scale);
  CHECK(plan_augmentation(720, 1280, config, 43, 3, 7).scale != a.scale);
}

TEST_CASE("augment: shapes, padding values, flip symmetry, labels from the input only, image/label alignment") {
  const BlockScene scene = block_scene(150, 230);
  AugmentConfig config;
  config.crop = 96;
  config.min_scale = 0.5;
  config.max_scale = 0.9;
  const std::set<std::uint8_t> input_ids(scene.ids.pixels.begin(), scene.ids.pixels.end());
  for (std::int64_t index = 0; index < 20; ++index) {
    CAPTURE(index);
    const AugmentPlan plan = plan_augmentation(150, 230, config, 5, 0, index);
    const Sample sample = apply_augmentation(scene.image, scene.ids, plan);
    REQUIRE(sample.image.shape() == Shape{96, 96, 3});
    REQUIRE(sample.label.shape() == Shape{96, 96});
    const std::vector<float> image = sample.image.to_vector<float>();
    const std::vector<std::uint8_t> label = sample.label.to_vector<std::uint8_t>();
    CHECK(std::all_of(label.begin(), label.end(),
                      [&](std::uint8_t id) { return id == sh::kIgnore || input_ids.count(id) == 1; }));
    int checked = 0, misaligned = 0;
    for (std::int64_t y = 1; y + 1 < 96; ++y)
      for (std::int64_t x = 1; x + 1 < 96; ++x) {
        const std::uint8_t id = label[std::size_t(y * 96 + x)];
        bool uniform = true;  // away from block edges, where bilinear and nearest legitimately differ
        for (std::int64_t dy = -1; dy <= 1; ++dy)
          for (std::int64_t dx = -1; dx <= 1; ++dx) uniform &= label[std::size_t((y + dy) * 96 + x + dx)] == id;
        if (!uniform) continue;
        const float* pixel = &image[std::size_t((y * 96 + x) * 3)];
        const std::uint8_t red = id == sh::kIgnore ? 0 : std::uint8_t((id + 1) * 17);
        const std::uint8_t blue = id == sh::kIgnore ? 0 : std::uint8_t(id * 13);
        ++checked;
        misaligned += pixel[0] != normalized(red, 0) || pixel[2] != normalized(blue, 2);
      }
    CHECK(checked > 96 * 96 / 2);
    CHECK(misaligned == 0);

    AugmentPlan mirrored = plan;
    mirrored.flip = !plan.flip;
    const Sample flipped = apply_augmentation(scene.image, scene.ids, mirrored);
    const std::vector<float> flipped_image = flipped.image.to_vector<float>();
    const std::vector<std::uint8_t> flipped_label = flipped.label.to_vector<std::uint8_t>();
    bool mirror = true;
    for (std::int64_t y = 0; y < 96; ++y)
      for (std::int64_t x = 0; x < 96; ++x) {
        mirror &= label[std::size_t(y * 96 + x)] == flipped_label[std::size_t(y * 96 + 95 - x)];
        mirror &= image[std::size_t((y * 96 + x) * 3 + 1)] == flipped_image[std::size_t((y * 96 + 95 - x) * 3 + 1)];
      }
    CHECK(mirror);
  }
}

TEST_CASE("augment: a side below the crop pads all four sides with 0 (image) and 255 (label)") {
  const BlockScene scene = block_scene(40, 70);
  AugmentConfig config;
  config.crop = 64;
  config.min_scale = config.max_scale = 1.0;
  config.flip = HorizontalFlip::Never;
  const AugmentPlan plan = plan_augmentation(40, 70, config, 1, 0, 0);
  CHECK(plan.pad == (1 + 64 - 40) / 2);  // the height: 12 on every side, so 64 x 94 after padding
  CHECK(plan.crop_top == 0);             // 40 + 24 - 64: no freedom
  const Sample sample = apply_augmentation(scene.image, scene.ids, plan);
  const std::vector<std::uint8_t> label = sample.label.to_vector<std::uint8_t>();
  const std::vector<float> image = sample.image.to_vector<float>();
  int padded = 0, wrong = 0;
  for (std::int64_t y = 0; y < 64; ++y)
    for (std::int64_t x = 0; x < 64; ++x) {
      const std::int64_t sy = y - 12, sx = plan.crop_left + x - 12;
      const bool inside = sy >= 0 && sy < 40 && sx >= 0 && sx < 70;
      padded += !inside;
      wrong += label[std::size_t(y * 64 + x)] != (inside ? scene.ids.at(sy, sx) : sh::kIgnore);
      wrong += image[std::size_t((y * 64 + x) * 3)] != normalized(inside ? scene.image.at(sy, sx, 0) : 0, 0);
    }
  CHECK(padded >= 24 * 64);  // the 12 rows above and below, at least
  CHECK(wrong == 0);
}

TEST_CASE("augment: evaluation resizes the whole image and normalises it") {
  const BlockScene scene = block_scene(72, 128);
  const Tensor input = eval_image(scene.image, 40, 64);
  CHECK(input.shape() == Shape{40, 64, 3});
  const Tensor same = normalize_imagenet(scene.image);
  CHECK(same.to_vector<float>()[3] == normalized(scene.image.at(0, 1, 0), 0));
}

namespace {

// A sample whose every pixel holds the dataset index (image) and epoch (label), with a little
// pseudo-work so that workers finish out of order.
SampleFn index_samples(std::int64_t size = 4) {
  return [size](std::int64_t index, std::int64_t epoch) {
    Sample sample{Tensor::empty({size, size, 3}), Tensor::empty({size, size}, DType::U8)};
    std::fill_n(sample.image.data<float>(), sample.image.numel(), float(index));
    std::fill_n(sample.label.data<std::uint8_t>(), sample.label.numel(), std::uint8_t(epoch));
    if (index % 3 == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
    return sample;
  };
}

std::vector<std::vector<std::int64_t>> batches_of(BatchLoader& loader) {
  std::vector<std::vector<std::int64_t>> batches;
  while (std::optional<Batch> batch = loader.next()) {
    const std::vector<float> images = batch->images.to_vector<float>();
    const std::int64_t per_sample = images.size() / batch->indices.size();
    for (std::size_t i = 0; i < batch->indices.size(); ++i)
      CHECK(images[i * std::size_t(per_sample)] == float(batch->indices[i]));  // the batch holds its samples
    CHECK(batch->labels.shape() == Shape{std::int64_t(batch->indices.size()), 4, 4});
    CHECK(batch->labels.to_vector<std::uint8_t>()[0] == std::uint8_t(batch->epoch));
    batches.push_back(batch->indices);
  }
  return batches;
}

}  // namespace

TEST_CASE("loader: each epoch reads every sample once, in a new order, whatever the number of workers") {
  constexpr std::int64_t kSamples = 23;
  LoaderConfig config;
  config.batch_size = 4;
  config.last_batch = LastBatch::Keep;
  config.workers = 1;
  BatchLoader one_worker(DistributedSampler(kSamples, SampleOrder::Shuffled, 42), index_samples(), config, 0, 18);
  CHECK(one_worker.batches_per_epoch() == 6);
  const auto reference = batches_of(one_worker);
  REQUIRE(reference.size() == 18);
  std::vector<std::vector<std::int64_t>> epochs(3);
  for (std::size_t b = 0; b < reference.size(); ++b)
    epochs[b / 6].insert(epochs[b / 6].end(), reference[b].begin(), reference[b].end());
  for (const auto& epoch : epochs) {
    CHECK(epoch.size() == kSamples);
    CHECK(std::set<std::int64_t>(epoch.begin(), epoch.end()).size() == kSamples);
  }
  CHECK(epochs[0] != epochs[1]);
  CHECK(epochs[1] != epochs[2]);

  for (int workers : {2, 3}) {
    config.workers = workers;
    config.prefetch_batches = workers;
    BatchLoader parallel(DistributedSampler(kSamples, SampleOrder::Shuffled, 42), index_samples(), config, 0, 18);
    CHECK(batches_of(parallel) == reference);
  }

  // Resuming at global batch 8 (epoch 1, batch 2) sees what an uninterrupted run saw.
  BatchLoader resumed(DistributedSampler(kSamples, SampleOrder::Shuffled, 42), index_samples(), config, 8, 10);
  CHECK(batches_of(resumed) == std::vector<std::vector<std::int64_t>>(reference.begin() + 8, reference.end()));
}

TEST_CASE("loader: the last incomplete batch is dropped by default and epoch boundaries are seamless") {
  LoaderConfig config;
  config.batch_size = 4;
  BatchLoader loader(DistributedSampler(10, SampleOrder::Sequential, 0), index_samples(), config, 0, 4);
  CHECK(loader.batches_per_epoch() == 2);
  const auto batches = batches_of(loader);
  CHECK(batches == std::vector<std::vector<std::int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {0, 1, 2, 3}, {4, 5, 6, 7}});
}

TEST_CASE("sampler: ranks read disjoint shards that cover the epoch, equal shards repeat the head") {
  for (ShardSize shard_size : {ShardSize::Equal, ShardSize::Uneven}) {
    std::vector<std::int64_t> all;
    for (int rank = 0; rank < 3; ++rank) {
      const DistributedSampler sampler(10, SampleOrder::Shuffled, 7, rank, 3, shard_size);
      const std::vector<std::int64_t> shard = sampler.epoch_indices(5);
      CHECK(std::int64_t(shard.size()) == sampler.shard_size());
      all.insert(all.end(), shard.begin(), shard.end());
    }
    CHECK(std::set<std::int64_t>(all.begin(), all.end()).size() == 10);
    CHECK(all.size() == (shard_size == ShardSize::Equal ? 12u : 10u));
  }
  // The permutation is the one of a single rank, dealt round-robin.
  const std::vector<std::int64_t> whole = DistributedSampler(10, SampleOrder::Shuffled, 7).epoch_indices(5);
  const std::vector<std::int64_t> rank1 = DistributedSampler(10, SampleOrder::Shuffled, 7, 1, 3).epoch_indices(5);
  CHECK(rank1 == std::vector<std::int64_t>{whole[1], whole[4], whole[7], whole[0]});
}

TEST_CASE("loader: a worker's exception reaches the consumer with its message and shutdown mid-epoch joins") {
  LoaderConfig config;
  config.batch_size = 2;
  config.workers = 2;
  const SampleFn failing = [](std::int64_t index, std::int64_t epoch) {
    if (index == 5) PANS_FAIL("/data/t1/000005.png: cannot decode image (bad zlib header)");
    return index_samples()(index, epoch);
  };
  BatchLoader loader(DistributedSampler(8, SampleOrder::Sequential, 0), failing, config, 0, 4);
  CHECK(loader.next()->indices == std::vector<std::int64_t>{0, 1});
  CHECK(loader.next()->indices == std::vector<std::int64_t>{2, 3});
  check_error_mentions([&] { loader.next(); }, {"000005.png", "bad zlib header"});
  CHECK(loader.next()->indices == std::vector<std::int64_t>{6, 7});
  CHECK_FALSE(loader.next().has_value());

  // Destroyed while workers still have batches in flight: must return, not hang.
  BatchLoader abandoned(DistributedSampler(1000, SampleOrder::Shuffled, 0), index_samples(64), config);
  CHECK(abandoned.next().has_value());
}

namespace {

scenes::SceneConfig small_scenes() {
  scenes::SceneConfig config;
  config.seed = 11;
  config.width = 160;
  config.height = 90;
  config.training_images = 24;
  config.validation_images = 4;
  config.test_images = 16;
  return config;
}

std::vector<std::int64_t> class_histogram(const Image& label_png) {
  std::vector<std::int64_t> counts(256, 0);
  for (std::uint8_t value : label_png.pixels) ++counts[value];
  return counts;
}

}  // namespace

TEST_CASE("scenes: the same seed renders the same bytes, another seed or index another scene") {
  const scenes::SceneConfig config = small_scenes();
  const scenes::RenderedScene a = scenes::render_scene(config, Split::Test, 3);
  const scenes::RenderedScene b = scenes::render_scene(config, Split::Test, 3);
  CHECK(a.rgb.pixels == b.rgb.pixels);
  CHECK(a.label_png.pixels == b.label_png.pixels);
  CHECK(scenes::render_scene(config, Split::Test, 4).rgb.pixels != a.rgb.pixels);
  scenes::SceneConfig reseeded = config;
  reseeded.seed = 12;
  CHECK(scenes::render_scene(reseeded, Split::Test, 3).rgb.pixels != a.rgb.pixels);
}

TEST_CASE("scenes: every known class appears in training, anomalies only in test at 1-5 % of each image") {
  const scenes::SceneConfig config = small_scenes();
  std::vector<std::int64_t> training(256, 0);
  for (std::int64_t i = 0; i < config.training_images; ++i) {
    const std::vector<std::int64_t> counts =
        class_histogram(scenes::render_scene(config, Split::Training, i).label_png);
    for (int v = 0; v < 256; ++v) training[std::size_t(v)] += counts[std::size_t(v)];
  }
  for (int id = 0; id < sh::kKnownClasses; ++id) {
    CAPTURE(sh::class_name(id));
    CHECK(training[std::size_t(id + 1)] > 0);  // PNG value = id + 1
  }
  CHECK(training[0] == 0);  // every pixel is labelled
  CHECK(training[sh::kAnomaly + 1] == 0);
  for (std::int64_t i = 0; i < config.validation_images; ++i)
    CHECK(class_histogram(scenes::render_scene(config, Split::Validation, i).label_png)[sh::kAnomaly + 1] == 0);
  for (std::int64_t i = 0; i < config.test_images; ++i) {
    CAPTURE(i);
    const Image label = scenes::render_scene(config, Split::Test, i).label_png;
    const double share = double(class_histogram(label)[sh::kAnomaly + 1]) / double(label.pixels.size());
    CHECK(share >= 0.01);
    CHECK(share <= 0.05);
  }
}

TEST_CASE("scenes: the written dataset is the StreetHazards layout, identical for any thread count, cached") {
  TempDir dir;
  scenes::SceneConfig config = small_scenes();
  config.training_images = 6;
  config.validation_images = 2;
  config.test_images = 4;
  const std::string root = dir / "scenes";
  CHECK(scenes::generate_if_missing(root, config, 2));
  CHECK_FALSE(scenes::generate_if_missing(root, config, 2));  // cached: the manifest matches

  const StreetHazards training(root, Split::Training), test(root, Split::Test);
  CHECK(training.size() == 6);
  CHECK(StreetHazards(root, Split::Validation).size() == 2);
  CHECK(test.size() == 4);
  CHECK(training.paths(0).image == root + "/train/images/training/t1/00000.png");
  CHECK(test.paths(0).label == root + "/test/annotations/test/t5/00000.png");
  const LabeledImage sample = test.load(1);
  CHECK(sample.image.height == 90);
  CHECK(sample.image.width == 160);
  const auto anomaly = std::count(sample.label.pixels.begin(), sample.label.pixels.end(), sh::kAnomaly);
  CHECK(anomaly > 0);

  const std::string serial = dir / "serial";
  scenes::write_scenes(serial, config, 1);
  for (const fs::directory_entry& file : fs::recursive_directory_iterator(root)) {
    if (!file.is_regular_file()) continue;
    const std::string relative = fs::relative(file.path(), root).string();
    CAPTURE(relative);
    CHECK(read_bytes(file.path().string()) == read_bytes(serial + "/" + relative));
  }

  config.seed += 1;  // a different config regenerates in place; nothing is left beside the root
  CHECK(scenes::generate_if_missing(root, config, 2));
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 2);
}

TEST_CASE("scenes: a folder that is not a generated dataset is never overwritten") {
  TempDir dir;
  const std::string root = dir / "my_data";
  fs::create_directories(root);
  write_bytes(root + "/notes.txt", {'k', 'e', 'e', 'p'});
  check_error_mentions([&] { scenes::generate_if_missing(root, small_scenes(), 1); }, {"my_data", "refusing"});
  CHECK(read_bytes(root + "/notes.txt").size() == 4);
}

TEST_CASE("pipeline: generated scenes through augmentation and the loader give the same tensors with 1 or 2 workers") {
  TempDir dir;
  scenes::SceneConfig config = small_scenes();
  config.training_images = 9;
  config.validation_images = 3;
  config.test_images = 2;
  const std::string root = dir / "scenes";
  scenes::write_scenes(root, config, 2);
  const auto training = std::make_shared<const StreetHazards>(root, Split::Training);
  AugmentConfig augment;
  augment.crop = 64;
  LoaderConfig loader_config;
  loader_config.batch_size = 4;

  std::vector<Batch> reference;
  for (int workers : {1, 2}) {
    loader_config.workers = workers;
    BatchLoader loader(DistributedSampler(training->size(), SampleOrder::Shuffled, 3),
                       training_samples(training, augment, 3), loader_config, 0, 4);
    for (int b = 0; b < 4; ++b) {
      Batch batch = *loader.next();
      CHECK(batch.images.shape() == Shape{4, 64, 64, 3});
      CHECK(batch.labels.shape() == Shape{4, 64, 64});
      if (workers == 1) {
        reference.push_back(batch);
        continue;
      }
      CHECK(batch.indices == reference[std::size_t(b)].indices);
      CHECK(batch.images.to_vector<float>() == reference[std::size_t(b)].images.to_vector<float>());
      CHECK(batch.labels.to_vector<std::uint8_t>() == reference[std::size_t(b)].labels.to_vector<std::uint8_t>());
    }
  }

  const auto validation = std::make_shared<const StreetHazards>(root, Split::Validation);
  loader_config.last_batch = LastBatch::Keep;
  BatchLoader evaluation(DistributedSampler(3, SampleOrder::Sequential, 0, 0, 1, ShardSize::Uneven),
                         evaluation_samples(validation, 48, 80), loader_config, 0, 1);
  const Batch all = *evaluation.next();
  CHECK(all.images.shape() == Shape{3, 48, 80, 3});
  CHECK(all.labels.shape() == Shape{3, 90, 160});  // labels keep their resolution
  CHECK(all.indices == std::vector<std::int64_t>{0, 1, 2});
  CHECK_FALSE(evaluation.next().has_value());
}

TEST_CASE("pipeline: a corrupt PNG in the dataset stops the loader with an error naming it") {
  TempDir dir;
  scenes::SceneConfig config = small_scenes();
  config.training_images = 4;
  config.validation_images = 1;
  config.test_images = 1;
  const std::string root = dir / "scenes";
  scenes::write_scenes(root, config, 1);
  const std::string victim = root + "/train/images/training/t2/00001.png";
  std::vector<std::uint8_t> bytes = read_bytes(victim);
  std::fill(bytes.begin() + 60, bytes.begin() + 200, 0);  // inside the image data
  write_bytes(victim, bytes);

  const auto training = std::make_shared<const StreetHazards>(root, Split::Training);
  LoaderConfig loader_config;
  loader_config.batch_size = 4;
  AugmentConfig augment;
  augment.crop = 32;
  BatchLoader loader(DistributedSampler(4, SampleOrder::Sequential, 0), training_samples(training, augment, 0),
                     loader_config, 0, 1);
  check_error_mentions([&] { loader.next(); }, {"t2/00001.png"});
}
