#include "compiler/Driver.h"

#include "compiler/FileUtil.h"
#include "ir/Parser.h"
#include "ir/onnx/OnnxImporter.h"

#include <charconv>
#include <map>

namespace infc {

Expected<std::vector<InputShape>> parseInputShapes(const std::string &spec) {
  std::vector<InputShape> out;
  size_t pos = 0;
  while (pos <= spec.size() && !spec.empty()) {
    size_t comma = spec.find(',', pos);
    std::string item = spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t colon = item.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == item.size())
      return invalidArgument("--shapes: '" + item + "' is not NAME:DIMxDIMx...");
    InputShape s;
    s.name = item.substr(0, colon);
    std::string dims = item.substr(colon + 1);
    size_t p = 0;
    while (p <= dims.size()) {
      size_t x = dims.find('x', p);
      std::string d = dims.substr(p, x == std::string::npos ? std::string::npos : x - p);
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(d.data(), d.data() + d.size(), v);
      if (d.empty() || ec != std::errc() || ptr != d.data() + d.size() || v < 0)
        return invalidArgument("--shapes: '" + item + "': '" + d + "' is not a dimension");
      s.dims.push_back(v);
      if (x == std::string::npos)
        break;
      p = x + 1;
    }
    out.push_back(std::move(s));
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  return out;
}

Expected<std::unique_ptr<Module>> loadModel(const std::string &path) {
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".ir") == 0) {
    INFC_ASSIGN_OR_RETURN(std::string text, readFile(path));
    return parseModule(text, path);
  }
  return importOnnxFile(path);
}

Status applyInputShapes(Module &module, const std::vector<InputShape> &shapes, const std::string &modelPath) {
  Graph *g = module.mainGraph();
  if (!g)
    return invalidArgument(modelPath + ": module has no graph");
  std::map<std::string, int64_t> symbols;
  for (const InputShape &s : shapes) {
    Value *arg = nullptr;
    for (const auto &a : g->body().arguments())
      if (a->name() == s.name)
        arg = a.get();
    if (!arg) {
      std::string names;
      for (const auto &a : g->body().arguments())
        names += (names.empty() ? "" : ", ") + a->name();
      return invalidArgument(modelPath + ": --shapes names '" + s.name + "', which is not an input (inputs: " + names + ")");
    }
    const TensorType &t = arg->type();
    if (t.isRanked() && t.rank() != static_cast<int64_t>(s.dims.size()))
      return invalidArgument(modelPath + ": --shapes gives input '" + s.name + "' rank " + std::to_string(s.dims.size()) +
                             ", the model says " + t.str());
    if (t.isRanked())
      for (size_t i = 0; i < s.dims.size(); ++i) {
        const Dim &d = t.dim(static_cast<int64_t>(i));
        if (d.isStatic() && d.value != s.dims[i])
          return invalidArgument(modelPath + ": --shapes gives input '" + s.name + "' dim " + std::to_string(i) + " = " +
                                 std::to_string(s.dims[i]) + ", the model fixes it to " + std::to_string(d.value));
        if (!d.symbol.empty()) {
          auto [it, inserted] = symbols.emplace(d.symbol, s.dims[i]);
          if (!inserted && it->second != s.dims[i])
            return invalidArgument(modelPath + ": --shapes binds symbol '" + d.symbol + "' to both " +
                                   std::to_string(it->second) + " and " + std::to_string(s.dims[i]));
        }
      }
    arg->setType(TensorType::fromStatic(t.elem(), s.dims));
  }
  // Inputs not named in --shapes but sharing a bound symbol get it too.
  for (const auto &a : g->body().arguments()) {
    const TensorType &t = a->type();
    if (!t.isRanked())
      continue;
    std::vector<Dim> dims = t.shape();
    bool changed = false;
    for (Dim &d : dims)
      if (!d.symbol.empty() && symbols.count(d.symbol)) {
        d = Dim(symbols[d.symbol]);
        changed = true;
      }
    if (changed)
      a->setType(TensorType(t.elem(), std::move(dims)));
  }
  return Status::ok();
}

} // namespace infc
