// Reference kernels for elementwise ops. Floats compute in double and round once on store;
// integers compute in int64 with the ONNX (numpy) semantics noted per op.
#include "ir/interp/KernelUtil.h"

#include <cmath>
#include <functional>
#include <limits>

namespace infc::interp {

namespace {

using DFn = std::function<double(double)>;
using IFn = std::function<int64_t(int64_t)>;

Status unaryOp(EvalContext &ctx, const DFn &f, const IFn &fi = nullptr, std::optional<DType> outType = std::nullopt) {
  const Tensor &x = ctx.input(0);
  DType dt = x.dtype();
  Tensor out(outType.value_or(dt), x.shape());
  int64_t n = x.numElements();
  if (isFloat(dt)) {
    if (dt == DType::F32 && out.dtype() == DType::F32) {
      const float *p = x.data<float>();
      float *q = out.mutableData<float>();
      for (int64_t i = 0; i < n; ++i)
        q[i] = static_cast<float>(f(p[i]));
    } else {
      for (int64_t i = 0; i < n; ++i)
        out.setDouble(i, f(x.getDouble(i)));
    }
  } else if (fi) {
    for (int64_t i = 0; i < n; ++i)
      out.setInt(i, fi(x.getInt(i)));
  } else {
    return Status(StatusCode::Unsupported,
                  ctx.op().describe() + ": " + std::string(ctx.op().name()) + " on " + std::string(dtypeName(dt)) + " is not supported");
  }
  ctx.setOutput(0, std::move(out));
  return Status::ok();
}

Expected<float> attrF(const EvalContext &ctx, const char *name, float dflt) { return ctx.attrs().getFloat(name, dflt); }

/// Broadcasting binary op: f for floats (double), fi for integers, result dtype `outType`.
template <typename FD, typename FI>
Status binaryOp(EvalContext &ctx, FD f, FI fi, std::optional<DType> outType = std::nullopt, bool intAllowed = true) {
  const Tensor &a = ctx.input(0), &b = ctx.input(1);
  Expected<std::vector<int64_t>> shape = broadcastShapes(a.shape(), b.shape());
  if (!shape.isOk())
    return ctx.error(shape.status().message());
  DType dt = outType.value_or(a.dtype());
  Tensor out(dt, *shape);
  bool floatMath = isFloat(a.dtype()) || isFloat(b.dtype());
  if (!floatMath && !intAllowed)
    return Status(StatusCode::Unsupported, ctx.op().describe() + ": integer inputs are not supported");
  if (a.shape() == b.shape() && a.dtype() == DType::F32 && b.dtype() == DType::F32 && dt == DType::F32) {
    const float *p = a.data<float>(), *q = b.data<float>();
    float *o = out.mutableData<float>();
    for (int64_t i = 0; i < out.numElements(); ++i)
      o[i] = static_cast<float>(f(static_cast<double>(p[i]), static_cast<double>(q[i])));
    ctx.setOutput(0, std::move(out));
    return Status::ok();
  }
  IndexWalker w(*shape, {broadcastStrides(a.shape(), *shape), broadcastStrides(b.shape(), *shape)});
  for (int64_t i = 0; !w.done(); w.next(), ++i) {
    if (floatMath) {
      double r = f(a.getDouble(w.offset(0)), b.getDouble(w.offset(1)));
      out.setDouble(i, r);
    } else {
      out.setInt(i, fi(a.getInt(w.offset(0)), b.getInt(w.offset(1))));
    }
  }
  ctx.setOutput(0, std::move(out));
  return Status::ok();
}

/// Variadic broadcast fold (Max, Min, Sum, Mean).
template <typename FD, typename FI> Status variadicOp(EvalContext &ctx, FD f, FI fi, bool mean = false) {
  std::vector<int64_t> shape = ctx.input(0).shape();
  for (size_t i = 1; i < ctx.numInputs(); ++i) {
    Expected<std::vector<int64_t>> s = broadcastShapes(shape, ctx.input(i).shape());
    if (!s.isOk())
      return ctx.error(s.status().message());
    shape = *s;
  }
  DType dt = ctx.input(0).dtype();
  Tensor out(dt, shape);
  std::vector<std::vector<int64_t>> strides;
  for (size_t i = 0; i < ctx.numInputs(); ++i)
    strides.push_back(broadcastStrides(ctx.input(i).shape(), shape));
  IndexWalker w(shape, strides);
  bool fl = isFloat(dt);
  for (int64_t o = 0; !w.done(); w.next(), ++o) {
    if (fl) {
      double acc = ctx.input(0).getDouble(w.offset(0));
      for (size_t i = 1; i < ctx.numInputs(); ++i)
        acc = f(acc, ctx.input(i).getDouble(w.offset(i)));
      out.setDouble(o, mean ? acc / static_cast<double>(ctx.numInputs()) : acc);
    } else {
      int64_t acc = ctx.input(0).getInt(w.offset(0));
      for (size_t i = 1; i < ctx.numInputs(); ++i)
        acc = fi(acc, ctx.input(i).getInt(w.offset(i)));
      out.setInt(o, mean ? acc / static_cast<int64_t>(ctx.numInputs()) : acc);
    }
  }
  ctx.setOutput(0, std::move(out));
  return Status::ok();
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

} // namespace

// ---------------------------------------------------------------- unary
Status evalAbs(EvalContext &c) { return unaryOp(c, [](double x) { return std::fabs(x); }, [](int64_t x) { return x < 0 ? -x : x; }); }
Status evalAcos(EvalContext &c) { return unaryOp(c, [](double x) { return std::acos(x); }); }
Status evalAcosh(EvalContext &c) { return unaryOp(c, [](double x) { return std::acosh(x); }); }
Status evalAsin(EvalContext &c) { return unaryOp(c, [](double x) { return std::asin(x); }); }
Status evalAsinh(EvalContext &c) { return unaryOp(c, [](double x) { return std::asinh(x); }); }
Status evalAtan(EvalContext &c) { return unaryOp(c, [](double x) { return std::atan(x); }); }
Status evalAtanh(EvalContext &c) { return unaryOp(c, [](double x) { return std::atanh(x); }); }
Status evalCeil(EvalContext &c) { return unaryOp(c, [](double x) { return std::ceil(x); }); }
Status evalCos(EvalContext &c) { return unaryOp(c, [](double x) { return std::cos(x); }); }
Status evalCosh(EvalContext &c) { return unaryOp(c, [](double x) { return std::cosh(x); }); }
Status evalErf(EvalContext &c) { return unaryOp(c, [](double x) { return std::erf(x); }); }
Status evalExp(EvalContext &c) { return unaryOp(c, [](double x) { return std::exp(x); }); }
Status evalFloor(EvalContext &c) { return unaryOp(c, [](double x) { return std::floor(x); }); }
Status evalLog(EvalContext &c) { return unaryOp(c, [](double x) { return std::log(x); }); }
Status evalNeg(EvalContext &c) { return unaryOp(c, [](double x) { return -x; }, [](int64_t x) { return -x; }); }
Status evalReciprocal(EvalContext &c) { return unaryOp(c, [](double x) { return 1.0 / x; }); }
Status evalRelu(EvalContext &c) { return unaryOp(c, [](double x) { return x < 0 ? 0.0 : x; }, [](int64_t x) { return x < 0 ? 0 : x; }); }
Status evalRound(EvalContext &c) { return unaryOp(c, [](double x) { return std::nearbyint(x); }); }
Status evalSigmoid(EvalContext &c) { return unaryOp(c, sigmoid); }
Status evalSign(EvalContext &c) {
  return unaryOp(c, [](double x) { return std::isnan(x) ? x : static_cast<double>((x > 0) - (x < 0)); },
                 [](int64_t x) { return static_cast<int64_t>((x > 0) - (x < 0)); });
}
Status evalSin(EvalContext &c) { return unaryOp(c, [](double x) { return std::sin(x); }); }
Status evalSinh(EvalContext &c) { return unaryOp(c, [](double x) { return std::sinh(x); }); }
Status evalSoftplus(EvalContext &c) { return unaryOp(c, [](double x) { return std::log(std::exp(x) + 1.0); }); }
Status evalSoftsign(EvalContext &c) { return unaryOp(c, [](double x) { return x / (1.0 + std::fabs(x)); }); }
Status evalSqrt(EvalContext &c) { return unaryOp(c, [](double x) { return std::sqrt(x); }); }
Status evalTan(EvalContext &c) { return unaryOp(c, [](double x) { return std::tan(x); }); }
Status evalTanh(EvalContext &c) { return unaryOp(c, [](double x) { return std::tanh(x); }); }
Status evalMish(EvalContext &c) { return unaryOp(c, [](double x) { return x * std::tanh(std::log1p(std::exp(x))); }); }
Status evalHardSwish(EvalContext &c) {
  return unaryOp(c, [](double x) { return x * std::max(0.0, std::min(1.0, x / 6.0 + 0.5)); });
}
Status evalIsNaN(EvalContext &c) { return unaryOp(c, [](double x) { return std::isnan(x) ? 1.0 : 0.0; }, nullptr, DType::Bool); }
Status evalIsInf(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(int64_t neg, c.attrs().getInt("detect_negative", 1));
  INFC_ASSIGN_OR_RETURN(int64_t pos, c.attrs().getInt("detect_positive", 1));
  return unaryOp(c, [=](double x) { return (std::isinf(x) && ((x > 0 && pos) || (x < 0 && neg))) ? 1.0 : 0.0; }, nullptr,
                 DType::Bool);
}
Status evalNot(EvalContext &c) { return unaryOp(c, nullptr, [](int64_t x) { return static_cast<int64_t>(x == 0); }); }
Status evalCelu(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(float a, attrF(c, "alpha", 1.0f));
  double al = a;
  return unaryOp(c, [=](double x) { return std::max(0.0, x) + std::min(0.0, al * (std::exp(x / al) - 1.0)); });
}
Status evalElu(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(float a, attrF(c, "alpha", 1.0f));
  return unaryOp(c, [=](double x) { return x < 0 ? a * (std::exp(x) - 1.0) : x; });
}
Status evalGelu(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(std::string approx, c.attrs().getString("approximate", "none"));
  if (approx == "tanh")
    return unaryOp(c, [](double x) {
      return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    });
  if (approx != "none")
    return c.error("approximate must be 'none' or 'tanh', got '" + approx + "'");
  return unaryOp(c, [](double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); });
}
Status evalHardSigmoid(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(float a, attrF(c, "alpha", 0.2f));
  INFC_ASSIGN_OR_RETURN(float b, attrF(c, "beta", 0.5f));
  return unaryOp(c, [=](double x) { return std::max(0.0, std::min(1.0, a * x + b)); });
}
Status evalLeakyRelu(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(float a, attrF(c, "alpha", 0.01f));
  return unaryOp(c, [=](double x) { return x < 0 ? a * x : x; });
}
Status evalSelu(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(float a, attrF(c, "alpha", 1.67326319217681884765625f));
  INFC_ASSIGN_OR_RETURN(float g, attrF(c, "gamma", 1.05070102214813232421875f));
  return unaryOp(c, [=](double x) { return x > 0 ? g * x : g * (a * std::exp(x) - a); });
}
Status evalShrink(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(float bias, attrF(c, "bias", 0.0f));
  INFC_ASSIGN_OR_RETURN(float lambd, attrF(c, "lambd", 0.5f));
  return unaryOp(
      c, [=](double x) { return x < -lambd ? x + bias : (x > lambd ? x - bias : 0.0); },
      [=](int64_t x) {
        return static_cast<int64_t>(x < -lambd ? x + bias : (x > lambd ? x - bias : 0.0));
      });
}
Status evalThresholdedRelu(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(float a, attrF(c, "alpha", 1.0f));
  return unaryOp(c, [=](double x) { return x > a ? x : 0.0; });
}

// ---------------------------------------------------------------- binary
Status evalAdd(EvalContext &c) { return binaryOp(c, [](double a, double b) { return a + b; }, [](int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b)); }); }
Status evalSub(EvalContext &c) { return binaryOp(c, [](double a, double b) { return a - b; }, [](int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b)); }); }
Status evalMul(EvalContext &c) { return binaryOp(c, [](double a, double b) { return a * b; }, [](int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b)); }); }
Status evalDiv(EvalContext &c) {
  // Integer division truncates toward zero (numpy divide then astype); x / 0 gives 0 rather than a
  // trap, and INT64_MIN / -1 wraps to INT64_MIN (two's complement negation) instead of trapping.
  return binaryOp(c, [](double a, double b) { return a / b; }, [](int64_t a, int64_t b) {
    if (b == 0)
      return int64_t(0);
    if (b == -1)
      return static_cast<int64_t>(0 - static_cast<uint64_t>(a));
    return a / b;
  });
}
Status evalMod(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(int64_t fm, c.attrs().getInt("fmod", 0));
  if (fm)
    return binaryOp(c, [](double a, double b) { return std::fmod(a, b); },
                    [](int64_t a, int64_t b) { return b == 0 || b == -1 ? int64_t(0) : a % b; });
  return binaryOp(
      c,
      [](double a, double b) {
        double r = std::fmod(a, b);
        return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
      },
      [](int64_t a, int64_t b) {
        if (b == 0 || b == -1) // x mod -1 is 0; INT64_MIN % -1 would trap
          return int64_t(0);
        int64_t r = a % b;
        return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
      });
}
Status evalPow(EvalContext &c) {
  const Tensor &a = c.input(0), &b = c.input(1);
  Expected<std::vector<int64_t>> shape = broadcastShapes(a.shape(), b.shape());
  if (!shape.isOk())
    return c.error(shape.status().message());
  Tensor out(a.dtype(), *shape);
  IndexWalker w(*shape, {broadcastStrides(a.shape(), *shape), broadcastStrides(b.shape(), *shape)});
  for (int64_t i = 0; !w.done(); w.next(), ++i) {
    if (isFloat(a.dtype())) {
      out.setDouble(i, std::pow(a.getDouble(w.offset(0)), b.getDouble(w.offset(1))));
    } else {
      // Integer base: exact repeated multiplication (numpy int power).
      int64_t base = a.getInt(w.offset(0));
      double e = b.getDouble(w.offset(1));
      if (isFloat(b.dtype()) && e != std::floor(e)) {
        out.setInt(i, static_cast<int64_t>(std::pow(static_cast<double>(base), e)));
        continue;
      }
      int64_t exp = static_cast<int64_t>(e), r = 1;
      if (exp < 0) {
        r = base == 1 ? 1 : (base == -1 ? (exp % 2 ? -1 : 1) : 0);
      } else {
        for (int64_t k = 0; k < exp; ++k)
          r = static_cast<int64_t>(static_cast<uint64_t>(r) * static_cast<uint64_t>(base));
      }
      out.setInt(i, r);
    }
  }
  c.setOutput(0, std::move(out));
  return Status::ok();
}
Status evalPRelu(EvalContext &c) {
  return binaryOp(c, [](double x, double s) { return x < 0 ? s * x : x; }, [](int64_t x, int64_t s) { return x < 0 ? s * x : x; });
}
Status evalBitShift(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(std::string dir, c.attrs().getString("direction"));
  bool left = dir == "LEFT";
  if (!left && dir != "RIGHT")
    return c.error("direction must be LEFT or RIGHT, got '" + dir + "'");
  return binaryOp(c, [](double, double) { return 0.0; }, [=](int64_t a, int64_t b) {
    uint64_t u = static_cast<uint64_t>(a);
    if (b >= 64 || b < 0)
      return int64_t(0);
    return static_cast<int64_t>(left ? u << b : u >> b);
  });
}
Status evalAnd(EvalContext &c) { return binaryOp(c, [](double, double) { return 0.0; }, [](int64_t a, int64_t b) { return static_cast<int64_t>(a && b); }); }
Status evalOr(EvalContext &c) { return binaryOp(c, [](double, double) { return 0.0; }, [](int64_t a, int64_t b) { return static_cast<int64_t>(a || b); }); }
Status evalXor(EvalContext &c) { return binaryOp(c, [](double, double) { return 0.0; }, [](int64_t a, int64_t b) { return static_cast<int64_t>((a != 0) != (b != 0)); }); }

#define INFC_COMPARE(Name, OP)                                                                                         \
  Status eval##Name(EvalContext &c) {                                                                                  \
    return binaryOp(c, [](double a, double b) { return (a OP b) ? 1.0 : 0.0; },                                        \
                    [&c](int64_t a, int64_t b) {                                                                       \
                      if (c.input(0).dtype() == DType::U64)                                                            \
                        return static_cast<int64_t>(static_cast<uint64_t>(a) OP static_cast<uint64_t>(b));             \
                      return static_cast<int64_t>(a OP b);                                                             \
                    },                                                                                                 \
                    DType::Bool);                                                                                      \
  }
INFC_COMPARE(Equal, ==)
INFC_COMPARE(Greater, >)
INFC_COMPARE(GreaterOrEqual, >=)
INFC_COMPARE(Less, <)
INFC_COMPARE(LessOrEqual, <=)
#undef INFC_COMPARE

Status evalMax(EvalContext &c) {
  return variadicOp(c, [](double a, double b) { return (std::isnan(a) || a > b) ? a : b; },
                    [](int64_t a, int64_t b) { return a > b ? a : b; });
}
Status evalMin(EvalContext &c) {
  return variadicOp(c, [](double a, double b) { return (std::isnan(a) || a < b) ? a : b; },
                    [](int64_t a, int64_t b) { return a < b ? a : b; });
}
Status evalSum(EvalContext &c) {
  return variadicOp(c, [](double a, double b) { return a + b; }, [](int64_t a, int64_t b) { return a + b; });
}
Status evalMean(EvalContext &c) {
  return variadicOp(c, [](double a, double b) { return a + b; }, [](int64_t a, int64_t b) { return a + b; }, true);
}

// ---------------------------------------------------------------- others
Status evalClip(EvalContext &c) {
  const Tensor &x = c.input(0);
  Tensor out(x.dtype(), x.shape());
  bool fl = isFloat(x.dtype());
  bool hasMin = c.hasInput(1) && c.input(1).numElements() > 0, hasMax = c.hasInput(2) && c.input(2).numElements() > 0;
  for (int64_t i = 0; i < x.numElements(); ++i) {
    if (fl) {
      double v = x.getDouble(i);
      if (hasMin && v < c.input(1).getDouble(0))
        v = c.input(1).getDouble(0);
      if (hasMax && v > c.input(2).getDouble(0))
        v = c.input(2).getDouble(0);
      out.setDouble(i, v);
    } else {
      int64_t v = x.getInt(i);
      if (hasMin && v < c.input(1).getInt(0))
        v = c.input(1).getInt(0);
      if (hasMax && v > c.input(2).getInt(0))
        v = c.input(2).getInt(0);
      out.setInt(i, v);
    }
  }
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status evalWhere(EvalContext &c) {
  const Tensor &cond = c.input(0), &x = c.input(1), &y = c.input(2);
  Expected<std::vector<int64_t>> s1 = broadcastShapes(cond.shape(), x.shape());
  if (!s1.isOk())
    return c.error(s1.status().message());
  Expected<std::vector<int64_t>> s = broadcastShapes(*s1, y.shape());
  if (!s.isOk())
    return c.error(s.status().message());
  Tensor out(x.dtype(), *s);
  IndexWalker w(*s, {broadcastStrides(cond.shape(), *s), broadcastStrides(x.shape(), *s), broadcastStrides(y.shape(), *s)});
  size_t esize = dtypeSize(x.dtype());
  std::byte *o = out.mutableBytes();
  for (int64_t i = 0; !w.done(); w.next(), ++i) {
    const Tensor &src = cond.getInt(w.offset(0)) ? x : y;
    int64_t off = cond.getInt(w.offset(0)) ? w.offset(1) : w.offset(2);
    std::memcpy(o + static_cast<size_t>(i) * esize, src.bytes() + static_cast<size_t>(off) * esize, esize);
  }
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status evalCast(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(int64_t to, c.attrs().getInt("to"));
  std::optional<DType> dt = dtypeFromOnnx(static_cast<int32_t>(to));
  if (!dt)
    return Status(StatusCode::Unsupported, c.op().describe() + ": Cast to type " + std::to_string(to) + " is not supported");
  c.setOutput(0, c.input(0).castTo(*dt));
  return Status::ok();
}

Status evalCastLike(EvalContext &c) {
  c.setOutput(0, c.input(0).castTo(c.input(1).dtype()));
  return Status::ok();
}

namespace {
/// Index of the quantization parameter for element i (per-tensor or per-axis).
struct QuantParams {
  int64_t axis = 1;
  bool perAxis = false;
  int64_t inner = 1, dim = 1;
  int64_t index(int64_t i) const { return perAxis ? (i / inner) % dim : 0; }
};
Expected<QuantParams> quantParams(const EvalContext &c, const Tensor &x, const Tensor &scale) {
  QuantParams q;
  INFC_ASSIGN_OR_RETURN(int64_t blockSize, c.attrs().getInt("block_size", 0));
  if (blockSize != 0)
    return Status(StatusCode::Unsupported, c.op().describe() + ": blocked quantization (block_size) is not supported");
  if (scale.numElements() <= 1 && scale.rank() <= 1)
    return q;
  INFC_ASSIGN_OR_RETURN(int64_t axis, c.attrs().getInt("axis", 1));
  INFC_ASSIGN_OR_RETURN(axis, normalizeAxis(c, axis, x.rank()));
  q.perAxis = true;
  q.dim = x.dim(axis);
  if (scale.numElements() != q.dim)
    return c.error("per-axis scale has " + std::to_string(scale.numElements()) + " elements, axis dim is " +
                   std::to_string(q.dim));
  for (int64_t d = axis + 1; d < x.rank(); ++d)
    q.inner *= x.dim(d);
  return q;
}
} // namespace

Status evalQuantizeLinear(EvalContext &c) {
  const Tensor &x = c.input(0), &scale = c.input(1);
  DType outT = c.op().result()->type().elem();
  INFC_ASSIGN_OR_RETURN(QuantParams q, quantParams(c, x, scale));
  Tensor out(outT, x.shape());
  double lo = 0, hi = 255;
  switch (outT) {
  case DType::I8: lo = -128; hi = 127; break;
  case DType::U8: lo = 0; hi = 255; break;
  case DType::I16: lo = -32768; hi = 32767; break;
  case DType::U16: lo = 0; hi = 65535; break;
  case DType::I32: lo = -2147483648.0; hi = 2147483647.0; break;
  default: break;
  }
  bool f8 = outT == DType::F8E4M3 || outT == DType::F8E5M2;
  bool f32Div = x.dtype() == DType::F32 ||
                (scale.dtype() == DType::F32 && (x.dtype() == DType::F16 || x.dtype() == DType::BF16));
  for (int64_t i = 0; i < x.numElements(); ++i) {
    int64_t k = q.index(i);
    double zp = c.hasInput(2) ? c.input(2).getDouble(k) : 0.0;
    // Divide in float32 as the ONNX reference does (numpy: x / y_scale of a float32 x, or of a
    // 16-bit x by a float32 scale, is a float32 division), as the GPU kernels do.
    double v = f32Div ? static_cast<double>(static_cast<float>(x.getDouble(i)) / static_cast<float>(scale.getDouble(k)))
                      : x.getDouble(i) / scale.getDouble(k);
    if (f8) {
      out.setDouble(i, v + zp);
      continue;
    }
    v = std::nearbyint(v) + zp;
    out.setInt(i, static_cast<int64_t>(std::min(hi, std::max(lo, v))));
  }
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status evalDequantizeLinear(EvalContext &c) {
  const Tensor &x = c.input(0), &scale = c.input(1);
  INFC_ASSIGN_OR_RETURN(QuantParams q, quantParams(c, x, scale));
  Tensor out(scale.dtype(), x.shape());
  for (int64_t i = 0; i < x.numElements(); ++i) {
    int64_t k = q.index(i);
    double zp = c.hasInput(2) ? c.input(2).getDouble(k) : 0.0;
    out.setDouble(i, (x.getDouble(i) - zp) * scale.getDouble(k));
  }
  c.setOutput(0, std::move(out));
  return Status::ok();
}

} // namespace infc::interp
