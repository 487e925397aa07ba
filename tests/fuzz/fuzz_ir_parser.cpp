// libFuzzer target: bytes as textual IR -> parser (with its nesting and literal limits) -> the
// printer on success. Parse errors are expected; crashes, hangs and sanitizer reports are bugs.
#include "ir/Parser.h"
#include "ir/Printer.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  infc::Expected<std::unique_ptr<infc::Module>> m =
      infc::parseModule(std::string_view(reinterpret_cast<const char *>(data), size), "fuzz.ir");
  if (m.isOk())
    (void)infc::printModule(**m);
  return 0;
}
