// A minimal XML element parser for checking the structure of documents teye writes (JUnit):
// elements, attributes and nesting; text, comments and the declaration are skipped. Not a
// general parser: enough to say a document is well formed and to walk it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace teye::test {

struct XmlElement {
  std::string name;
  std::map<std::string, std::string> attrs;
  std::vector<std::unique_ptr<XmlElement>> children;
  std::vector<const XmlElement*> Children(const std::string& n) const {
    std::vector<const XmlElement*> out;
    for (const auto& c : children)
      if (c->name == n) out.push_back(c.get());
    return out;
  }
  bool Has(const std::string& a) const { return attrs.count(a) > 0; }
};

// Returns nullptr and sets *error when the document is not well formed.
inline std::unique_ptr<XmlElement> ParseXml(const std::string& s, std::string* error) {
  std::vector<XmlElement*> stack;
  std::unique_ptr<XmlElement> root;
  size_t i = 0;
  auto fail = [&](const std::string& why) {
    *error = why + " at byte " + std::to_string(i);
    return nullptr;
  };
  while (i < s.size()) {
    if (s[i] != '<') {
      if (stack.empty() && !std::isspace(static_cast<unsigned char>(s[i])))
        return fail("text outside the root element");
      ++i;
      continue;
    }
    if (s.compare(i, 2, "<?") == 0) {
      size_t e = s.find("?>", i);
      if (e == std::string::npos) return fail("unclosed declaration");
      i = e + 2;
      continue;
    }
    if (s.compare(i, 4, "<!--") == 0) {
      size_t e = s.find("-->", i);
      if (e == std::string::npos) return fail("unclosed comment");
      i = e + 3;
      continue;
    }
    if (s.compare(i, 2, "</") == 0) {
      size_t e = s.find('>', i);
      if (e == std::string::npos) return fail("unclosed end tag");
      std::string name = s.substr(i + 2, e - i - 2);
      if (stack.empty() || stack.back()->name != name) return fail("mismatched </" + name + ">");
      stack.pop_back();
      i = e + 1;
      continue;
    }
    // Start tag: name, attributes, optional '/'.
    size_t j = i + 1;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != '>' &&
           s[j] != '/')
      ++j;
    auto el = std::make_unique<XmlElement>();
    el->name = s.substr(i + 1, j - i - 1);
    if (el->name.empty()) return fail("empty element name");
    bool self_closing = false;
    while (true) {
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j])))
        ++j;
      if (j >= s.size()) return fail("unclosed start tag");
      if (s[j] == '>') break;
      if (s.compare(j, 2, "/>") == 0) {
        self_closing = true;
        ++j;
        break;
      }
      size_t eq = s.find('=', j);
      if (eq == std::string::npos || s[eq + 1] != '"') return fail("malformed attribute");
      std::string key = s.substr(j, eq - j);
      size_t close = s.find('"', eq + 2);
      if (close == std::string::npos) return fail("unclosed attribute value");
      std::string value = s.substr(eq + 2, close - eq - 2);
      if (value.find('<') != std::string::npos) return fail("'<' in an attribute value");
      if (el->attrs.count(key)) return fail("duplicate attribute " + key);
      el->attrs[key] = value;
      j = close + 1;
    }
    i = j + 1;
    XmlElement* raw = el.get();
    if (stack.empty()) {
      if (root) return fail("a second root element");
      root = std::move(el);
    } else {
      stack.back()->children.push_back(std::move(el));
    }
    if (!self_closing) stack.push_back(raw);
  }
  if (!stack.empty()) {
    *error = "unclosed <" + stack.back()->name + ">";
    return nullptr;
  }
  if (!root) *error = "no root element";
  return root;
}

}  // namespace teye::test
