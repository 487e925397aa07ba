#include "ir/Location.h"

namespace infc {

Location Location::fused(const std::vector<const Location *> &parts) {
  Location l;
  for (const Location *p : parts)
    if (p)
      l.append(*p);
  return l;
}

void Location::append(const Location &other) {
  for (const NodeRef &n : other.nodes_) {
    bool seen = false;
    for (const NodeRef &m : nodes_)
      seen = seen || m == n;
    if (!seen)
      nodes_.push_back(n);
  }
}

static std::string describeNode(const NodeRef &n) {
  std::string s;
  if (!n.name.empty())
    s = "'" + n.name + "'";
  else
    s = "#" + std::to_string(n.index);
  if (!n.opType.empty())
    s += " (" + n.opType + ")";
  return s;
}

std::string Location::describe() const {
  if (nodes_.empty())
    return "";
  std::string s = nodes_.size() == 1 ? "node " : "nodes ";
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (i)
      s += ", ";
    s += describeNode(nodes_[i]);
  }
  return s;
}

} // namespace infc
