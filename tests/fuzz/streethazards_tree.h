// The StreetHazards fuzz target's input format, shared with the seed writer: a sequence of records
//   u8 what, u8 name length, name, u16 content length (little-endian), content
// each making one entry of a training split under <root>/train: `what` % 4 picks
//   0: a file images/training/<town>/<name>       1: a file annotations/training/<town>/<name>
//   2: a file images/training/<name> (no town)     3: a folder annotations/training/<town>/<name>
// and (`what` / 4) % 2 the town, "a" or "b". Names keep [a-z0-9.] only (the rest dropped); an empty
// or dot-only name becomes "x.png".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pans::fuzz {

struct TreeEntry {
  std::uint8_t what = 0;
  std::string name;
  std::string content;
};

inline std::string encode_tree(const std::vector<TreeEntry>& entries) {
  std::string bytes;
  for (const TreeEntry& entry : entries) {
    bytes += char(entry.what);
    bytes += char(entry.name.size());
    bytes += entry.name;
    bytes += char(entry.content.size() & 0xff);
    bytes += char(entry.content.size() >> 8);
    bytes += entry.content;
  }
  return bytes;
}

}  // namespace pans::fuzz
