#include "compiler/ProfileSelect.h"

namespace infc {

std::string dimsStr(const std::vector<int64_t> &dims) {
  std::string s;
  for (int64_t d : dims)
    s += (s.empty() ? "" : "x") + (d < 0 ? std::string("?") : std::to_string(d));
  return s.empty() ? "scalar" : s;
}

namespace {

/// Why `dims` is not in `r` ("" when it is): the first dim outside, with the range.
std::string outside(const codegen::ProfileRange &r, const std::vector<int64_t> &dims) {
  if (dims.size() != r.min.size())
    return "input '" + r.name + "' has rank " + std::to_string(r.min.size()) + ", the shape given " + dimsStr(dims);
  for (size_t d = 0; d < dims.size(); ++d)
    if (dims[d] < r.min[d] || dims[d] > r.max[d])
      return "input '" + r.name + "' dim " + std::to_string(d) + " is " + std::to_string(dims[d]) + ", outside " +
             (r.min[d] == r.max[d] ? "its fixed value " + std::to_string(r.min[d])
                                   : "the range " + std::to_string(r.min[d]) + ".." + std::to_string(r.max[d])) +
             " (min " + dimsStr(r.min) + ", max " + dimsStr(r.max) + ")";
  return "";
}

} // namespace

Expected<RunShapes> selectRunShapes(const std::vector<DeclaredInput> &inputs,
                                    const std::vector<codegen::ProfileRanges> &profiles,
                                    const std::map<std::string, std::vector<int64_t>> &given, int profileIndex,
                                    const std::string &enginePath, std::vector<std::string> &notes) {
  std::string names;
  for (const DeclaredInput &in : inputs)
    names += (names.empty() ? "" : ", ") + in.name;
  for (const auto &[name, dims] : given) {
    (void)dims;
    bool known = false;
    for (const DeclaredInput &in : inputs)
      known = known || in.name == name;
    if (!known)
      return invalidArgument(enginePath + ": --shapes names '" + name + "', which is not an input (inputs: " + names + ")");
  }
  RunShapes out;
  if (profiles.empty()) {
    if (profileIndex >= 0)
      return invalidArgument(enginePath + ": --profile-index " + std::to_string(profileIndex) +
                             ": the engine has no optimization profiles (it was built for one shape)");
    for (const DeclaredInput &in : inputs) {
      auto it = given.find(in.name);
      if (it != given.end() && it->second != in.dims)
        return invalidArgument(enginePath + ": input '" + in.name + "' is " + dimsStr(in.dims) + " in this engine (built for one "
                               "shape), not " + dimsStr(it->second) + "; build with --min-shapes/--opt-shapes/--max-shapes for a range");
      out.dims.push_back(in.dims);
    }
    return out;
  }
  if (profileIndex >= static_cast<int>(profiles.size()))
    return invalidArgument(enginePath + ": --profile-index " + std::to_string(profileIndex) + ": the engine has " +
                           std::to_string(profiles.size()) + (profiles.size() == 1 ? " profile (index 0)" : " profiles (0.." +
                           std::to_string(profiles.size() - 1) + ")"));
  // Which profiles hold every given shape; the first such (or the one asked for) is used.
  std::vector<std::string> why(profiles.size());
  int chosen = -1;
  for (size_t k = 0; k < profiles.size() && chosen < 0; ++k) {
    if (profileIndex >= 0 && static_cast<int>(k) != profileIndex)
      continue;
    for (size_t i = 0; i < inputs.size() && why[k].empty(); ++i)
      if (auto it = given.find(inputs[i].name); it != given.end())
        why[k] = outside(profiles[k][i], it->second);
    if (why[k].empty())
      chosen = static_cast<int>(k);
  }
  if (chosen < 0) {
    if (profileIndex >= 0)
      return Status(StatusCode::OutOfRange, enginePath + ": profile " + std::to_string(profileIndex) + ": " + why[static_cast<size_t>(profileIndex)]);
    std::string all;
    for (size_t k = 0; k < profiles.size(); ++k)
      all += "\n  profile " + std::to_string(k) + ": " + why[k];
    return Status(StatusCode::OutOfRange, enginePath + ": the shapes given are in none of the engine's " +
                                              std::to_string(profiles.size()) + " optimization profiles:" + all);
  }
  out.profile = chosen;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto it = given.find(inputs[i].name);
    if (it != given.end()) {
      out.dims.push_back(it->second);
      continue;
    }
    const std::vector<int64_t> &opt = profiles[static_cast<size_t>(chosen)][i].opt;
    bool dynamic = false;
    for (int64_t d : inputs[i].dims)
      dynamic = dynamic || d < 0;
    if (dynamic)
      notes.push_back(enginePath + ": input '" + inputs[i].name + "' has no shape given: using profile " +
                      std::to_string(chosen) + "'s opt shape " + dimsStr(opt) + " (give --shapes " + inputs[i].name + ":" +
                      dimsStr(opt) + " or --input " + inputs[i].name + "=FILE.npy)");
    out.dims.push_back(opt);
  }
  return out;
}

} // namespace infc
