// infc-opt: textual IR in -> passes -> textual IR out (the pass-testing tool, like mlir-opt).
#include "compiler/FileUtil.h"
#include "compiler/Pipeline.h"
#include "ir/Interpreter.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Registry.h"

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <set>
#include <random>

using namespace infc;

namespace {

int fail(const Status &s) {
  std::fprintf(stderr, "error: %s\n", s.message().c_str());
  return 1;
}

/// Deterministic random input: floats in [-2, 2], integers in [0, 4), bools. Dynamic dims
/// (`?` or symbols) take the size 2, so graphs with symbolic batch dims are checked too.
Expected<Tensor> randomTensor(const Value &arg, std::mt19937_64 &rng) {
  const TensorType &t = arg.type();
  if (!t.isRanked())
    return invalidArgument("--check-numerics needs ranked inputs; '" + arg.name() + "' is " + t.str());
  std::vector<int64_t> shape;
  for (const Dim &d : t.shape())
    shape.push_back(d.isStatic() ? d.value : 2);
  INFC_ASSIGN_OR_RETURN(Tensor out, Tensor::create(t.elem(), shape, "input '" + arg.name() + "'"));
  std::uniform_real_distribution<double> real(-2.0, 2.0);
  std::uniform_int_distribution<int64_t> small(0, 3);
  for (int64_t i = 0; i < out.numElements(); ++i) {
    if (isFloat(t.elem()))
      out.setDouble(i, real(rng));
    else
      out.setInt(i, t.elem() == DType::Bool ? small(rng) & 1 : small(rng));
  }
  return out;
}

/// Runs both graphs on the same random inputs and compares outputs.
Status checkNumerics(const Graph &before, const Graph &after) {
  std::mt19937_64 rng(1234);
  std::vector<Tensor> inputs;
  for (const auto &a : before.body().arguments()) {
    INFC_ASSIGN_OR_RETURN(Tensor t, randomTensor(*a, rng));
    inputs.push_back(std::move(t));
  }
  INFC_ASSIGN_OR_RETURN(std::vector<Tensor> ref, interpret(before, inputs));
  INFC_ASSIGN_OR_RETURN(std::vector<Tensor> got, interpret(after, inputs));
  if (ref.size() != got.size())
    return internalError("--check-numerics: output count changed");
  for (size_t o = 0; o < ref.size(); ++o) {
    const std::string &name = before.outputs()[o].name;
    if (ref[o].dtype() != got[o].dtype() || ref[o].shape() != got[o].shape())
      return internalError("--check-numerics: output '" + name + "' changed dtype or shape");
    for (int64_t i = 0; i < ref[o].numElements(); ++i) {
      double r = ref[o].getDouble(i), g = got[o].getDouble(i);
      bool ok = (std::isnan(r) && std::isnan(g)) || r == g || std::fabs(r - g) <= 1e-5 + 1e-4 * std::fabs(r);
      if (!ok)
        return internalError("--check-numerics: output '" + name + "' element " + std::to_string(i) + ": " +
                             std::to_string(g) + " after the passes, " + std::to_string(r) + " before");
    }
  }
  return Status::ok();
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"infc-opt: parse textual IR, run passes, print textual IR"};
  std::string input = "-", output = "-", passes;
  std::string int8Ranges, int8Spread;
  bool checkNum = false, stats = false, listPasses = false, noVerify = false, remarks = false, inputsAtMax = false;
  app.add_option("input", input, "Input .ir file ('-' for stdin)");
  app.add_option("-o,--output", output, "Output file (default: stdout)");
  app.add_option("--passes", passes, "Pipeline, e.g. shape-infer,fixpoint(const-fold,canonicalize),dce");
  app.add_flag("--check-numerics", checkNum,
               "Run the graph before and after the passes on the reference interpreter with random inputs "
               "and fail if the outputs differ");
  app.add_flag("--stats", stats, "Print pass statistics to stderr");
  app.add_flag("--remarks", remarks, "Print the fusion passes' decisions (taken, or refused and why) to stderr, once each");
  app.add_option("--int8-ranges", int8Ranges,
                 "For quantize-int8: calibrated ranges NAME=AMAX[,NAME=AMAX...] by value name (what --calib gives infc build)");
  app.add_option("--int8-spread", int8Spread,
                 "For quantize-int8-matmul: what calibration saw, NAME=MAX/RMS[,...] (largest |x| and root mean square)");
  app.add_flag("--int8-inputs-at-max", inputsAtMax,
               "For quantize-int8-matmul: quantize matmul inputs over MAX of --int8-spread (what infc build --int8 does "
               "without --calib-method)");
  app.add_flag("--list-passes", listPasses, "List the registered passes");
  app.add_flag("--no-verify", noVerify, "Don't run the verifier after each pass");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e);
  }
  if (listPasses) {
    for (const PassInfo &p : registeredPasses())
      std::printf("%-14s %s\n", std::string(p.name).c_str(), std::string(p.summary).c_str());
    return 0;
  }
  Expected<std::string> text = readFile(input);
  if (!text.isOk())
    return fail(text.status());
  std::string displayName = input == "-" ? "<stdin>" : input;
  Expected<std::unique_ptr<Module>> module = parseModule(*text, displayName);
  if (!module.isOk())
    return fail(module.status());
  if (Status v = verifyModule(**module); !v.isOk())
    return fail(v.withPrefix(displayName));
  std::unique_ptr<Module> original;
  if (checkNum) {
    Expected<std::unique_ptr<Module>> again = parseModule(*text, displayName);
    if (!again.isOk())
      return fail(again.status());
    original = std::move(*again);
  }
  PipelineOptions po;
  for (size_t start = 0; start < int8Ranges.size();) {
    size_t comma = int8Ranges.find(',', start);
    std::string entry = int8Ranges.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? int8Ranges.size() : comma + 1;
    size_t eq = entry.rfind('=');
    char *end = nullptr;
    double amax = eq == std::string::npos ? -1 : std::strtod(entry.c_str() + eq + 1, &end);
    if (eq == std::string::npos || eq == 0 || !end || *end || !(amax >= 0) || !std::isfinite(amax))
      return fail(invalidArgument("--int8-ranges '" + entry + "' is not NAME=AMAX with AMAX >= 0"));
    po.int8Ranges[entry.substr(0, eq)] = amax;
  }
  for (size_t start = 0; start < int8Spread.size();) {
    size_t comma = int8Spread.find(',', start);
    std::string entry = int8Spread.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? int8Spread.size() : comma + 1;
    size_t eq = entry.rfind('='), slash = entry.rfind('/');
    char *end1 = nullptr, *end2 = nullptr;
    double mx = -1, rms = -1;
    if (eq != std::string::npos && slash != std::string::npos && slash > eq) {
      mx = std::strtod(entry.c_str() + eq + 1, &end1);
      rms = std::strtod(entry.c_str() + slash + 1, &end2);
    }
    if (eq == std::string::npos || eq == 0 || !end1 || *end1 != '/' || !end2 || *end2 || !(mx >= 0) || !(rms >= 0) ||
        !std::isfinite(mx) || !std::isfinite(rms))
      return fail(invalidArgument("--int8-spread '" + entry + "' is not NAME=MAX/RMS with MAX, RMS >= 0"));
    po.int8Spread[entry.substr(0, eq)] = TensorSpread{mx, rms};
  }
  po.int8MatmulInputsAtMax = inputsAtMax;
  po.verifyEach = !noVerify;
  po.printStats = stats;
  std::set<std::string> said;
  if (remarks)
    po.remarks = [&said](const std::string &line) {
      if (said.insert(line).second)
        std::fprintf(stderr, "remark: %s\n", line.c_str());
    };
  if (Status s = runPassPipeline(**module, passes, po); !s.isOk())
    return fail(s.withPrefix(displayName));
  if (checkNum)
    for (size_t g = 0; g < original->graphs().size(); ++g)
      if (Status s = checkNumerics(*original->graphs()[g], *(*module)->graphs()[g]); !s.isOk())
        return fail(s.withPrefix(displayName));
  if (Status w = writeFileAtomically(output, printModule(**module)); !w.isOk())
    return fail(w);
  return 0;
}
