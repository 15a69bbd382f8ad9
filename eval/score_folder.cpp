#include "eval/score_folder.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "data/classes.h"
#include "data/png.h"
#include "eval/npy.h"
#include "tensor/error.h"

namespace pans {
namespace {

namespace fs = std::filesystem;

// The files with this extension under `folder`, at any depth, sorted.
std::vector<fs::path> files_under(const std::string& folder, const std::string& extension, const std::string& flag) {
  PANS_CHECK(fs::is_directory(folder), flag, " ", folder, ": no such folder");
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(folder))
    if (entry.is_regular_file() && entry.path().extension() == extension) files.push_back(entry.path());
  PANS_CHECK(!files.empty(), flag, " ", folder, ": no *", extension, " file in this folder or below");
  std::sort(files.begin(), files.end());
  return files;
}

// "t5/00042" for <folder>/t5/00042.png: what mirrored folders have in common.
fs::path relative_stem(const fs::path& file, const std::string& folder) {
  return file.lexically_relative(folder).replace_extension();
}

// The stem of the label a score map belongs to: its own stem without the suffix.
std::string label_stem_of(const fs::path& score, const std::string& suffix) {
  const std::string stem = score.stem().string();
  if (stem.size() <= suffix.size() || stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) != 0)
    PANS_FAIL(score.string(), ": the name does not end with --suffix ", suffix, ".npy");
  return stem.substr(0, stem.size() - suffix.size());
}

}  // namespace

ScoreFolderPairs pair_score_maps(const ScoreFolderLayout& layout) {
  const std::vector<fs::path> scores = files_under(layout.scores, ".npy", "--scores");
  const std::vector<fs::path> labels = files_under(layout.labels, ".png", "--labels");
  std::multimap<std::string, const fs::path*> labels_by_stem;
  for (const fs::path& label : labels) labels_by_stem.emplace(label.stem().string(), &label);

  std::map<fs::path, fs::path> score_of_label;
  for (const fs::path& score : scores) {
    const std::string stem = label_stem_of(score, layout.suffix);
    const auto [first, last] = labels_by_stem.equal_range(stem);
    const fs::path* label = nullptr;
    if (std::distance(first, last) == 1) {
      label = first->second;
    } else if (first == last) {
      PANS_FAIL(score.string(), ": no label PNG named ", stem, ".png under --labels ", layout.labels);
    } else {
      const fs::path mirrored = relative_stem(score, layout.scores).parent_path() / stem;
      for (auto it = first; it != last; ++it)
        if (relative_stem(*it->second, layout.labels) == mirrored) label = it->second;
      PANS_CHECK(label != nullptr, score.string(), ": ", std::distance(first, last), " label PNGs are named ", stem,
                 ".png under --labels ", layout.labels, " (e.g. ", first->second->string(),
                 "); put the score maps in the same sub-folders as their labels");
    }
    const auto [it, inserted] = score_of_label.emplace(*label, score);
    PANS_CHECK(inserted, score.string(), ": a second score map for ", label->string(), " (the first is ",
               it->second.string(), ")");
  }

  ScoreFolderPairs result;
  for (const fs::path& label : labels) {
    const auto it = score_of_label.find(label);
    if (it != score_of_label.end()) {
      result.pairs.push_back({it->second.string(), label.string()});
    } else if (layout.missing == MissingScores::Skip) {
      result.labels_without_scores.push_back(label.string());
    } else {
      PANS_FAIL(label.string(), ": no score map ", label.stem().string(), layout.suffix, ".npy under --scores ",
                layout.scores, " (", labels.size() - score_of_label.size(),
                " labels have none; --allow-missing evaluates the others)");
    }
  }
  return result;
}

AnomalyResult evaluate_score_maps(const std::vector<ScoreLabelPair>& pairs,
                                  const std::function<void(std::size_t done)>& progress) {
  AnomalyAccumulator accumulator;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const FloatMatrix scores = read_npy_matrix(pairs[i].scores);
    Image label = read_label_png(pairs[i].label);
    if (scores.rows != label.height || scores.cols != label.width)
      PANS_FAIL(pairs[i].scores, ": score map is ", scores.rows, "x", scores.cols, " (height x width) but its label ",
                pairs[i].label, " is ", label.height, "x", label.width);
    streethazards::decode_label_values(label, pairs[i].label);
    accumulator.add_image(scores.values.data(), label.pixels.data(), std::int64_t(scores.values.size()),
                          pairs[i].scores);
    progress(i + 1);
  }
  return accumulator.result();
}

}  // namespace pans
