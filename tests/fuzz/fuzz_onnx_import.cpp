// libFuzzer target: bytes as an ONNX model -> import (checks, shape inference) -> the default
// onnx.* pipeline (constant folding executes ops on constants). Any crash, sanitizer report,
// timeout or out-of-memory is a bug: bad models must end in one error.
#include "ir/onnx/OnnxImporter.h"
#include "passes/Pass.h"
#include "passes/PassManager.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string bytes(reinterpret_cast<const char *>(data), size);
  // External data resolves inside a folder that does not exist: every location is an error.
  infc::Expected<std::unique_ptr<infc::Module>> m = infc::importOnnxBytes(bytes, "fuzz.onnx", "/nonexistent-infc-fuzz");
  if (!m.isOk())
    return 0;
  static infc::Expected<infc::PassManager> pm = infc::PassManager::parse(infc::kDefaultOnnxPipeline);
  if (!pm.isOk())
    __builtin_trap();
  infc::PassContext ctx;
  (void)pm->run(**m, ctx);
  return 0;
}
