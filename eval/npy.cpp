#include "eval/npy.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "data/atomic_file.h"
#include "tensor/error.h"

namespace pans {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the .npy data is copied as is: '<f4' needs a little-endian host");

const char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
constexpr std::int64_t kMaxSide = std::int64_t(1) << 28;  // keeps rows·cols·4 far from overflow

// The header is a Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (720, 1280), }.
// This reads exactly what numpy writes there: quoted strings, True/False, and tuples of integers.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& path) : text_(text), path_(path) {}

  void expect(char c) {
    skip_spaces();
    if (at_ >= text_.size() || text_[at_] != c) fail(std::string("expected '") + c + "'");
    ++at_;
  }
  bool next_is(char c) {
    skip_spaces();
    return at_ < text_.size() && text_[at_] == c;
  }
  std::string quoted() {
    skip_spaces();
    if (at_ >= text_.size() || (text_[at_] != '\'' && text_[at_] != '"')) fail("expected a quoted string");
    const char quote = text_[at_++];
    const std::size_t end = text_.find(quote, at_);
    if (end == std::string::npos) fail("unterminated string");
    std::string value = text_.substr(at_, end - at_);
    at_ = end + 1;
    return value;
  }
  bool boolean() {
    skip_spaces();
    for (const bool value : {true, false}) {
      const std::string word = value ? "True" : "False";
      if (text_.compare(at_, word.size(), word) == 0) {
        at_ += word.size();
        return value;
      }
    }
    fail("expected True or False");
  }
  std::vector<std::int64_t> integer_tuple() {
    expect('(');
    std::vector<std::int64_t> values;
    while (!next_is(')')) {
      std::int64_t value = 0;
      const std::size_t start = at_;
      for (; at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_])); ++at_)
        value = std::min(kMaxSide, value * 10 + (text_[at_] - '0'));
      if (at_ == start) fail("expected a dimension");
      values.push_back(value);
      if (!next_is(')')) expect(',');
    }
    expect(')');
    return values;
  }
  void expect_end() {
    skip_spaces();
    if (at_ != text_.size()) fail("unexpected text after the dictionary");
  }

 private:
  void skip_spaces() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
  }
  [[noreturn]] void fail(const std::string& what) const {
    PANS_FAIL(path_, ": bad .npy header (", what, " at character ", at_, " of \"", text_, "\")");
  }

  const std::string& text_;
  const std::string& path_;
  std::size_t at_ = 0;
};

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
};

Header parse_header(const std::string& text, const std::string& path) {
  HeaderParser parser(text, path);
  Header header;
  bool has_descr = false, has_order = false, has_shape = false;
  parser.expect('{');
  while (!parser.next_is('}')) {
    const std::string key = parser.quoted();
    parser.expect(':');
    if (key == "descr" && !has_descr) {
      header.descr = parser.quoted();
      has_descr = true;
    } else if (key == "fortran_order" && !has_order) {
      header.fortran_order = parser.boolean();
      has_order = true;
    } else if (key == "shape" && !has_shape) {
      header.shape = parser.integer_tuple();
      has_shape = true;
    } else {
      PANS_FAIL(path, ": bad .npy header (unexpected or repeated key '", key, "' in \"", text, "\")");
    }
    if (!parser.next_is('}')) parser.expect(',');
  }
  parser.expect('}');
  parser.expect_end();
  PANS_CHECK(has_descr && has_order && has_shape, path, ": bad .npy header (needs descr, fortran_order and shape: \"",
             text, "\")");
  return header;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::ostringstream text;
  text << "(";
  for (std::size_t i = 0; i < shape.size(); ++i) text << (i > 0 ? ", " : "") << shape[i];
  text << (shape.size() == 1 ? ",)" : ")");
  return text.str();
}

std::uint32_t little_endian(const std::string& bytes, std::size_t at, std::size_t size) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < size; ++i) value |= std::uint32_t(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return value;
}

}  // namespace

FloatMatrix read_npy_matrix(const std::string& path) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) PANS_FAIL(path, ": cannot open (", std::strerror(errno), ")");
  const std::streamoff size = file.tellg();
  if (size < 0) PANS_FAIL(path, ": cannot read (", std::strerror(errno), ")");
  std::string bytes(std::size_t(size), '\0');
  file.seekg(0);
  if (!file.read(bytes.data(), std::streamsize(bytes.size())))
    PANS_FAIL(path, ": read error (", std::strerror(errno), ")");
  if (bytes.size() < kMagicSize + 2 || bytes.compare(0, kMagicSize, kMagic) != 0)
    PANS_FAIL(path, ": not a .npy file (it does not start with \\x93NUMPY)");

  const int major = static_cast<unsigned char>(bytes[6]), minor = static_cast<unsigned char>(bytes[7]);
  if (!(minor == 0 && (major == 1 || major == 2 || major == 3)))
    PANS_FAIL(path, ": .npy format version ", major, ".", minor, ", this reader knows 1.0, 2.0 and 3.0");
  // Version 1.0 stores the header length in 2 bytes, 2.0 and 3.0 (UTF-8 header) in 4.
  const std::size_t length_size = major == 1 ? 2 : 4, header_start = kMagicSize + 2 + length_size;
  if (bytes.size() < header_start) PANS_FAIL(path, ": truncated .npy header");
  const std::size_t header_size = little_endian(bytes, kMagicSize + 2, length_size);
  if (bytes.size() - header_start < header_size) PANS_FAIL(path, ": truncated .npy header");
  const Header header = parse_header(bytes.substr(header_start, header_size), path);

  if (header.descr != "<f4")
    PANS_FAIL(path, ": dtype '", header.descr,
              "', expected '<f4' (float32, little-endian): save the map with scores.astype(np.float32)");
  if (header.fortran_order)
    PANS_FAIL(path, ": Fortran-order data, expected C order: save the map with np.ascontiguousarray(scores)");
  if (header.shape.size() != 2)
    PANS_FAIL(path, ": shape ", shape_text(header.shape), ", expected a 2-D map (height, width)");

  FloatMatrix matrix;
  matrix.rows = header.shape[0];
  matrix.cols = header.shape[1];
  PANS_CHECK(matrix.rows < kMaxSide && matrix.cols < kMaxSide, path, ": shape ", shape_text(header.shape),
             " is too large");
  const std::size_t data_size = std::size_t(matrix.rows * matrix.cols) * sizeof(float);
  const std::size_t stored = bytes.size() - header_start - header_size;
  if (stored != data_size)
    PANS_FAIL(path, ": holds ", stored, " bytes of data, its shape ", shape_text(header.shape), " needs ", data_size,
              stored < data_size ? " (truncated file)" : "");
  matrix.values.resize(std::size_t(matrix.rows * matrix.cols));
  std::memcpy(matrix.values.data(), bytes.data() + header_start + header_size, data_size);
  return matrix;
}

void write_npy_matrix(const std::string& path, const FloatMatrix& matrix) {
  PANS_CHECK(matrix.rows >= 0 && matrix.cols >= 0 && matrix.values.size() == std::size_t(matrix.rows * matrix.cols),
             path, ": write_npy_matrix of a ", matrix.rows, "x", matrix.cols, " matrix with ", matrix.values.size(),
             " values");
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(matrix.rows) + ", " +
                       std::to_string(matrix.cols) + "), }";
  // numpy pads the header with spaces and a newline so that the data starts 64-byte aligned.
  const std::size_t preamble = kMagicSize + 2 + 2;
  header.append((64 - (preamble + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string bytes(kMagic, kMagicSize);
  bytes += char(1);
  bytes += char(0);
  bytes += char(header.size() & 0xff);
  bytes += char(header.size() >> 8);
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(matrix.values.data()), matrix.values.size() * sizeof(float));
  write_file_atomically(path, bytes);
}

}  // namespace pans
