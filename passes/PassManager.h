// Pipelines of passes, given as data: "shape-infer,fixpoint(const-fold,canonicalize),dce".
#pragma once

#include "passes/Pass.h"

#include <functional>
#include <vector>

namespace infc {

/// One pipeline element: a pass, or a group repeated until no pass in it changes the graph.
struct PipelineItem {
  std::string passName;             ///< empty for a group
  std::vector<PipelineItem> group;  ///< members of a fixpoint group
  bool fixpoint = false;
};

struct PassManagerOptions {
  /// Run the verifier after every pass (on in tests and debug; cheap, so on by default).
  bool verifyEach = true;
  /// Upper bound on fixpoint iterations, at least: a graph of N ops gets N / 2 more, as a chain of
  /// shape computations resolves one link (two ops) per round (GPT-2 with a symbolic batch takes
  /// 87 rounds). Exceeding it is an error (a pass that oscillates).
  int maxFixpointIterations = 32;
  /// Called after each pass with its name and whether it changed the graph (for --print-after).
  std::function<void(std::string_view, const Graph &, bool)> afterPass;
};

class PassManager {
public:
  /// Parses "a,b,fixpoint(c,d),e". Unknown names are an error listing the known passes.
  static Expected<PassManager> parse(const std::string &pipeline, PassManagerOptions options = {});

  /// Runs the pipeline over every graph of the module.
  Status run(Module &module, PassContext &ctx) const;
  Status run(Graph &graph, PassContext &ctx) const;
  const std::vector<PipelineItem> &items() const { return items_; }

private:
  Expected<bool> runItem(const PipelineItem &item, Graph &graph, PassContext &ctx) const;
  std::vector<PipelineItem> items_;
  PassManagerOptions options_;
};

/// The pipeline `infc build --emit=ir-opt` and the conformance runner use.
constexpr const char *kDefaultOnnxPipeline = "shape-infer,fixpoint(const-fold,canonicalize,fold-batchnorm,shape-infer),dce";
/// Run after the default pipeline by `--fp16`: FP16 storage, then the clean-up the casts need.
constexpr const char *kFp16Pipeline = "assign-precision,fixpoint(const-fold,canonicalize,shape-infer),dce";

} // namespace infc
