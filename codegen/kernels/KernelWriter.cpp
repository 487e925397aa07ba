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
            std::vector<const Value *> ins, std::vector<const Value *> outs) {
  k.source = src.str();
  launch1D(k, n);
  ctx.addKernel(op, std::move(k), std::move(ins), std::move(outs));
}

} // namespace infc::codegen
