#include "base/json_writer.h"

#include <array>
#include <charconv>

#include "base/json_ascii_scan.h"

namespace sealbox {
namespace {

std::string NlohmannDump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// 0: copied as is; 1: escaped; 2: not ASCII (the whole string goes to nlohmann).
constexpr std::array<uint8_t, 256> kCharClass = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 1;
  t['"'] = t['\\'] = 1;
  for (int c = 0x80; c < 0x100; ++c) t[c] = 2;
  return t;
}();

// nlohmann's serializer runs every byte of every string through a UTF-8
// decoder; response bodies are mostly ASCII strings (a 1 KiB secret was 5% of
// a KV read's CPU). ASCII strings take a run-copying path with nlohmann's
// exact escapes; any byte >= 0x80 hands the string to nlohmann, so UTF-8
// validation and replacement stay its own. Byte-identical output is checked
// by unit tests and the JSON fuzz target.
void DumpString(std::string_view s, std::string& out) {
  const size_t start = out.size();
  out += '"';
  const size_t n = s.size();
  size_t run = 0;
  for (size_t i = 0;; ++i) {
    // The common case, a run of plain ASCII, in a loop of its own: eight
    // bytes at a time, then byte by byte from the first word that has one.
    i = PlainJsonAsciiEnd(s, i);
    while (i < n && kCharClass[static_cast<unsigned char>(s[i])] == 0) ++i;
    if (i == n) break;
    auto c = static_cast<unsigned char>(s[i]);
    if (kCharClass[c] == 2) {
      out.resize(start);
      out += NlohmannDump(Json(std::string(s)));
      return;
    }
    out.append(s, run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.append(esc, sizeof esc);
      }
    }
  }
  out.append(s, run, std::string::npos);
  out += '"';
}

template <typename Int>
void AppendInteger(std::string& out, Int v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void DumpTo(const Json& j, std::string& out) {
  switch (j.type()) {
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, v] : j.get_ref<const Json::object_t&>()) {
        if (!first) out += ',';
        first = false;
        DumpString(k, out);
        out += ':';
        DumpTo(v, out);
      }
      out += '}';
      return;
    }
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const Json& v : j.get_ref<const Json::array_t&>()) {
        if (!first) out += ',';
        first = false;
        DumpTo(v, out);
      }
      out += ']';
      return;
    }
    case Json::value_t::string:
      DumpString(j.get_ref<const std::string&>(), out);
      return;
    // nlohmann's serializer, built per scalar, asks localeconv() each time.
    case Json::value_t::null:
      out += "null";
      return;
    case Json::value_t::boolean:
      out += j.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::number_integer:
      AppendInteger(out, j.get<int64_t>());
      return;
    case Json::value_t::number_unsigned:
      AppendInteger(out, j.get<uint64_t>());
      return;
    default:
      out += NlohmannDump(j);  // floats, binary
  }
}

}  // namespace

JsonWriter& JsonWriter::Key(std::string_view k) {
  Separate();
  DumpString(k, out_);
  out_ += ':';
  comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::PlainKey(std::string_view k) {
  out_.append(comma_ ? ",\"" : "\"");
  out_.append(k);
  out_.append("\":");
  comma_ = false;
  return *this;
}

bool JsonWriter::EndObjectOrRewind(Mark before) {
  // A member ends in a value, never in '{': the object is empty.
  if (out_.back() == '{') {
    Rewind(before);
    return false;
  }
  EndObject();
  return true;
}

void JsonWriter::String(std::string_view s) {
  Separate();
  DumpString(s, out_);
  comma_ = true;
}

void JsonWriter::Int(int64_t v) {
  Separate();
  AppendInteger(out_, v);
  comma_ = true;
}

void JsonWriter::Bool(bool v) {
  Separate();
  out_ += v ? "true" : "false";
  comma_ = true;
}

void JsonWriter::StringList(const std::vector<std::string>& v) {
  BeginArray();
  for (const std::string& s : v) String(s);
  EndArray();
}

void JsonWriter::Value(const Json& v) {
  Separate();
  DumpTo(v, out_);
  comma_ = true;
}

std::string DumpJson(const Json& j) {
  std::string out;
  out.reserve(256);
  DumpTo(j, out);
  return out;
}

void AppendJson(std::string& out, const Json& j) { DumpTo(j, out); }
void AppendJsonString(std::string& out, std::string_view s) { DumpString(s, out); }

}  // namespace sealbox
