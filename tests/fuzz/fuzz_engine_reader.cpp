// libFuzzer target: bytes as an engine file -> header, checksums, FlatBuffers verifier, semantic
// checks (EngineView::fromBytes); a verified engine's reference IR goes through the IR parser as
// `infc run --reference` would. Random mutations would almost never pass the CRC-32C checks, so
// the target reseals the checksums first (as a forger would) whenever the header's sections lie
// inside the input: the mutations then reach the FlatBuffers verifier and the semantic checks.
// Seed it with real engines (`infc build ... --target sm_90`, see scripts/fuzz.sh).
#include "ir/Parser.h"
#include "runtime/EngineFormat.h"
#include "runtime/EngineReader.h"
#include "tests/engine_edit.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace {

using infc::testing::reseal;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string bytes(reinterpret_cast<const char *>(data), size);
  reseal(bytes);
  std::string error;
  std::unique_ptr<infc::rt::EngineView> e = infc::rt::EngineView::fromBytes(std::move(bytes), error);
  if (!e)
    return 0;
  if (const auto *ir = e->engine().reference_ir()) {
    infc::ParseOptions po;
    po.resolveConstantRef = [](const std::string &, const infc::TensorType &) -> infc::Expected<infc::Tensor> {
      return infc::invalidArgument("no weights in the fuzzer");
    };
    (void)infc::parseModule(std::string_view(ir->data(), ir->size()), "engine", po);
  }
  return 0;
}
