#include "ir/Attribute.h"

#include <type_traits>

namespace infc {

bool attributeEquals(const Attribute &a, const Attribute &b) {
  if (a.index() != b.index())
    return false;
  return std::visit(
      [&](const auto &va) -> bool {
        using T = std::decay_t<decltype(va)>;
        const T &vb = std::get<T>(b);
        if constexpr (std::is_same_v<T, Tensor>)
          return va.identical(vb);
        else
          return va == vb;
      },
      a);
}

bool AttrMap::operator==(const AttrMap &o) const {
  if (map_.size() != o.map_.size())
    return false;
  auto it = o.map_.begin();
  for (const auto &[k, v] : map_) {
    if (k != it->first || !attributeEquals(v, it->second))
      return false;
    ++it;
  }
  return true;
}

static Status wrongKind(const std::string &name, const char *want) {
  return invalidArgument("attribute '" + name + "' is not " + want);
}
static Status missing(const std::string &name) {
  return invalidArgument("required attribute '" + name + "' is missing");
}

Expected<int64_t> AttrMap::getInt(const std::string &name, std::optional<int64_t> dflt) const {
  const Attribute *a = find(name);
  if (!a)
    return dflt ? Expected<int64_t>(*dflt) : Expected<int64_t>(missing(name));
  if (auto *v = std::get_if<int64_t>(a))
    return *v;
  return wrongKind(name, "an int");
}

Expected<float> AttrMap::getFloat(const std::string &name, std::optional<float> dflt) const {
  const Attribute *a = find(name);
  if (!a)
    return dflt ? Expected<float>(*dflt) : Expected<float>(missing(name));
  if (auto *v = std::get_if<float>(a))
    return *v;
  if (auto *v = std::get_if<int64_t>(a))
    return static_cast<float>(*v);
  return wrongKind(name, "a float");
}

Expected<std::string> AttrMap::getString(const std::string &name, std::optional<std::string> dflt) const {
  const Attribute *a = find(name);
  if (!a)
    return dflt ? Expected<std::string>(*dflt) : Expected<std::string>(missing(name));
  if (auto *v = std::get_if<std::string>(a))
    return *v;
  return wrongKind(name, "a string");
}

static bool isEmptyList(const Attribute &a) {
  if (auto *v = std::get_if<std::vector<int64_t>>(&a))
    return v->empty();
  if (auto *v = std::get_if<std::vector<float>>(&a))
    return v->empty();
  if (auto *v = std::get_if<std::vector<std::string>>(&a))
    return v->empty();
  return false;
}

Expected<std::vector<int64_t>> AttrMap::getInts(const std::string &name,
                                                std::optional<std::vector<int64_t>> dflt) const {
  const Attribute *a = find(name);
  if (!a)
    return dflt ? Expected<std::vector<int64_t>>(*dflt) : Expected<std::vector<int64_t>>(missing(name));
  if (auto *v = std::get_if<std::vector<int64_t>>(a))
    return *v;
  if (isEmptyList(*a))
    return std::vector<int64_t>{};
  return wrongKind(name, "a list of ints");
}

Expected<std::vector<float>> AttrMap::getFloats(const std::string &name,
                                                std::optional<std::vector<float>> dflt) const {
  const Attribute *a = find(name);
  if (!a)
    return dflt ? Expected<std::vector<float>>(*dflt) : Expected<std::vector<float>>(missing(name));
  if (auto *v = std::get_if<std::vector<float>>(a))
    return *v;
  if (auto *v = std::get_if<std::vector<int64_t>>(a))
    return std::vector<float>(v->begin(), v->end());
  if (isEmptyList(*a))
    return std::vector<float>{};
  return wrongKind(name, "a list of floats");
}

Expected<std::vector<std::string>> AttrMap::getStrings(const std::string &name) const {
  const Attribute *a = find(name);
  if (!a)
    return missing(name);
  if (auto *v = std::get_if<std::vector<std::string>>(a))
    return *v;
  if (isEmptyList(*a))
    return std::vector<std::string>{};
  return wrongKind(name, "a list of strings");
}

Expected<Tensor> AttrMap::getTensor(const std::string &name) const {
  const Attribute *a = find(name);
  if (!a)
    return missing(name);
  if (auto *v = std::get_if<Tensor>(a))
    return *v;
  return wrongKind(name, "a tensor");
}

} // namespace infc
