#include "ir/Printer.h"

#include <charconv>
#include <cmath>
#include <sstream>

namespace infc {

namespace {

bool isBareName(const std::string &s) {
  if (s.empty())
    return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$' || c == '/' || c == '-'))
      return false;
  return true;
}

std::string quote(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      static const char *hex = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string withFloatMarker(std::string s) {
  if (s == "inf" || s == "-inf" || s == "nan" || s == "-nan")
    return s == "-nan" ? "nan" : s;
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return s;
}

bool isBoolOrIntType(DType t) { return t == DType::Bool || isInteger(t); }

std::string printElement(const Tensor &t, int64_t i) {
  switch (t.dtype()) {
  case DType::Bool: return t.getInt(i) ? "true" : "false";
  case DType::F64: return printDouble(t.getDouble(i));
  case DType::U64: return std::to_string(static_cast<uint64_t>(t.getInt(i)));
  default:
    if (isBoolOrIntType(t.dtype()))
      return std::to_string(t.getInt(i));
    return printFloat(static_cast<float>(t.getDouble(i)));
  }
}

std::string printDense(const Tensor &t, const PrintOptions &o) {
  std::string s;
  if (t.numElements() <= 16) {
    s = "dense<[";
    for (int64_t i = 0; i < t.numElements(); ++i)
      s += (i ? ", " : "") + printElement(t, i);
    s += "]>";
  } else if (o.elideLargeConstants) {
    s = "dense<elided: " + std::to_string(t.byteSize()) + " bytes>";
  } else {
    static const char *hex = "0123456789ABCDEF";
    s.reserve(t.byteSize() * 2 + 16);
    s = "dense<\"0x";
    const auto *p = reinterpret_cast<const uint8_t *>(t.bytes());
    for (size_t i = 0; i < t.byteSize(); ++i) {
      s += hex[p[i] >> 4];
      s += hex[p[i] & 0xf];
    }
    s += "\">";
  }
  return s + " : " + TensorType::fromStatic(t.dtype(), t.shape()).str();
}

std::string printLocation(const Location &loc) {
  if (loc.isUnknown())
    return "";
  std::string s = " loc(";
  for (size_t i = 0; i < loc.nodes().size(); ++i) {
    const NodeRef &n = loc.nodes()[i];
    s += (i ? ", " : "") + quote(n.name) + ":" + (n.opType.empty() ? "?" : n.opType) + ":" + std::to_string(n.index);
  }
  return s + ")";
}

std::string typeOf(const Value *v) { return v ? v->type().str() : "none"; }

void printBlockOps(std::ostringstream &os, const Block &b, const PrintOptions &o, const std::string &indent);

void printOpInto(std::ostringstream &os, const Operation &op, const PrintOptions &o, const std::string &indent) {
  os << indent;
  if (op.numResults()) {
    for (size_t i = 0; i < op.numResults(); ++i)
      os << (i ? ", " : "") << printValueRef(op.result(i));
    os << " = ";
  }
  os << op.name() << "(";
  for (size_t i = 0; i < op.numOperands(); ++i)
    os << (i ? ", " : "") << (op.operand(i) ? printValueRef(op.operand(i)) : "none");
  os << ")";
  for (size_t r = 0; r < op.numRegions(); ++r) {
    const Block &b = op.region(r);
    os << " ({\n" << indent << "  ^(";
    for (size_t i = 0; i < b.numArguments(); ++i)
      os << (i ? ", " : "") << printValueRef(b.argument(i)) << ": " << b.argument(i)->type().str();
    os << "):\n";
    printBlockOps(os, b, o, indent + "    ");
    os << indent << "    yield";
    for (size_t i = 0; i < b.yields().size(); ++i)
      os << (i ? ", " : " ") << printValueRef(b.yields()[i]);
    os << "\n" << indent << "})";
  }
  if (!op.attrs().empty()) {
    os << " {";
    bool first = true;
    for (const auto &[name, value] : op.attrs()) {
      os << (first ? "" : ", ") << (isBareName(name) ? name : quote(name)) << " = ";
      const Tensor *t = std::get_if<Tensor>(&value);
      std::optional<std::string> ref;
      if (t && o.constantRef && op.is(OpKind::OnnxConstant) && op.numResults() == 1)
        ref = o.constantRef(*op.result(), *t);
      if (ref)
        os << "dense_ref<" << quote(*ref) << "> : " << TensorType::fromStatic(t->dtype(), t->shape()).str();
      else
        os << printAttribute(value, o);
      first = false;
    }
    os << "}";
  }
  os << " : (";
  for (size_t i = 0; i < op.numOperands(); ++i)
    os << (i ? ", " : "") << typeOf(op.operand(i));
  os << ") -> ";
  if (op.numResults() == 1) {
    os << op.result()->type().str();
  } else {
    os << "(";
    for (size_t i = 0; i < op.numResults(); ++i)
      os << (i ? ", " : "") << op.result(i)->type().str();
    os << ")";
  }
  os << printLocation(op.loc());
}

void printBlockOps(std::ostringstream &os, const Block &b, const PrintOptions &o, const std::string &indent) {
  for (const auto &op : b.ops()) {
    printOpInto(os, *op, o, indent);
    os << "\n";
  }
}

} // namespace

/// Shortest round-tripping text for float or double (to_chars picks the precision of F).
template <typename F> static std::string printShortest(F v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v < 0 ? "-inf" : "inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return withFloatMarker(std::string(buf, r.ptr));
}

std::string printFloat(float v) { return printShortest(v); }
std::string printDouble(double v) { return printShortest(v); }

std::string printValueRef(const Value *v) {
  if (!v)
    return "none";
  return "%" + (isBareName(v->name()) ? v->name() : quote(v->name()));
}

std::string printAttribute(const Attribute &a, const PrintOptions &o) {
  return std::visit(
      [&](const auto &v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          return std::to_string(v);
        } else if constexpr (std::is_same_v<T, float>) {
          return printFloat(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return quote(v);
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          std::string s = "[";
          for (size_t i = 0; i < v.size(); ++i)
            s += (i ? ", " : "") + std::to_string(v[i]);
          return s + "]";
        } else if constexpr (std::is_same_v<T, std::vector<float>>) {
          std::string s = "[";
          for (size_t i = 0; i < v.size(); ++i)
            s += (i ? ", " : "") + printFloat(v[i]);
          return s + "]";
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          std::string s = "[";
          for (size_t i = 0; i < v.size(); ++i)
            s += (i ? ", " : "") + quote(v[i]);
          return s + "]";
        } else {
          return printDense(v, o);
        }
      },
      a);
}

std::string printOp(const Operation &op, const PrintOptions &options) {
  std::ostringstream os;
  printOpInto(os, op, options, "");
  return os.str();
}

std::string printGraph(const Graph &g, const PrintOptions &o) {
  std::ostringstream os;
  os << "graph @" << (isBareName(g.name()) ? g.name() : quote(g.name())) << "(";
  const Block &b = g.body();
  for (size_t i = 0; i < b.numArguments(); ++i)
    os << (i ? ", " : "") << printValueRef(b.argument(i)) << ": " << b.argument(i)->type().str();
  os << ") -> (";
  for (size_t i = 0; i < g.outputs().size(); ++i)
    os << (i ? ", " : "") << quote(g.outputs()[i].name) << ": " << typeOf(g.outputs()[i].value);
  os << ") {\n";
  printBlockOps(os, b, o, "  ");
  os << "  return";
  for (size_t i = 0; i < g.outputs().size(); ++i)
    os << (i ? ", " : " ") << printValueRef(g.outputs()[i].value);
  os << "\n}\n";
  return os.str();
}

std::string printModule(const Module &m, const PrintOptions &o) {
  std::string s;
  for (size_t i = 0; i < m.graphs().size(); ++i)
    s += (i ? "\n" : "") + printGraph(*m.graphs()[i], o);
  return s;
}

} // namespace infc
