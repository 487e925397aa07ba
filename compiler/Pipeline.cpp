#include "compiler/Pipeline.h"

#include <cstdio>

namespace infc {

Status runPassPipeline(Module &module, const std::string &passList, const PipelineOptions &options,
                       Statistics *statsOut) {
  PassManagerOptions pmOptions;
  pmOptions.verifyEach = options.verifyEach;
  INFC_ASSIGN_OR_RETURN(PassManager pm, PassManager::parse(passList, pmOptions));
  PassContext ctx;
  INFC_RETURN_IF_ERROR(pm.run(module, ctx));
  if (options.printStats)
    for (const auto &[k, v] : ctx.stats.counters())
      std::fprintf(stderr, "stat: %s = %lld\n", k.c_str(), static_cast<long long>(v));
  if (statsOut)
    statsOut->merge(ctx.stats);
  return Status::ok();
}

} // namespace infc
