#include "compiler/CalibrationData.h"

#include "compiler/Npy.h"
#include "compiler/Npz.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

namespace infc {

namespace fs = std::filesystem;

namespace {

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string inputList(const Graph &graph) {
  std::string names;
  for (const auto &a : graph.body().arguments())
    names += (names.empty() ? "" : ", ") + a->name();
  return names;
}

/// `t` as the value of graph input `arg`: same dtype, same static shape, finite floats.
Status checkInput(const Tensor &t, const Value &arg, const std::string &what) {
  const TensorType &want = arg.type();
  std::string wantText = want.str();
  if (t.dtype() != want.elem() || !want.isStatic() || t.shape() != want.staticShape())
    return invalidArgument(what + ": input '" + arg.name() + "' must be " + wantText + ", the file holds " +
                           TensorType::fromStatic(t.dtype(), t.shape()).str());
  if (isFloat(t.dtype()))
    for (int64_t i = 0; i < t.numElements(); ++i)
      if (!std::isfinite(t.getDouble(i)))
        return invalidArgument(what + ": input '" + arg.name() + "' holds " + (std::isnan(t.getDouble(i)) ? "NaN" : "Inf") +
                               " (element " + std::to_string(i) + "); calibration data must be finite");
  return Status::ok();
}

} // namespace

Expected<std::vector<std::string>> calibrationFiles(const std::string &dir, int64_t maxBatches) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return invalidArgument("--calib " + dir + ": no such folder");
  std::vector<std::string> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.')
      continue;
    std::string path = (fs::path(dir) / name).string();
    if (!it->is_regular_file(ec) || !(endsWith(name, ".npy") || endsWith(name, ".npz")))
      return invalidArgument(path + ": not a .npy or .npz file (the calibration folder holds one .npy or .npz file per batch)");
    files.push_back(path);
  }
  if (ec)
    return invalidArgument("--calib " + dir + ": cannot list the folder: " + ec.message());
  if (files.empty())
    return invalidArgument("--calib " + dir + ": the folder holds no .npy or .npz files");
  std::sort(files.begin(), files.end());
  if (maxBatches > static_cast<int64_t>(files.size()))
    return invalidArgument("--calib-batches " + std::to_string(maxBatches) + ": " + dir + " holds only " +
                           std::to_string(files.size()) + " batch files");
  if (maxBatches > 0)
    files.resize(static_cast<size_t>(maxBatches));
  return files;
}

Expected<std::vector<Tensor>> readCalibrationBatch(const std::string &file, const Graph &graph) {
  const auto &args = graph.body().arguments();
  std::vector<Tensor> inputs;
  if (endsWith(file, ".npy")) {
    if (args.size() != 1)
      return invalidArgument(file + ": the model has " + std::to_string(args.size()) + " inputs (" + inputList(graph) +
                             "): write .npz files (np.savez) with one array per input name");
    INFC_ASSIGN_OR_RETURN(Tensor t, readNpy(file));
    INFC_RETURN_IF_ERROR(checkInput(t, *args[0], file));
    inputs.push_back(std::move(t));
    return inputs;
  }
  INFC_ASSIGN_OR_RETURN(auto arrays, readNpz(file));
  std::map<std::string, Tensor> byName;
  for (auto &[name, t] : arrays) {
    bool known = std::any_of(args.begin(), args.end(), [&](const auto &a) { return a->name() == name; });
    if (!known)
      return invalidArgument(file + ": array '" + name + "' is not an input of the model (inputs: " + inputList(graph) + ")");
    byName[name] = std::move(t);
  }
  for (const auto &a : args) {
    auto it = byName.find(a->name());
    if (it == byName.end())
      return invalidArgument(file + ": no array for input '" + a->name() + "' (np.savez(FILE, " + a->name() + "=...))");
    INFC_RETURN_IF_ERROR(checkInput(it->second, *a, file));
    inputs.push_back(std::move(it->second));
  }
  return inputs;
}

} // namespace infc
