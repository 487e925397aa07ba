// The textual IR contract: print(parse(x)) == x for every .ir file in the tests, precise parse
// errors, and no crash on truncated or mutated input.
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

using namespace infc;
namespace fs = std::filesystem;

namespace {

/// Drops `//` comment lines and blank lines (test files carry RUN/CHECK lines between graphs).
std::string stripComments(const std::string &text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line.compare(first, 2, "//") == 0)
      continue;
    out += line + "\n";
  }
  return out;
}

const char *kSample = R"(graph @g(%x: tensor<"batch"x3xf32>, %i: tensor<2xi64>) -> ("y": tensor<"batch"x3xf32>, "z": tensor<*xf32>) {
  %w = onnx.Constant() {value = dense<[1.5, -2.0, 3.25]> : tensor<3xf32>} : () -> tensor<3xf32>
  %big = onnx.Constant() {value = dense<"0x000000000000803F0000004000004040000080400000A0400000C0400000E04000000041000010410000204100003041000040410000504100006041000070410000804100008841"> : tensor<18xf32>} : () -> tensor<18xf32>
  %"a b" = onnx.Add(%x, %w) : (tensor<"batch"x3xf32>, tensor<3xf32>) -> tensor<"batch"x3xf32> loc("add/0":Add:0)
  %c = onnx.Clip(%"a b", none, %w) : (tensor<"batch"x3xf32>, none, tensor<3xf32>) -> tensor<"batch"x3xf32> loc("c":Clip:1, "d":Relu:2)
  %s1, %s2 = onnx.Split(%big) {axis = 0, num_outputs = 2} : (tensor<18xf32>) -> (tensor<9xf32>, tensor<9xf32>)
  %r = onnx.Resize(%s1, none, %w) {coordinate_transformation_mode = "asymmetric", cubic_coeff_a = -0.75, mode = "nearest", scales = [0.5, 1e-07, inf]} : (tensor<9xf32>, none, tensor<3xf32>) -> tensor<*xf32>
  return %c, %r
}
)";

} // namespace

TEST_CASE("print(parse(x)) == x for a sample with every construct", "[ir]") {
  Expected<std::unique_ptr<Module>> m = parseModule(kSample, "sample.ir");
  REQUIRE(m.isOk());
  REQUIRE(verifyModule(**m).isOk());
  CHECK(printModule(**m) == kSample);
}

TEST_CASE("print(parse(x)) == x for every .ir file under tests/", "[ir][roundtrip-files]") {
  int checked = 0;
  for (const auto &e : fs::recursive_directory_iterator(INFC_SOURCE_DIR "/tests")) {
    if (e.path().extension() != ".ir" || e.path().string().find("/invalid/") != std::string::npos)
      continue;
    std::ifstream f(e.path());
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::string canonical = stripComments(text);
    INFO(e.path().string());
    Expected<std::unique_ptr<Module>> m = parseModule(text, e.path().string());
    REQUIRE(m.isOk());
    CHECK(stripComments(printModule(**m)) == canonical);
    ++checked;
  }
  CHECK(checked >= 5);
}

TEST_CASE("parse errors carry file:line:col", "[ir]") {
  auto err = [](const std::string &text) {
    Expected<std::unique_ptr<Module>> m = parseModule(text, "t.ir");
    REQUIRE_FALSE(m.isOk());
    return m.status().message();
  };
  CHECK(err("graph @g() -> () {\n  return %x\n}\n") == "t.ir:2:10: use of undefined value '%x'");
  CHECK(err("graph @g(%x: tensor<2xf32>) -> (\"y\": tensor<2xf32>) {\n  %y = onnx.Nope(%x) : (tensor<2xf32>) -> tensor<2xf32>\n  return %y\n}\n")
            .find("t.ir:2:8: unknown op 'onnx.Nope'") == 0);
  CHECK(err("graph @g(%x: tensor<2xq9>) -> () {\n  return\n}\n").find("t.ir:1:23: unknown element type 'q9'") == 0);
  CHECK(err("graph @g(%x: tensor<2xf32>) -> (\"y\": tensor<2xf32>) {\n  %y = onnx.Relu(%x, %x) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>\n  return %y\n}\n")
            .find("onnx.Relu takes 1 operands, got 2") != std::string::npos);
  CHECK(err("graph @g(%x: tensor<2xf32>) -> (\"y\": tensor<2xf32>) {\n  %x = onnx.Relu(%x) : (tensor<2xf32>) -> tensor<2xf32>\n  return %x\n}\n")
            .find("redefinition of value '%x'") != std::string::npos);
  CHECK(err("graph @g(%x: tensor<2xf32>) -> (\"y\": tensor<2xf32>) {\n  %y = onnx.Relu(%x) : (tensor<3xf32>) -> tensor<2xf32>\n  return %y\n}\n")
            .find("operand '%x' has type tensor<2xf32>, but the op's type list says tensor<3xf32>") != std::string::npos);
}

TEST_CASE("the parser never crashes on truncated or mutated text", "[ir][fuzz]") {
  std::string text = kSample;
  for (size_t len = 0; len + 1 < text.size(); ++len) { // all but the optional final newline
    Expected<std::unique_ptr<Module>> m = parseModule(std::string_view(text).substr(0, len), "t.ir");
    CHECK_FALSE(m.isOk()); // every strict prefix is incomplete
  }
  std::mt19937 rng(99);
  const char alphabet[] = "%@\"(){}[]<>:,=x?*0123456789.-eafinonnx \n\\";
  for (int trial = 0; trial < 3000; ++trial) {
    std::string mutated = text;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      size_t pos = rng() % mutated.size();
      switch (rng() % 3) {
      case 0: mutated[pos] = alphabet[rng() % (sizeof alphabet - 1)]; break;
      case 1: mutated.erase(pos, 1 + rng() % 8); break;
      default: mutated.insert(pos, 1, alphabet[rng() % (sizeof alphabet - 1)]); break;
      }
      if (mutated.empty())
        mutated = "x";
    }
    Expected<std::unique_ptr<Module>> m = parseModule(mutated, "t.ir");
    if (m.isOk())
      CHECK(verifyModule(**m).isOk()); // whatever parses is valid IR
  }
}
