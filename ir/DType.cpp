#include "ir/DType.h"

#include <algorithm>

#include <cmath>
#include <limits>

namespace infc {

namespace {
struct DTypeInfo {
  DType type;
  std::string_view name;
  size_t size;
};
constexpr DTypeInfo kInfos[] = {
    {DType::F32, "f32", 4},    {DType::U8, "u8", 1},     {DType::I8, "i8", 1},
    {DType::U16, "u16", 2},    {DType::I16, "i16", 2},   {DType::I32, "i32", 4},
    {DType::I64, "i64", 8},    {DType::String, "string", 0}, {DType::Bool, "bool", 1},
    {DType::F16, "f16", 2},    {DType::F64, "f64", 8},   {DType::U32, "u32", 4},
    {DType::U64, "u64", 8},    {DType::BF16, "bf16", 2}, {DType::F8E4M3, "f8e4m3", 1},
    {DType::F8E5M2, "f8e5m2", 1},
};
} // namespace

std::string_view dtypeName(DType t) {
  for (const auto &i : kInfos)
    if (i.type == t)
      return i.name;
  return "undefined";
}

std::optional<DType> parseDType(std::string_view name) {
  for (const auto &i : kInfos)
    if (i.name == name)
      return i.type;
  return std::nullopt;
}

std::optional<DType> dtypeFromOnnx(int32_t onnxType) {
  for (const auto &i : kInfos)
    if (static_cast<int32_t>(i.type) == onnxType && i.type != DType::String)
      return i.type;
  return std::nullopt;
}

size_t dtypeSize(DType t) {
  for (const auto &i : kInfos)
    if (i.type == t)
      return i.size;
  return 0;
}

bool isFloat(DType t) {
  switch (t) {
  case DType::F16: case DType::BF16: case DType::F32: case DType::F64:
  case DType::F8E4M3: case DType::F8E5M2:
    return true;
  default:
    return false;
  }
}

bool isInteger(DType t) {
  switch (t) {
  case DType::U8: case DType::I8: case DType::U16: case DType::I16: case DType::I32:
  case DType::I64: case DType::U32: case DType::U64:
    return true;
  default:
    return false;
  }
}

bool isSigned(DType t) {
  switch (t) {
  case DType::I8: case DType::I16: case DType::I32: case DType::I64:
    return true;
  default:
    return isFloat(t);
  }
}

static uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
static float floatOf(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0) {
    if (mant == 0)
      return floatOf(sign);
    // Subnormal: value = mant * 2^-24.
    float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31)
    return floatOf(sign | 0x7f800000u | (mant << 13));
  return floatOf(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t floatToHalf(float f) {
  uint32_t x = bitsOf(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t absx = x & 0x7fffffffu;
  if (absx > 0x7f800000u) // NaN: keep quiet NaN
    return static_cast<uint16_t>(sign | 0x7e00u);
  if (absx >= 0x477ff000u) // rounds to >= 65520 -> inf
    return static_cast<uint16_t>(sign | 0x7c00u);
  if (absx < 0x38800000u) { // below smallest normal half (2^-14): subnormal or zero
    float a = floatOf(absx);
    // Round a / 2^-24 to nearest even integer.
    float scaled = a * 16777216.0f; // exact in float for this range
    float r = std::nearbyint(scaled);
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(r));
  }
  uint32_t mant = absx & 0x7fffffu;
  uint32_t exp = (absx >> 23) - 112;
  uint32_t h = (exp << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
    ++h;
  return static_cast<uint16_t>(sign | h);
}

float bf16ToFloat(uint16_t b) { return floatOf(static_cast<uint32_t>(b) << 16); }

uint16_t floatToBf16(float f) {
  uint32_t x = bitsOf(f);
  if ((x & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((x >> 16) | 0x40u);
  uint32_t lsb = (x >> 16) & 1u;
  x += 0x7fffu + lsb;
  return static_cast<uint16_t>(x >> 16);
}

// Generic small-float decode: 1 sign bit, E exponent bits, M mantissa bits, bias.
static float decodeSmall(uint8_t v, int ebits, int mbits, int bias) {
  int sign = (v >> 7) & 1;
  int exp = (v >> mbits) & ((1 << ebits) - 1);
  int mant = v & ((1 << mbits) - 1);
  float r;
  if (exp == 0)
    r = std::ldexp(static_cast<float>(mant), 1 - bias - mbits);
  else
    r = std::ldexp(static_cast<float>(mant + (1 << mbits)), exp - bias - mbits);
  return sign ? -r : r;
}

float f8e4m3ToFloat(uint8_t v) {
  if ((v & 0x7f) == 0x7f)
    return std::numeric_limits<float>::quiet_NaN();
  return decodeSmall(v, 4, 3, 7);
}

float f8e5m2ToFloat(uint8_t v) {
  int exp = (v >> 2) & 0x1f;
  if (exp == 0x1f) {
    if (v & 3)
      return std::numeric_limits<float>::quiet_NaN();
    return (v & 0x80) ? -std::numeric_limits<float>::infinity()
                      : std::numeric_limits<float>::infinity();
  }
  return decodeSmall(v, 5, 2, 15);
}

// Encode to the nearest representable value, ties to the even code, saturating at maxCode:
// the codes 0..maxCode decode to ascending non-negative values, so a binary search over their
// decoded table finds the neighbours (the weights of a BERT are 85M encodes).
static uint8_t encodeNearest(float f, float (*decode)(uint8_t), uint8_t maxCode) {
  struct Table {
    float v[128];
  };
  static const Table e4m3 = [] { Table t{}; for (unsigned c = 0; c < 128; ++c) t.v[c] = f8e4m3ToFloat(static_cast<uint8_t>(c)); return t; }();
  static const Table e5m2 = [] { Table t{}; for (unsigned c = 0; c < 128; ++c) t.v[c] = f8e5m2ToFloat(static_cast<uint8_t>(c)); return t; }();
  const float *table = decode == f8e4m3ToFloat ? e4m3.v : e5m2.v;
  uint8_t sign = std::signbit(f) ? 0x80 : 0;
  float a = std::fabs(f);
  const float *end = table + maxCode + 1;
  const float *it = std::lower_bound(table, end, a); // the first value >= a
  unsigned best;
  if (it == end) {
    best = maxCode;
  } else if (it == table) {
    best = 0;
  } else {
    unsigned hi = static_cast<unsigned>(it - table), lo = hi - 1;
    float dHi = table[hi] - a, dLo = a - table[lo];
    best = dLo < dHi ? lo : dHi < dLo ? hi : ((lo & 1u) == 0 ? lo : hi);
  }
  return static_cast<uint8_t>(sign | best);
}

uint8_t floatToF8e4m3(float f) {
  if (std::isnan(f))
    return 0x7f;
  return encodeNearest(f, f8e4m3ToFloat, 0x7e); // saturating: max finite 448
}

uint8_t floatToF8e5m2(float f) {
  if (std::isnan(f))
    return 0x7f;
  if (std::isinf(f))
    return f > 0 ? 0x7c : 0xfc;
  return encodeNearest(f, f8e5m2ToFloat, 0x7b);
}

} // namespace infc
