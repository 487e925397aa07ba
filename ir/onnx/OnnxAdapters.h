// Per-node import: attribute conversion and the rewrites of older opset versions into the
// newest form of each op (attributes that became inputs, renamed or replaced ops).
#pragma once

#include "ir/IR.h"

#include <onnx/onnx_pb.h>

#include <map>
#include <string>

namespace infc {

struct ImportState {
  Graph &graph;
  int64_t opset;
  std::string display;
  std::map<std::string, Value *> &values;
};

/// "node 'conv1' (Conv)" or "node #3 (Conv)" for unnamed nodes.
std::string nodeDesc(const onnx::NodeProto &node, int index);

/// Creates the IR for one node (usually one op), shape-infers it and binds its outputs.
Status importNode(ImportState &state, const onnx::NodeProto &node, int index);

} // namespace infc
