// Element types. Numbering follows ONNX TensorProto.DataType so the importer maps 1:1.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace infc {

enum class DType : int32_t {
  Undefined = 0,
  F32 = 1,
  U8 = 2,
  I8 = 3,
  U16 = 4,
  I16 = 5,
  I32 = 6,
  I64 = 7,
  String = 8,
  Bool = 9,
  F16 = 10,
  F64 = 11,
  U32 = 12,
  U64 = 13,
  BF16 = 16,
  F8E4M3 = 17, ///< float8e4m3fn
  F8E5M2 = 19,
};

/// Short IR spelling: f32, f16, bf16, i8, ..., bool, f8e4m3.
std::string_view dtypeName(DType t);
/// Parses the IR spelling; nullopt if unknown.
std::optional<DType> parseDType(std::string_view name);
/// Maps an ONNX TensorProto.DataType number; nullopt for unsupported types (string, complex, ...).
std::optional<DType> dtypeFromOnnx(int32_t onnxType);
/// Size in bytes of one element (0 for String/Undefined).
size_t dtypeSize(DType t);
bool isFloat(DType t);    ///< f16, bf16, f32, f64, f8*
bool isInteger(DType t);  ///< signed or unsigned integers, not bool
bool isSigned(DType t);   ///< signed integers and floats

// ---- Scalar conversions for reduced-precision floats (round to nearest even). ----
float halfToFloat(uint16_t h);
uint16_t floatToHalf(float f);
float bf16ToFloat(uint16_t b);
uint16_t floatToBf16(float f);
float f8e4m3ToFloat(uint8_t v);
uint8_t floatToF8e4m3(float f); ///< saturates to +-448
float f8e5m2ToFloat(uint8_t v);
uint8_t floatToF8e5m2(float f);

} // namespace infc
