// JsonWriter: JSON text appended straight to a string, for the hot paths
// (audit entries, stored token entries, request bodies) where building a Json
// tree only to dump it costs more than the work around it. It is also what
// DumpJson runs on, so both write the same bytes for the same values: no
// whitespace, strings escaped as nlohmann escapes them, invalid UTF-8
// replaced by U+FFFD.
//
// The writer places the commas and colons; the caller keeps the structure
// balanced (a Key before each member, an End for each Begin) and picks the
// key order (sorted, to match DumpJson). A member can be taken back: Rewind
// to a mark taken before its key (Go's omitempty).
// Not thread-safe; cheap to create (a reference and a flag).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_util.h"

namespace sealbox {

class JsonWriter {
 public:
  // Appends to `out`, which must outlive the writer.
  explicit JsonWriter(std::string& out) : out_(out) {}

  // Where the text stood: Rewind takes back everything written since.
  struct Mark {
    size_t size;
    bool comma;
  };
  Mark mark() const { return {out_.size(), comma_}; }
  void Rewind(Mark m) {
    out_.resize(m.size);
    comma_ = m.comma;
  }

  // `"k":`, escaped. Returns the writer, for the member's value.
  JsonWriter& Key(std::string_view k);
  // `"k":` for a key known to need no escaping: the caller's own field
  // names (printable ASCII without '"' or '\').
  JsonWriter& PlainKey(std::string_view k);

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  // Closes the object, or, when it got no member, takes back everything
  // since `before` (taken before its key) and returns false.
  bool EndObjectOrRewind(Mark before);

  void String(std::string_view s);
  void Int(int64_t v);
  void Bool(bool v);
  void StringList(const std::vector<std::string>& v);
  // A whole tree, as DumpJson writes it.
  void Value(const Json& v);
  // A value the caller writes itself, as JSON text, into the returned string
  // (e.g. a hash appended in place between quotes).
  std::string& RawValue() {
    Separate();
    comma_ = true;
    return out_;
  }

 private:
  void Separate() {
    if (comma_) out_ += ',';
  }
  void Open(char c) {
    Separate();
    out_ += c;
    comma_ = false;
  }
  void Close(char c) {
    out_ += c;
    comma_ = true;
  }

  std::string& out_;
  bool comma_ = false;  // a value precedes: the next member or element needs a comma
};

}  // namespace sealbox
