// Entry points the CLI and tools use to run pass pipelines.
#pragma once

#include "passes/PassManager.h"

namespace infc {

struct PipelineOptions {
  bool verifyEach = true;
  /// Print statistics counters to stderr after the pipeline.
  bool printStats = false;
};

/// Runs a `--passes=` style pipeline over every graph of `module`. An empty list is a no-op.
Status runPassPipeline(Module &module, const std::string &passList, const PipelineOptions &options = {},
                       Statistics *statsOut = nullptr);

} // namespace infc
