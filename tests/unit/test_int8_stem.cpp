// The INT8 stem form of infc.conv (quantize-int8-stem; ir/InfcAttrs.h) on the reference
// interpreter: reading the NCHW image itself (x_layout, x_dtype) computes exactly what the
// layout_cast it replaces followed by the NHWC stem form computes, bit for bit.
#include "ir/Interpreter.h"
#include "ir/Parser.h"

#include <catch2/catch.hpp>

#include <random>

using namespace infc;

namespace {

const char *kConstants = R"(
  %w = onnx.Constant() {value = dense<"0x4F96AEBDAF4D5E158B99D5EF1FFBC4A9313C899DF4E46304ECEE2A16AD3D417449C9D22626325ECB7081947971CDA4D18B642916BFF9B146F988C13505E0C1981C29056E6DB51C21C0CDFD3ECB3927B8E3545728822FBA5269EE7542D461E39B185928E567FBE3A6B7334CCB215FA6C70610E6E6A11D6EB34CAE8C3FAF40D511706BFAB5C05917AC62767820791B00781B49D74A798E09DF8E96C5B237B7205BFFA191CCEAFECE5911776F3587B73F0B7135528ECC2E22DEA917972B4D2B9106CE0E2EB38AFF1FA06CFB77093A46FFE52B851E07A7B5893E2FE474E2CF6895E587D93AD9FEFB9098CD0C936B5B103B3E83728D57553EA350755231C10EFB5ED8E9C3FD12F6D20D1EAB15359B1EF16EE4D1355E979CACD80311E8622AABD5B3B3"> : tensor<8x3x3x4xi8>} : () -> tensor<8x3x3x4xi8>
  %s = onnx.Constant() {value = dense<[0.0037955362, 0.0017316894, 0.0014411929, 0.0018396825, 0.0020191732, 0.001675348, 0.0026089493, 0.0038108015]> : tensor<8xf32>} : () -> tensor<8xf32>
  %b = onnx.Constant() {value = dense<[-1.4959246, -0.33934155, 0.6726298, 1.53886, 1.9992121, -1.4254522, 0.1491909, 1.5248021]> : tensor<8xf32>} : () -> tensor<8xf32>
)";

} // namespace

TEST_CASE("INT8 stem form: x_layout nchw equals layout_cast then the nhwc form", "[interp][int8]") {
  std::string attrs = R"(act = "relu", dilations = [1, 1], layout = "nhwc", pads = [1, 1, 1, 1], pool_kernel = [3, 3], )"
                      R"(pool_pads = [1, 1, 1, 1], pool_strides = [2, 2], strides = [2, 2], x_scale = 0.013)";
  std::string text = "graph @cast(%x: tensor<2x3x13x11xf32>) -> (\"y\": tensor<2x4x3x8xi8>) {" + std::string(kConstants) +
                     "  %h = infc.layout_cast(%x) {dtype = \"f16\", from = \"nchw\", pad_channels = 1, to = \"nhwc\"} : "
                     "(tensor<2x3x13x11xf32>) -> tensor<2x13x11x4xf16>\n"
                     "  %y = infc.conv(%h, %w, %b, none, %s) {" + attrs + "} : (tensor<2x13x11x4xf16>, tensor<8x3x3x4xi8>, "
                     "tensor<8xf32>, none, tensor<8xf32>) -> tensor<2x4x3x8xi8>\n  return %y\n}\n"
                     "graph @fold(%x: tensor<2x3x13x11xf32>) -> (\"y\": tensor<2x4x3x8xi8>) {" + std::string(kConstants) +
                     "  %y = infc.conv(%x, %w, %b, none, %s) {" + attrs + R"(, x_dtype = "f16", x_layout = "nchw"} : )"
                     "(tensor<2x3x13x11xf32>, tensor<8x3x3x4xi8>, tensor<8xf32>, none, tensor<8xf32>) -> tensor<2x4x3x8xi8>\n"
                     "  return %y\n}\n";
  Expected<std::unique_ptr<Module>> m = parseModule(text, "stem.ir");
  REQUIRE(m.isOk());
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> d(-2, 2);
  Tensor x(DType::F32, {2, 3, 13, 11});
  for (int64_t i = 0; i < x.numElements(); ++i)
    x.setDouble(i, d(rng));
  Expected<std::vector<Tensor>> a = interpret(*(*m)->findGraph("cast"), {x});
  Expected<std::vector<Tensor>> b = interpret(*(*m)->findGraph("fold"), {x});
  REQUIRE(a.isOk());
  REQUIRE(b.isOk());
  REQUIRE(a->at(0).shape() == b->at(0).shape());
  int64_t differ = 0, nonzero = 0;
  for (int64_t i = 0; i < a->at(0).numElements(); ++i) {
    differ += a->at(0).getDouble(i) != b->at(0).getDouble(i);
    nonzero += a->at(0).getDouble(i) != 0;
  }
  CHECK(differ == 0);
  CHECK(nonzero > a->at(0).numElements() / 2); // not a degenerate all-zero result
}
