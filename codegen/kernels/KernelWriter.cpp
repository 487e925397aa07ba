#include "codegen/kernels/KernelWriter.h"

#include <cmath>
#include <cstdio>

namespace infc::codegen {

std::vector<int64_t> rowMajorStrides(const std::vector<int64_t> &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;)
    s[i - 1] = s[i] * shape[i];
  return s;
}

void beginKernel(std::ostringstream &src, KernelLayer &k, const std::vector<const Value *> &ins,
                 const std::vector<const Value *> &outs, bool noAlias) {
  src << "extern \"C\" __global__ void " << k.function << "(";
  const char *restrict = noAlias ? "* __restrict__ " : "* ";
  bool first = true;
  for (size_t i = 0; i < ins.size(); ++i) {
    src << (first ? "" : ", ") << "const " << cudaStorageType(ins[i]->type().elem()) << restrict << "in" << i;
    k.args.push_back(KernelArg::tensor(ins[i]));
    first = false;
  }
  for (size_t i = 0; i < outs.size(); ++i) {
    src << (first ? "" : ", ") << cudaStorageType(outs[i]->type().elem()) << restrict << "out" << i;
    k.args.push_back(KernelArg::tensor(outs[i]));
    first = false;
  }
  src << ") {\n";
}

const Value *inPlaceOperand(const Operation &op, const LoweringContext &ctx, const std::vector<const Value *> &ins) {
  for (const Value *v : ins)
    if (ctx.canOverwrite(v, op))
      return v;
  return nullptr;
}

std::string vectorMove8(size_t esize, const std::string &to, const std::string &from) {
  // 8 elements are 8, 16 or 32 bytes: one uint2, one uint4 or two uint4.
  switch (esize) {
  case 1: return "*(uint2 *)(" + to + ") = *(const uint2 *)(" + from + ");";
  case 2: return "*(uint4 *)(" + to + ") = *(const uint4 *)(" + from + ");";
  default:
    return "((uint4 *)(" + to + "))[0] = ((const uint4 *)(" + from + "))[0]; ((uint4 *)(" + to + "))[1] = ((const uint4 *)(" +
           from + "))[1];";
  }
}

bool emitVector8(std::ostringstream &src, const std::vector<const Value *> &ins, const Value *out, int64_t n,
                 const std::function<void(const std::vector<std::string> &inputs, const std::string &output)> &element,
                 bool anyCount) {
  auto sizeOk = [](DType t) {
    size_t s = dtypeSize(t);
    return (s == 1 || s == 2 || s == 4) && t != DType::Bool;
  };
  if ((n % 8 != 0 && !anyCount) || n == 0 || !sizeOk(out->type().elem()))
    return false;
  std::vector<int64_t> shape = out->type().staticShape();
  std::vector<bool> whole;
  for (const Value *v : ins) {
    bool same = v->type().staticShape() == shape;
    if (!sizeOk(v->type().elem()) || (!same && *v->type().numElements() != 1))
      return false;
    whole.push_back(same);
  }
  auto move = vectorMove8;
  src << (anyCount ? "  if (" + std::to_string(n) + "LL % 8 == 0 && ((unsigned long long)out0" : "  if (((unsigned long long)out0");
  for (size_t i = 0; i < ins.size(); ++i)
    if (whole[i])
      src << " | (unsigned long long)in" << i;
  if (anyCount)
    src << ") % 16 == 0) {\n    INFC_GRID_STRIDE(c, " << n << "LL / 8) {\n";
  else
    src << ") % 16 == 0) {\n    INFC_GRID_STRIDE(c, " << n / 8 << "LL) {\n";
  std::vector<std::string> inputs;
  for (size_t i = 0; i < ins.size(); ++i) {
    std::string name = "in" + std::to_string(i);
    if (!whole[i]) {
      inputs.push_back(name + "[0]");
      continue;
    }
    std::string buf = "b" + std::to_string(i);
    src << "      __align__(16) " << cudaStorageType(ins[i]->type().elem()) << " " << buf << "[8];\n      "
        << move(dtypeSize(ins[i]->type().elem()), buf, name + " + c * 8") << "\n";
    inputs.push_back(buf + "[e]");
  }
  src << "      __align__(16) " << cudaStorageType(out->type().elem()) << " o[8];\n      #pragma unroll\n"
      << "      for (int e = 0; e < 8; ++e) {\n";
  element(inputs, "o[e]");
  src << "      }\n      " << move(dtypeSize(out->type().elem()), "out0 + c * 8", "o") << "\n    }\n    return;\n  }\n";
  return true;
}

void emitUnravel(std::ostringstream &src, const std::string &flat, const std::vector<int64_t> &shape,
                 const std::string &prefix, const std::string &indent) {
  src << indent << "long long r_" << prefix << " = " << flat << ";\n";
  for (size_t d = shape.size(); d-- > 0;) {
    src << indent << "const long long " << prefix << d << " = r_" << prefix << " % " << shape[d] << "LL; r_" << prefix
        << " /= " << shape[d] << "LL;\n";
  }
  src << indent << "(void)r_" << prefix << ";\n";
}

std::string floatLiteral(double v, bool isDouble) {
  if (std::isnan(v))
    return isDouble ? "__longlong_as_double(0x7ff8000000000000LL)" : "__int_as_float(0x7fc00000)";
  if (std::isinf(v))
    return std::string(v < 0 ? "-" : "") + (isDouble ? "__longlong_as_double(0x7ff0000000000000LL)" : "__int_as_float(0x7f800000)");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".eE") == std::string::npos)
    s += ".0";
  return isDouble ? s : s + "f";
}

void finish(const Operation &op, LoweringContext &ctx, KernelLayer k, std::ostringstream &src, int64_t n,
            std::vector<const Value *> ins, std::vector<const Value *> outs, bool vector8) {
  k.source = src.str();
  if (vector8) { // n / 8 threads (rounded up: the scalar loop strides over the grid when n % 8 != 0)
    launch1D(k, (n + 7) / 8);
    k.gridFrom(0, std::max<int64_t>(n, 1), int64_t(k.block[0]) * 8, 65535LL * 8);
  } else {
    launch1D(k, n);
  }
  ctx.addKernel(op, std::move(k), std::move(ins), std::move(outs));
}

} // namespace infc::codegen
