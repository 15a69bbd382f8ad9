// The anomaly metrics of the CAOS protocol (eval/anomaly_metrics.h) against scikit-learn and a port
// of Hendrycks' FPR95 (fixtures from tools/fixtures/anomaly_metrics.py), the edge cases of
// docs/metrics.md#fpr95, the pooled histogram, the .npy reader and writer, and eval_pans --scores
// end to end, bad inputs included.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "data/image.h"
#include "data/png.h"
#include "eval/anomaly_metrics.h"
#include "eval/anomaly_table.h"
#include "eval/curves_svg.h"
#include "eval/npy.h"
#include "eval/score_folder.h"
#include "tensor/error.h"
#include "tests/test_helpers.h"

using namespace pans;
using namespace pans::test;
namespace fs = std::filesystem;

namespace {

// |actual − expected| within 1e-6 of |expected| (exact zero stays exact up to rounding noise).
void check_close(double actual, double expected, const std::string& what) {
  INFO(what, ": actual ", actual, ", expected ", expected);
  CHECK(std::abs(actual - expected) <= 1e-6 * std::abs(expected) + 1e-15);
}

// Binary labels as class ids: anomalies 13, normals spread over the known classes and 255 (PNG 0),
// which all count as negatives.
std::vector<std::uint8_t> class_ids_from(const std::string& labels) {
  std::vector<std::uint8_t> ids(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i)
    ids[i] = labels[i] == '1' ? kAnomalyClassId : i % 5 == 0 ? 255 : std::uint8_t(i % 13);
  return ids;
}

ImageAnomalyMetrics metrics_of(const std::vector<float>& scores, const std::vector<std::uint8_t>& ids) {
  const auto metrics = image_anomaly_metrics(scores.data(), ids.data(), std::int64_t(scores.size()), "test");
  REQUIRE(metrics.has_value());
  return *metrics;
}

// n distinct scores, the highest first: the labels' order is the ranking.
std::vector<float> descending_scores(std::size_t n) {
  std::vector<float> scores(n);
  for (std::size_t i = 0; i < n; ++i) scores[i] = float(n - i);
  return scores;
}

std::string read_text(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

// The message of the pans::Error `call` throws ("" when it does not throw).
template <class Call>
std::string error_of(Call&& call) {
  try {
    call();
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("metrics equal scikit-learn and Hendrycks' FPR95 on the fixtures (ties, small and large)") {
  const nlohmann::json fixtures = nlohmann::json::parse(read_text(std::string(PANS_ANOMALY_FIXTURES) + "/cases.json"));
  REQUIRE(fixtures["cases"].size() > 50);
  for (const nlohmann::json& c : fixtures["cases"]) {
    const std::string name = c["name"], labels = c["labels"];
    std::vector<float> scores;
    if (c.contains("scores")) {
      for (const nlohmann::json& s : c["scores"]) scores.push_back(float(s.get<double>()));
    } else {
      const float scale = float(c["scale"].get<double>()), offset = float(c["offset"].get<double>());
      for (const nlohmann::json& level : c["levels"]) scores.push_back(float(level.get<int>()) * scale + offset);
    }
    REQUIRE(scores.size() == labels.size());
    const ImageAnomalyMetrics metrics = metrics_of(scores, class_ids_from(labels));
    check_close(metrics.auroc, c["auroc"], name + " AUROC");
    check_close(metrics.average_precision, c["ap"], name + " AP");
    check_close(metrics.fpr95, c["fpr95"], name + " FPR95");
  }
}

TEST_CASE("a constant score gives 50 / P/(P+N) / 100: over images, AUPR is the mean anomaly fraction") {
  // docs/metrics.md#sanity-values: an all-zero map gave AUROC 50, AUPR 1.2003 (the mean anomaly
  // fraction of the test images), FPR95 100.
  AnomalyAccumulator accumulator;
  const std::vector<std::uint8_t> first = {13, 0, 255, 13, 7, 13, 3, 12}, second = {1, 13, 2, 2};  // 3/8 and 1/4
  const std::vector<float> zeros(8, 0.0f);
  accumulator.add_image(zeros.data(), first.data(), 8, "first");
  accumulator.add_image(zeros.data(), second.data(), 4, "second");
  const AnomalyResult result = accumulator.result();
  CHECK(result.auroc == 50);
  CHECK(result.aupr == doctest::Approx(100 * (3.0 / 8 + 1.0 / 4) / 2).epsilon(1e-12));
  CHECK(result.fpr95 == 100);
  CHECK(result.images == 2);
  CHECK(result.skipped_images == 0);
}

TEST_CASE("FPR95 is at the recall closest to 0.95, ties to the lower threshold (docs/metrics.md#fpr95 toy case)") {
  // 19 positives, 3 negatives, the 20th positive, then the other 77 of N = 80 negatives: recall 0.95
  // is reached with 0, 1, 2 and 3 false positives, and Hendrycks takes the last of them, 3/80, where
  // "the smallest FPR with recall >= 0.95" would give 0.
  std::string labels = std::string(19, '1') + "000" + "1" + std::string(77, '0');
  const ImageAnomalyMetrics metrics = metrics_of(descending_scores(labels.size()), class_ids_from(labels));
  CHECK(metrics.fpr95 == 3.0 / 80);
}

TEST_CASE("FPR95: recall 0.9 beats recall 1.0 because |0.9 - 0.95| rounds below |1.0 - 0.95|") {
  REQUIRE(std::abs(0.9 - 0.95) < std::abs(1.0 - 0.95));
  // 9 of 10 positives (recall 0.9), 5 negatives, then one score shared by the 10th positive and 3
  // negatives (recall 1.0 with 8 false positives), 2 more negatives. Both recalls are 0.05 from 0.95
  // on paper; in double 0.9 is closer, so FPR95 = 5/10 (a tie would go to 1.0 and give 8/10).
  const std::string labels = std::string(9, '1') + "00000" + "1000" + "00";
  std::vector<float> scores = descending_scores(labels.size());
  for (std::size_t i = 15; i < 18; ++i) scores[i] = scores[14];
  const ImageAnomalyMetrics metrics = metrics_of(scores, class_ids_from(labels));
  CHECK(metrics.fpr95 == 0.5);
}

TEST_CASE("AUROC equals the Mann-Whitney count over extreme, signed and tied float scores") {
  std::mt19937 rng(3);
  const std::vector<float> specials = {-std::numeric_limits<float>::max(),
                                       -1e30f,
                                       -1.5f,
                                       -0.0f,
                                       0.0f,
                                       std::numeric_limits<float>::denorm_min(),
                                       1e-30f,
                                       2.0f,
                                       std::numeric_limits<float>::max()};
  std::vector<float> scores;
  std::vector<std::uint8_t> ids;
  for (int i = 0; i < 700; ++i) {
    const bool anomaly = rng() % 4 == 0;
    float score = specials[rng() % specials.size()];
    if (rng() % 2 == 0) score = std::ldexp(float(int(rng() % 2001) - 1000), int(rng() % 80) - 40);
    scores.push_back(score);
    ids.push_back(anomaly ? kAnomalyClassId : 1);
  }
  double wins = 0, pairs = 0;
  for (std::size_t p = 0; p < scores.size(); ++p)
    for (std::size_t n = 0; n < scores.size(); ++n)
      if (ids[p] == kAnomalyClassId && ids[n] != kAnomalyClassId) {
        wins += scores[p] > scores[n] ? 1 : scores[p] == scores[n] ? 0.5 : 0;
        ++pairs;
      }
  check_close(metrics_of(scores, ids).auroc, wins / pairs, "AUROC");
}

TEST_CASE("images with one class only are skipped, counted and named") {
  AnomalyAccumulator accumulator;
  const std::vector<float> scores = {0.1f, 0.9f, 0.4f, 0.3f};
  const std::vector<std::uint8_t> only_anomaly(4, kAnomalyClassId), no_anomaly = {0, 255, 5, 12},
                                                                    both = {0, 13, 255, 13};
  accumulator.add_image(scores.data(), only_anomaly.data(), 4, "only_anomaly.npy");
  CHECK_THROWS_WITH_AS(accumulator.result(), doctest::Contains("no image has both"), Error);
  accumulator.add_image(scores.data(), both.data(), 4, "both.npy");
  accumulator.add_image(scores.data(), no_anomaly.data(), 4, "no_anomaly.npy");
  const AnomalyResult result = accumulator.result();
  CHECK(result.images == 1);
  CHECK(result.skipped_images == 2);
  CHECK(result.skipped == std::vector<std::string>{"only_anomaly.npy", "no_anomaly.npy"});
  // Scores 0.9 and 0.3 of the anomalies against 0.1 and 0.4: 3 of 4 pairs ordered.
  CHECK(result.auroc == doctest::Approx(75).epsilon(1e-12));
  CHECK(result.pooled.anomalies() == 2);
  CHECK(result.pooled.normals() == 2);
}

TEST_CASE("a NaN or infinite score is an error naming the file") {
  const std::vector<std::uint8_t> ids = {13, 0, 0};
  for (const float bad : {std::nanf(""), INFINITY, -INFINITY}) {
    const std::vector<float> scores = {0.5f, bad, 0.1f};
    AnomalyAccumulator accumulator;
    CHECK_THROWS_WITH_AS(accumulator.add_image(scores.data(), ids.data(), 3, "maps/t5/00042.npy"),
                         doctest::Contains("maps/t5/00042.npy: score"), Error);
  }
}

TEST_CASE("the pooled histogram keeps every pixel while its range widens both ways") {
  AnomalyAccumulator accumulator;
  std::vector<float> middle(400), low(400), high(400);
  std::vector<std::uint8_t> ids(400);
  for (int i = 0; i < 400; ++i) {
    ids[i] = i % 4 == 0 ? kAnomalyClassId : 2;
    // Anomalies score above every normal pixel, in each image and pooled.
    middle[i] = ids[i] == kAnomalyClassId ? 1.0f + float(i) / 400 : float(i) / 400;
    low[i] = middle[i] - 1e3f;
    high[i] = middle[i] * 1e3f + 5e3f;
  }
  accumulator.add_image(middle.data(), ids.data(), 400, "middle");
  accumulator.add_image(low.data(), ids.data(), 400, "low");
  accumulator.add_image(high.data(), ids.data(), 400, "high");
  const AnomalyResult result = accumulator.result();
  CHECK(result.auroc == 100);
  CHECK(result.pooled.anomalies() == 300);
  CHECK(result.pooled.normals() == 900);
  const PooledCurves curves = result.pooled.curves();
  CHECK(curves.roc.front().x == 0);
  CHECK(curves.roc.back().x == 1);
  CHECK(curves.roc.back().y == 1);
  for (std::size_t i = 1; i < curves.roc.size(); ++i) {
    CHECK(curves.roc[i].x >= curves.roc[i - 1].x);
    CHECK(curves.roc[i].y >= curves.roc[i - 1].y);
  }
  // Pooled, the low image's anomalies rank below the middle image's normals: not separable.
  CHECK(curves.auroc < 1);
  CHECK(curves.auroc > 0.5);
}

TEST_CASE("the pooled curves of a constant score are the chance line") {
  AnomalyAccumulator accumulator;
  const std::vector<float> scores(10, -3.0f);
  const std::vector<std::uint8_t> ids = {13, 13, 0, 0, 0, 0, 0, 0, 0, 0};
  accumulator.add_image(scores.data(), ids.data(), 10, "constant");
  const PooledCurves curves = accumulator.result().pooled.curves();
  CHECK(curves.auroc == doctest::Approx(0.5));
  CHECK(curves.average_precision == doctest::Approx(0.2));
}

TEST_CASE("npy: a round trip keeps every bit, the header is numpy's and 64-byte aligned") {
  TempDir dir;
  FloatMatrix matrix;
  matrix.rows = 3;
  matrix.cols = 5;
  for (int i = 0; i < 15; ++i) matrix.values.push_back(std::ldexp(float(i * 37 % 11) - 5.5f, i - 7));
  matrix.values[4] = -0.0f;
  write_npy_matrix(dir / "m.npy", matrix);
  const std::string bytes = read_text(dir / "m.npy");
  CHECK(bytes.size() == 128 + 15 * 4);
  CHECK(bytes.find("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5), }") != std::string::npos);
  CHECK(bytes[127] == '\n');
  const FloatMatrix back = read_npy_matrix(dir / "m.npy");
  CHECK(back.rows == 3);
  CHECK(back.cols == 5);
  CHECK(std::memcmp(back.values.data(), matrix.values.data(), 15 * sizeof(float)) == 0);
  const fs::path folder = fs::path(dir / "m.npy").parent_path();
  CHECK(std::distance(fs::directory_iterator(folder), fs::directory_iterator()) == 1);  // no temporary left
}

TEST_CASE("npy: reads the files numpy saves, format 1.0 and 2.0") {
  for (const char* name : {"numpy_2x3_v1.npy", "numpy_2x3_v2.npy"}) {
    INFO(name);
    const FloatMatrix matrix = read_npy_matrix(std::string(PANS_ANOMALY_FIXTURES) + "/" + name);
    REQUIRE(matrix.rows == 2);
    REQUIRE(matrix.cols == 3);
    for (int r = 0; r < 2; ++r)
      for (int c = 0; c < 3; ++c) CHECK(matrix.values[std::size_t(r * 3 + c)] == float(r) - float(c) / 4);
  }
}

TEST_CASE("npy: format 3.0 and a header written differently are read") {
  TempDir dir;
  const std::string dict = "{\"shape\": (1,2),\"fortran_order\":False, \"descr\":\"<f4\"}";
  std::string bytes = std::string("\x93NUMPY", 6) + char(3) + char(0);
  const std::string header = dict + std::string(64 - (12 + dict.size() + 1) % 64, ' ') + "\n";
  for (int i = 0; i < 4; ++i) bytes += char((header.size() >> (8 * i)) & 0xff);
  const float values[2] = {1.5f, -2.0f};
  bytes += header + std::string(reinterpret_cast<const char*>(values), sizeof values);
  write_bytes(dir / "v3.npy", bytes);
  const FloatMatrix matrix = read_npy_matrix(dir / "v3.npy");
  CHECK(matrix.rows == 1);
  CHECK(matrix.cols == 2);
  CHECK(matrix.values == std::vector<float>{1.5f, -2.0f});
}

TEST_CASE("npy: each malformed file is refused with a message naming it") {
  TempDir dir;
  const auto npy = [](const std::string& dict, std::size_t data_bytes, char major = 1) {
    std::string header = dict;
    header += std::string(64 - (10 + header.size() + 1) % 64, ' ') + "\n";
    return std::string("\x93NUMPY", 6) + major + char(0) + char(header.size() & 0xff) + char(header.size() >> 8) +
           header + std::string(data_bytes, '\0');
  };
  const std::string f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  const struct {
    const char* file;
    std::string bytes;
    const char* message;
  } cases[] = {
      {"text.npy", "not a numpy file at all", "not a .npy file"},
      {"version.npy", npy(f4, 24, 4), "format version 4.0"},
      {"f8.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 48), "dtype '<f8'"},
      {"big_endian.npy", npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 24), "dtype '>f4'"},
      {"fortran.npy", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24), "Fortran-order"},
      {"rank3.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 1), }", 24), "shape (2, 3, 1)"},
      {"rank1.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", 24), "shape (6,)"},
      {"short.npy", npy(f4, 20), "holds 20 bytes of data"},
      {"long.npy", npy(f4, 28), "holds 28 bytes of data"},
      {"header.npy", npy("{'descr': '<f4', 'fortran_order': False}", 24), "needs descr, fortran_order and shape"},
      {"garbled.npy", npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 3), }", 24), "bad .npy header"},
      {"cut.npy", std::string("\x93NUMPY\x01\x00\x76\x00{'descr'", 18), "truncated .npy header"},
  };
  for (const auto& c : cases) {
    INFO(c.file);
    write_bytes(dir / c.file, c.bytes);
    const std::string message = error_of([&] { read_npy_matrix(dir / c.file); });
    CHECK(message.find(dir / c.file) == 0);
    CHECK(message.find(c.message) != std::string::npos);
  }
  CHECK(error_of([&] { read_npy_matrix(dir / "absent.npy"); }).find(dir / "absent.npy: cannot open") == 0);
}

TEST_CASE("the table is laid out like Table 1, with the paper's rows below a rule") {
  AnomalyTableRow row;
  row.name = "PAnS (ours)";
  row.result.aupr = 8.123;
  row.result.auroc = 90.5;
  row.result.fpr95 = 25.25;
  row.result.images = 1500;
  row.miou13 = 50.0;
  std::vector<AnomalyTableRow> rows = {row};
  for (const AnomalyTableRow& paper : paper_table1_rows()) rows.push_back(paper);
  const std::string table = format_anomaly_table(rows);
  CHECK(table.find("AUPR ↑  AUROC ↑  FPR95 ↓   mIoU13   mIoU11") != std::string::npos);
  CHECK(table.find("PAnS (ours)      8.12    90.50    25.25    50.00        -  1500") != std::string::npos);
  CHECK(table.find("PAnS (paper)     8.80    91.10    23.20        -    54.20") != std::string::npos);
  CHECK(table.find("MSP (paper)      6.60    87.70    33.70        -    53.20") != std::string::npos);
  CHECK(table.find("---") < table.find("MSP (paper)"));
}

TEST_CASE("curves and JSON: one entry per measured row, the paper's rows left out, legends escaped") {
  AnomalyAccumulator accumulator;
  const std::vector<float> scores = {0.9f, 0.1f, 0.8f, 0.3f};
  const std::vector<std::uint8_t> ids = {13, 0, 0, 13};
  accumulator.add_image(scores.data(), ids.data(), 4, "image");
  std::vector<AnomalyTableRow> rows = paper_table1_rows();
  for (const char* name : {"MSP", "cosine & <softmax>"}) {
    AnomalyTableRow row;
    row.name = name;
    row.result = accumulator.result();
    rows.push_back(row);
  }
  TempDir dir;
  write_curves_svg(dir / "curves", rows);
  const std::string roc = read_text(dir / "curves/roc.svg"), pr = read_text(dir / "curves/precision_recall.svg");
  for (const std::string& svg : {roc, pr}) {
    std::size_t lines = 0;
    for (std::size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) ++lines;
    CHECK(lines == 2);
    CHECK(svg.find("(paper)") == std::string::npos);
    CHECK(svg.find("cosine &amp; &lt;softmax&gt;") != std::string::npos);
  }
  CHECK(roc.find("MSP: AUROC 75.00 (per-image mean), pooled 75.00") != std::string::npos);
  CHECK(pr.find("MSP: AUPR ") != std::string::npos);
  CHECK(anomaly_json(rows)["scores"].size() == 2);  // the measured rows only
  rows.back().name = "MSP";
  CHECK_THROWS_WITH_AS(anomaly_json(rows), doctest::Contains("two rows are named 'MSP'"), Error);
}

namespace {

// A StreetHazards-like folder: labels/<town>/<stem>.png with PNG values (class id + 1, 14 = anomaly)
// and scores/<stem>.npy; every image has anomaly pixels where its score is high, plus noise.
struct ScoreFolder {
  std::string scores, labels;
  AnomalyResult expected;
};

ScoreFolder make_score_folder(const TempDir& dir) {
  ScoreFolder folder{dir / "scores", dir / "labels", {}};
  fs::create_directories(folder.labels + "/t5");
  fs::create_directories(folder.labels + "/t6");
  fs::create_directories(folder.scores);
  AnomalyAccumulator accumulator;
  std::mt19937 rng(11);
  const char* const stems[] = {"t5/00001", "t5/00002", "t6/00003"};
  for (const char* stem : stems) {
    Image label(6, 7, 1);
    FloatMatrix scores;
    scores.rows = 6;
    scores.cols = 7;
    for (std::size_t i = 0; i < label.pixels.size(); ++i) {
      const bool anomaly = rng() % 5 == 0;
      label.pixels[i] = anomaly ? 14 : std::uint8_t(rng() % 14);  // PNG 0 decodes to 255, a negative
      scores.values.push_back(float(rng() % 8) / 8 + (anomaly ? 0.5f : 0.0f));
    }
    write_png(folder.labels + "/" + stem + ".png", label);
    const std::string npy = folder.scores + "/" + fs::path(stem).filename().string() + ".npy";
    write_npy_matrix(npy, scores);
    std::vector<std::uint8_t> ids(label.pixels.size());
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = std::uint8_t(label.pixels[i] - 1);
    accumulator.add_image(scores.values.data(), ids.data(), std::int64_t(ids.size()), npy);
  }
  folder.expected = accumulator.result();
  return folder;
}

struct Run {
  int status;
  std::string out, err;
};

Run run_eval_pans(const TempDir& dir, const std::string& arguments) {
  const std::string command =
      std::string(PANS_EVAL_PANS) + " " + arguments + " > " + (dir / "stdout") + " 2> " + (dir / "stderr");
  const int raw = std::system(command.c_str());
  REQUIRE(WIFEXITED(raw));
  return {WEXITSTATUS(raw), read_text(dir / "stdout"), read_text(dir / "stderr")};
}

}  // namespace

TEST_CASE("eval_pans --scores: the JSON, the table and the curves of a folder") {
  TempDir dir;
  const ScoreFolder folder = make_score_folder(dir);
  const Run run =
      run_eval_pans(dir, "--scores " + folder.scores + " --labels " + folder.labels + " --name mine --json " +
                             (dir / "results.json") + " --curves " + (dir / "curves"));
  INFO(run.out, run.err);
  REQUIRE(run.status == 0);
  const nlohmann::json json = nlohmann::json::parse(read_text(dir / "results.json"));
  const nlohmann::json& mine = json["scores"]["mine"];
  CHECK(mine["auroc"].get<double>() == doctest::Approx(folder.expected.auroc).epsilon(1e-12));
  CHECK(mine["aupr"].get<double>() == doctest::Approx(folder.expected.aupr).epsilon(1e-12));
  CHECK(mine["fpr95"].get<double>() == doctest::Approx(folder.expected.fpr95).epsilon(1e-12));
  CHECK(mine["images"] == 3);
  CHECK(mine["skipped_images"] == 0);
  CHECK(json["inputs"]["labels"] == folder.labels);
  CHECK(run.out.find("mine ") != std::string::npos);
  CHECK(run.out.find("PAnS (paper)") != std::string::npos);
  for (const char* svg : {"roc.svg", "precision_recall.svg"}) {
    const std::string text = read_text(dir / "curves/" + std::string(svg));
    CHECK(text.find("<svg") == 0);
    CHECK(text.find("<polyline") != std::string::npos);
    CHECK(text.find("mine: AU") != std::string::npos);
  }
}

TEST_CASE("eval_pans --scores: each bad input stops with status 1 and a message naming the file") {
  TempDir dir;
  const ScoreFolder folder = make_score_folder(dir);
  const std::string flags = "--scores " + folder.scores + " --labels " + folder.labels;
  const auto check_error = [&](const std::string& file, const std::string& message) {
    const Run run = run_eval_pans(dir, flags);
    INFO(run.out, run.err);
    CHECK(run.status == 1);
    CHECK(run.err.find("eval_pans: " + file) != std::string::npos);
    CHECK(run.err.find(message) != std::string::npos);
  };
  const std::string first = folder.scores + "/00001.npy";

  SUBCASE("a score map of another size than its label") {
    write_npy_matrix(first, FloatMatrix{6, 6, std::vector<float>(36, 0.5f)});
    check_error(first, "score map is 6x6 (height x width) but its label");
  }
  SUBCASE("a score map with no label") {
    write_npy_matrix(folder.scores + "/00009.npy", FloatMatrix{6, 7, std::vector<float>(42, 0.5f)});
    check_error(folder.scores + "/00009.npy", "no label PNG named 00009.png");
  }
  SUBCASE("a label with no score map, and --allow-missing") {
    fs::remove(first);
    check_error(folder.labels + "/t5/00001.png", "no score map 00001.npy");
    const Run run = run_eval_pans(dir, flags + " --allow-missing --json " + (dir / "r.json"));
    INFO(run.err);
    CHECK(run.status == 0);
    const nlohmann::json json = nlohmann::json::parse(read_text(dir / "r.json"));
    CHECK(json["scores"]["scores"]["images"] == 2);
    CHECK(json["inputs"]["labels_without_scores"][0] == folder.labels + "/t5/00001.png");
  }
  SUBCASE("NaN and infinity") {
    for (const float bad : {std::nanf(""), -INFINITY}) {
      FloatMatrix scores = read_npy_matrix(first);
      scores.values[9] = bad;
      write_npy_matrix(first, scores);
      check_error(first, "at pixel 9");
    }
  }
  SUBCASE("a label PNG that is not single-channel") {
    write_png(folder.labels + "/t6/00003.png", Image(6, 7, 3, 1));
    check_error(folder.labels + "/t6/00003.png", "single-channel");
  }
  SUBCASE("an unreadable .npy") {
    write_bytes(first, "garbage");
    check_error(first, "not a .npy file");
  }
  SUBCASE("--suffix: infer_pans' <stem>_anomaly.npy names, and a name without the suffix") {
    for (const char* stem : {"00001", "00002", "00003"})
      fs::rename(folder.scores + "/" + stem + ".npy", folder.scores + "/" + stem + "_anomaly.npy");
    const Run run = run_eval_pans(dir, flags + " --suffix _anomaly --json " + (dir / "r.json"));
    INFO(run.err);
    CHECK(run.status == 0);
    const nlohmann::json json = nlohmann::json::parse(read_text(dir / "r.json"));
    CHECK(json["scores"]["scores"]["auroc"].get<double>() == doctest::Approx(folder.expected.auroc).epsilon(1e-12));
    fs::rename(folder.scores + "/00001_anomaly.npy", first);
    const Run bad = run_eval_pans(dir, flags + " --suffix _anomaly");
    CHECK(bad.status == 1);
    CHECK(bad.err.find("eval_pans: " + first + ": the name does not end with --suffix _anomaly") == 0);
  }
  SUBCASE("two labels share a stem and the score maps do not mirror their folders") {
    write_png(folder.labels + "/t6/00001.png", Image(6, 7, 1, 1));
    check_error(first, "2 label PNGs are named 00001.png");
  }
}

TEST_CASE("score maps in mirrored sub-folders pair with labels that share a stem") {
  TempDir dir;
  fs::create_directories(dir / "labels/t5");
  fs::create_directories(dir / "labels/t6");
  fs::create_directories(dir / "scores/t5");
  fs::create_directories(dir / "scores/t6");
  for (const char* town : {"t5", "t6"}) {
    write_png(dir / ("labels/" + std::string(town) + "/00001.png"), Image(2, 2, 1, 14));
    write_npy_matrix(dir / ("scores/" + std::string(town) + "/00001.npy"), FloatMatrix{2, 2, {1, 2, 3, 4}});
  }
  const ScoreFolderPairs found = pair_score_maps({dir / "scores", dir / "labels", "", MissingScores::Error});
  REQUIRE(found.pairs.size() == 2);
  CHECK(found.pairs[0].scores == dir / "scores/t5/00001.npy");
  CHECK(found.pairs[0].label == dir / "labels/t5/00001.png");
  CHECK(found.pairs[1].scores == dir / "scores/t6/00001.npy");
  // Both images are anomaly only: skipped, so there is nothing to report.
  CHECK_THROWS_WITH_AS(evaluate_score_maps(found.pairs, [](std::size_t) {}), doctest::Contains("all skipped"), Error);
}
