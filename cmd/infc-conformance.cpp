// infc-conformance: runs ONNX backend test folders (model.onnx + test_data_set_*/input_N.pb,
// output_N.pb) through import -> passes -> reference interpreter (or a GPU engine) and compares
// with the expected outputs. Last line: "N passed, N failed, N skipped".
#include "compiler/Conformance.h"
#include "compiler/Run.h"

#include <CLI/CLI.hpp>

#include <cstdio>

using namespace infc;

int main(int argc, char **argv) {
  CLI::App app{"infc-conformance: ONNX backend conformance tests on the reference interpreter or the GPU"};
  ConformanceOptions o;
  int64_t minPassed = 0;
  app.add_option("dirs", o.dirs, "Test folders, or folders of test folders")->required();
  app.add_option("--filter", o.filter, "Only tests whose path matches this regular expression");
  app.add_option("--passes", o.passes, "Pass pipeline run before execution")->capture_default_str();
  app.add_option("--backend", o.backend, "Where to execute: 'reference' (CPU) or 'gpu' (engines on the GPU)")
      ->check(CLI::IsMember({"reference", "gpu"}))
      ->capture_default_str();
  app.add_option("--min-passed", minPassed, "Fail unless at least this many tests pass");
  app.add_flag("--verbose", o.verbose, "Print every test's result");
  app.add_flag("--list-skips", o.listSkips, "Print one line per skipped test with its reason");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e);
  }
  setConformanceGpuExecutor([](const Module &m, const std::vector<Tensor> &in) { return runModuleOnGpu(m, in); });
  Expected<ConformanceSummary> s = runConformance(o);
  if (!s.isOk()) {
    std::fprintf(stderr, "error: %s\n", s.status().message().c_str());
    return 2;
  }
  std::printf("%lld passed, %lld failed, %lld skipped\n", static_cast<long long>(s->passed),
              static_cast<long long>(s->failed), static_cast<long long>(s->skipped));
  if (s->failed > 0)
    return 1;
  if (s->passed < minPassed) {
    std::fprintf(stderr, "error: %lld passed, fewer than the required %lld\n", static_cast<long long>(s->passed),
                 static_cast<long long>(minPassed));
    return 1;
  }
  return 0;
}
