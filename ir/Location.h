// Source locations: the ONNX nodes an op came from. Fused ops keep every absorbed node.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace infc {

/// One ONNX node: its name (may be empty in ONNX), op type and index in the ONNX graph.
struct NodeRef {
  std::string name;
  std::string opType;
  int64_t index = -1;
  bool operator==(const NodeRef &o) const = default;
};

class Location {
public:
  Location() = default;
  explicit Location(NodeRef node) { nodes_.push_back(std::move(node)); }
  static Location fused(const std::vector<const Location *> &parts);

  bool isUnknown() const { return nodes_.empty(); }
  const std::vector<NodeRef> &nodes() const { return nodes_; }
  void append(const Location &other);
  /// For messages: `node 'conv1' (Conv)`, `nodes 'conv1' (Conv), 'relu1' (Relu)`,
  /// `node #3 (Conv)` for unnamed nodes, or "" when unknown.
  std::string describe() const;
  bool operator==(const Location &o) const = default;

private:
  std::vector<NodeRef> nodes_;
};

} // namespace infc
