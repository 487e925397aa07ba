#include "compiler/Profiles.h"

#include "compiler/Driver.h"

#include <map>

namespace infc {

Expected<std::vector<OptimizationProfile>> parseProfiles(const std::vector<std::string> &mins,
                                                         const std::vector<std::string> &opts,
                                                         const std::vector<std::string> &maxs, const Graph &graph,
                                                         const std::string &modelPath) {
  if (mins.size() != opts.size() || opts.size() != maxs.size())
    return invalidArgument("--min-shapes given " + std::to_string(mins.size()) + " times, --opt-shapes " +
                           std::to_string(opts.size()) + ", --max-shapes " + std::to_string(maxs.size()) +
                           ": each profile needs all three");
  std::string inputs;
  for (const auto &a : graph.body().arguments())
    inputs += (inputs.empty() ? "" : ", ") + a->name();
  std::vector<OptimizationProfile> profiles;
  for (size_t k = 0; k < mins.size(); ++k) {
    std::string where = modelPath + ": profile " + std::to_string(k);
    std::map<std::string, ProfileInputRange> ranges;
    const char *flags[] = {"--min-shapes", "--opt-shapes", "--max-shapes"};
    const std::string *specs[] = {&mins[k], &opts[k], &maxs[k]};
    for (int f = 0; f < 3; ++f) {
      INFC_ASSIGN_OR_RETURN(std::vector<InputShape> shapes, parseInputShapes(*specs[f]));
      for (InputShape &s : shapes) {
        bool known = false;
        for (const auto &a : graph.body().arguments())
          known = known || a->name() == s.name;
        if (!known)
          return invalidArgument(where + ": " + flags[f] + " names '" + s.name + "', which is not an input (inputs: " + inputs + ")");
        ProfileInputRange &r = ranges[s.name];
        r.name = s.name;
        std::vector<int64_t> &slot = f == 0 ? r.min : f == 1 ? r.opt : r.max;
        if (!slot.empty())
          return invalidArgument(where + ": " + flags[f] + " gives '" + s.name + "' twice");
        slot = std::move(s.dims);
      }
    }
    OptimizationProfile p;
    for (const auto &a : graph.body().arguments()) {
      auto it = ranges.find(a->name());
      const TensorType &t = a->type();
      if (it == ranges.end()) {
        if (!t.isStatic())
          return invalidArgument(where + ": input '" + a->name() + "' has dynamic dims and no range (give it in --min-shapes, "
                                 "--opt-shapes and --max-shapes)");
        continue;
      }
      ProfileInputRange &r = it->second;
      for (int f = 0; f < 3; ++f) {
        const std::vector<int64_t> &dims = f == 0 ? r.min : f == 1 ? r.opt : r.max;
        if (dims.empty())
          return invalidArgument(where + ": input '" + a->name() + "' is missing from " + flags[f]);
        if (t.isRanked() && static_cast<int64_t>(dims.size()) != t.rank())
          return invalidArgument(where + ": " + flags[f] + " gives input '" + a->name() + "' " + std::to_string(dims.size()) +
                                 " dims, the model " + std::to_string(t.rank()) + " (" + t.str() + ")");
      }
      if (r.min.size() != r.opt.size() || r.opt.size() != r.max.size())
        return invalidArgument(where + ": input '" + a->name() + "' has ranges of different ranks");
      for (size_t d = 0; d < r.min.size(); ++d) {
        std::string dim = "input '" + a->name() + "' dim " + std::to_string(d) + ": ";
        std::string range = std::to_string(r.min[d]) + " / " + std::to_string(r.opt[d]) + " / " + std::to_string(r.max[d]);
        if (t.isRanked() && t.dim(static_cast<int64_t>(d)).isStatic()) {
          int64_t fixed = t.dim(static_cast<int64_t>(d)).value;
          if (r.min[d] != fixed || r.opt[d] != fixed || r.max[d] != fixed)
            return invalidArgument(where + ": " + dim + "fixed at " + std::to_string(fixed) + " in the model, the profile gives min / opt / max " + range);
          continue;
        }
        if (r.min[d] < 1 || r.min[d] > r.opt[d] || r.opt[d] > r.max[d])
          return invalidArgument(where + ": " + dim + "min / opt / max " + range + " must satisfy 1 <= min <= opt <= max");
      }
      p.inputs.push_back(std::move(r));
    }
    profiles.push_back(std::move(p));
  }
  return profiles;
}

std::vector<codegen::ProfileRanges> engineProfiles(const fb::Engine &engine) {
  std::vector<codegen::ProfileRanges> profiles;
  if (!engine.profiles())
    return profiles;
  auto vec = [](const flatbuffers::Vector<int64_t> *v) { return std::vector<int64_t>(v->begin(), v->end()); };
  for (const fb::Profile *p : *engine.profiles()) {
    codegen::ProfileRanges ranges;
    for (const fb::ProfileInput *in : *p->inputs())
      ranges.push_back({in->name()->str(), vec(in->min()), vec(in->opt()), vec(in->max())});
    profiles.push_back(std::move(ranges));
  }
  return profiles;
}

nlohmann::json profilesJson(const std::vector<codegen::ProfileRanges> &profiles) {
  nlohmann::json out = nlohmann::json::array();
  for (const codegen::ProfileRanges &p : profiles) {
    nlohmann::json pj = nlohmann::json::object();
    for (const codegen::ProfileRange &r : p)
      pj[r.name] = {{"min", r.min}, {"opt", r.opt}, {"max", r.max}};
    out.push_back(pj);
  }
  return out;
}

} // namespace infc
