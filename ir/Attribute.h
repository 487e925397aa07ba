// Op attributes: scalars, lists, dense tensors. Dense tensors share storage (see Tensor).
#pragma once

#include "ir/Status.h"
#include "ir/Tensor.h"

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace infc {

/// Float attributes are float32, as in ONNX; they print in the shortest form that round-trips.
using Attribute = std::variant<int64_t, float, std::string, std::vector<int64_t>, std::vector<float>,
                               std::vector<std::string>, Tensor>;

/// Sorted by name so printing is deterministic.
class AttrMap {
public:
  bool has(const std::string &name) const { return map_.count(name) != 0; }
  void set(const std::string &name, Attribute value) { map_[name] = std::move(value); }
  void erase(const std::string &name) { map_.erase(name); }
  const Attribute *find(const std::string &name) const {
    auto it = map_.find(name);
    return it == map_.end() ? nullptr : &it->second;
  }
  bool empty() const { return map_.empty(); }
  size_t size() const { return map_.size(); }
  auto begin() const { return map_.begin(); }
  auto end() const { return map_.end(); }
  bool operator==(const AttrMap &o) const;

  // Typed getters with defaults. A wrong kind is an error naming the attribute.
  // Ints convert to floats where a float is asked for; an empty list matches any list kind.
  Expected<int64_t> getInt(const std::string &name, std::optional<int64_t> dflt = std::nullopt) const;
  Expected<float> getFloat(const std::string &name, std::optional<float> dflt = std::nullopt) const;
  Expected<std::string> getString(const std::string &name,
                                  std::optional<std::string> dflt = std::nullopt) const;
  Expected<std::vector<int64_t>> getInts(const std::string &name,
                                         std::optional<std::vector<int64_t>> dflt = std::nullopt) const;
  Expected<std::vector<float>> getFloats(const std::string &name,
                                         std::optional<std::vector<float>> dflt = std::nullopt) const;
  Expected<std::vector<std::string>> getStrings(const std::string &name) const;
  Expected<Tensor> getTensor(const std::string &name) const;

private:
  std::map<std::string, Attribute> map_;
};

/// Equality of attribute values (tensors compared bytewise).
bool attributeEquals(const Attribute &a, const Attribute &b);

} // namespace infc
