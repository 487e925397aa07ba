#include "ir/Parser.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <map>

namespace infc {

namespace {

class Parser {
public:
  Parser(std::string_view text, const std::string &filename, const ParseOptions &options)
      : text_(text), filename_(filename), options_(options) {}

  Expected<std::unique_ptr<Module>> parseModule() {
    auto module = std::make_unique<Module>();
    skip();
    while (!atEnd()) {
      INFC_RETURN_IF_ERROR(parseGraph(*module));
      skip();
    }
    if (module->graphs().empty())
      return error("expected 'graph'");
    return module;
  }

private:
  // ------------------------------------------------------------------ lexing helpers
  bool atEnd() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }

  void skip() {
    while (!atEnd()) {
      char c = peek();
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else if (c == '/' && peek(1) == '/') {
        while (!atEnd() && peek() != '\n')
          ++pos_;
      } else {
        break;
      }
    }
  }

  Status errorAt(size_t pos, const std::string &msg) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return invalidArgument(filename_ + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + msg);
  }
  Status error(const std::string &msg) const { return errorAt(pos_, msg); }

  bool tryConsume(std::string_view s) {
    skip();
    if (text_.substr(pos_, s.size()) == s) {
      pos_ += s.size();
      return true;
    }
    return false;
  }
  Status expect(std::string_view s) {
    if (!tryConsume(s))
      return error("expected '" + std::string(s) + "'" + found());
    return Status::ok();
  }
  std::string found() const {
    if (atEnd())
      return " but found the end of the input";
    std::string_view rest = text_.substr(pos_, 20);
    size_t nl = rest.find('\n');
    if (nl != std::string_view::npos)
      rest = rest.substr(0, nl);
    return " but found '" + std::string(rest) + "'";
  }

  static bool isNameChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$' || c == '/' || c == '-';
  }
  static bool isIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; }

  Expected<std::string> parseString() {
    skip();
    if (peek() != '"')
      return error("expected a string" + found());
    size_t start = pos_;
    ++pos_;
    std::string out;
    while (true) {
      if (atEnd())
        return errorAt(start, "unterminated string");
      char c = text_[pos_++];
      if (c == '"')
        break;
      if (c == '\n')
        return errorAt(start, "unterminated string");
      if (c == '\\') {
        if (atEnd())
          return errorAt(start, "unterminated string");
        char e = text_[pos_++];
        if (e == '"' || e == '\\') {
          out += e;
        } else if (e == 'x') {
          auto hexv = [](char h) -> int {
            if (h >= '0' && h <= '9') return h - '0';
            if (h >= 'a' && h <= 'f') return h - 'a' + 10;
            if (h >= 'A' && h <= 'F') return h - 'A' + 10;
            return -1;
          };
          int hi = hexv(peek()), lo = hexv(peek(1));
          if (hi < 0 || lo < 0)
            return error("bad \\x escape in string");
          out += static_cast<char>(hi * 16 + lo);
          pos_ += 2;
        } else {
          return error(std::string("unknown escape '\\") + e + "' in string");
        }
      } else {
        out += c;
      }
    }
    return out;
  }

  Expected<std::string> parseIdent() {
    skip();
    size_t start = pos_;
    while (!atEnd() && isIdentChar(peek()))
      ++pos_;
    if (start == pos_)
      return error("expected an identifier" + found());
    return std::string(text_.substr(start, pos_ - start));
  }

  /// `%name` or `%"quoted"` -> name.
  Expected<std::string> parseValueName() {
    skip();
    if (peek() != '%')
      return error("expected a value (%name)" + found());
    ++pos_;
    if (peek() == '"')
      return parseString();
    size_t start = pos_;
    while (!atEnd() && isNameChar(peek()))
      ++pos_;
    if (start == pos_)
      return error("expected a value name after '%'");
    return std::string(text_.substr(start, pos_ - start));
  }

  /// A number token: returns its text; `isFloat` when it has '.', 'e', or is inf/nan.
  Expected<std::string> parseNumberText(bool &isFloatTok) {
    skip();
    size_t start = pos_;
    if (peek() == '-' || peek() == '+')
      ++pos_;
    if (text_.substr(pos_, 3) == "inf" || text_.substr(pos_, 3) == "nan") {
      pos_ += 3;
      isFloatTok = true;
      return std::string(text_.substr(start, pos_ - start));
    }
    size_t digits = pos_;
    isFloatTok = false;
    while (!atEnd() && (std::isdigit(static_cast<unsigned char>(peek())) || peek() == '.' || peek() == 'e' ||
                        peek() == 'E' || ((peek() == '-' || peek() == '+') && (text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E')))) {
      if (peek() == '.' || peek() == 'e' || peek() == 'E')
        isFloatTok = true;
      ++pos_;
    }
    if (digits == pos_)
      return errorAt(start, "expected a number" + found());
    return std::string(text_.substr(start, pos_ - start));
  }

  Expected<int64_t> toInt(const std::string &s, size_t at) {
    int64_t v = 0;
    const char *b = s.data() + (s[0] == '+' ? 1 : 0);
    auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size())
      return errorAt(at, "invalid integer '" + s + "'");
    return v;
  }
  template <typename F> Expected<F> toFloat(const std::string &s, size_t at) {
    std::string t = s[0] == '+' ? s.substr(1) : s;
    if (t == "inf")
      return std::numeric_limits<F>::infinity();
    if (t == "-inf")
      return -std::numeric_limits<F>::infinity();
    if (t == "nan" || t == "-nan")
      return std::numeric_limits<F>::quiet_NaN();
    F v{};
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || p != t.data() + t.size())
      return errorAt(at, "invalid number '" + s + "'");
    return v;
  }

  // ------------------------------------------------------------------ types
  Expected<TensorType> parseTensorType() {
    skip();
    size_t start = pos_;
    if (text_.substr(pos_, 7) != "tensor<")
      return error("expected a tensor type" + found());
    pos_ += 7;
    std::vector<Dim> dims;
    bool ranked = true;
    if (peek() == '*') {
      ++pos_;
      if (peek() != 'x')
        return error("expected 'x' after '*' in tensor type");
      ++pos_;
      ranked = false;
    } else {
      // Dims are followed by 'x'; the element type is the last component.
      while (true) {
        if (peek() == '?') {
          ++pos_;
          dims.push_back(Dim::unknown());
        } else if (peek() == '"') {
          INFC_ASSIGN_OR_RETURN(std::string sym, parseString());
          if (sym.empty())
            return error("empty dimension symbol");
          dims.push_back(Dim::named(sym));
        } else if (std::isdigit(static_cast<unsigned char>(peek()))) {
          size_t s = pos_;
          while (std::isdigit(static_cast<unsigned char>(peek())))
            ++pos_;
          int64_t v = 0;
          auto [p, ec] = std::from_chars(text_.data() + s, text_.data() + pos_, v);
          if (ec != std::errc())
            return errorAt(s, "dimension out of range");
          (void)p;
          dims.push_back(Dim(v));
        } else {
          break;
        }
        if (peek() != 'x')
          return error("expected 'x' after a dimension in tensor type");
        ++pos_;
      }
    }
    size_t s = pos_;
    while (!atEnd() && std::isalnum(static_cast<unsigned char>(peek())))
      ++pos_;
    std::string elem(text_.substr(s, pos_ - s));
    std::optional<DType> dt = parseDType(elem);
    if (!dt || *dt == DType::String)
      return errorAt(s, "unknown element type '" + elem + "'");
    if (peek() != '>')
      return error("expected '>' to close the tensor type");
    ++pos_;
    (void)start;
    return ranked ? TensorType(*dt, std::move(dims)) : TensorType::unranked(*dt);
  }

  /// A type in an op's type list: a tensor type or `none` (absent operand). nullopt = none.
  Expected<std::optional<TensorType>> parseOptType() {
    if (tryConsume("none"))
      return std::optional<TensorType>();
    INFC_ASSIGN_OR_RETURN(TensorType t, parseTensorType());
    return std::optional<TensorType>(t);
  }

  // ------------------------------------------------------------------ attributes
  /// Whether an integer literal is representable in `d` (never narrowed silently).
  static bool fitsInteger(DType d, int64_t v) {
    switch (d) {
    case DType::Bool: return v == 0 || v == 1;
    case DType::I8: return v >= -128 && v <= 127;
    case DType::U8: return v >= 0 && v <= 255;
    case DType::I16: return v >= -32768 && v <= 32767;
    case DType::U16: return v >= 0 && v <= 65535;
    case DType::I32: return v >= INT32_MIN && v <= INT32_MAX;
    case DType::U32: return v >= 0 && v <= int64_t(UINT32_MAX);
    default: return true;
    }
  }

  Expected<Tensor> parseDense() {
    // After 'dense<'.
    skip();
    size_t at = pos_;
    std::vector<std::string> elems;
    std::vector<size_t> elemPos;
    std::string hex;
    bool isHex = false;
    if (peek() == '"') {
      INFC_ASSIGN_OR_RETURN(hex, parseString());
      if (hex.rfind("0x", 0) != 0)
        return errorAt(at, "expected hex data \"0x...\" in dense<>");
      isHex = true;
    } else {
      INFC_RETURN_IF_ERROR(expect("["));
      skip();
      if (!tryConsume("]")) {
        while (true) {
          skip();
          elemPos.push_back(pos_);
          if (tryConsume("true"))
            elems.push_back("1");
          else if (tryConsume("false"))
            elems.push_back("0");
          else {
            bool f;
            INFC_ASSIGN_OR_RETURN(std::string n, parseNumberText(f));
            elems.push_back(n);
          }
          if (tryConsume(","))
            continue;
          INFC_RETURN_IF_ERROR(expect("]"));
          break;
        }
      }
    }
    INFC_RETURN_IF_ERROR(expect(">"));
    INFC_RETURN_IF_ERROR(expect(":"));
    size_t typeAt = pos_;
    INFC_ASSIGN_OR_RETURN(TensorType type, parseTensorType());
    if (!type.isStatic())
      return errorAt(typeAt, "a dense constant needs a static type, got " + type.str());
    // The element count before any allocation: a literal of three values cannot claim gigabytes.
    if (!isHex && (!type.numElements() || static_cast<int64_t>(elems.size()) != *type.numElements()))
      return errorAt(at, "dense has " + std::to_string(elems.size()) + " elements, " + type.str() + " needs " +
                             (type.numElements() ? std::to_string(*type.numElements()) : std::string("more than can exist")));
    // Likewise the hex data's length: 7 hex digits cannot claim 26 GB (found by fuzz_ir_parser).
    if (isHex) {
      Expected<int64_t> need = checkedByteSize(type.elem(), type.staticShape(), "dense constant");
      if (!need.isOk())
        return errorAt(typeAt, need.status().message());
      size_t nbytes = (hex.size() - 2) / 2;
      if ((hex.size() - 2) % 2 != 0 || static_cast<uint64_t>(*need) != nbytes)
        return errorAt(at, "dense hex data has " + std::to_string(nbytes) + " bytes, " + type.str() + " needs " +
                               std::to_string(*need));
    }
    Expected<Tensor> created = Tensor::create(type.elem(), type.staticShape(), "dense constant");
    if (!created.isOk())
      return errorAt(typeAt, created.status().message());
    Tensor t = std::move(*created);
    if (isHex) {
      size_t nbytes = (hex.size() - 2) / 2;
      auto *dst = reinterpret_cast<uint8_t *>(t.mutableBytes());
      for (size_t i = 0; i < nbytes; ++i) {
        auto hv = [](char h) -> int {
          if (h >= '0' && h <= '9') return h - '0';
          if (h >= 'a' && h <= 'f') return h - 'a' + 10;
          if (h >= 'A' && h <= 'F') return h - 'A' + 10;
          return -1;
        };
        int hi = hv(hex[2 + 2 * i]), lo = hv(hex[3 + 2 * i]);
        if (hi < 0 || lo < 0)
          return errorAt(at, "bad hex digit in dense data");
        dst[i] = static_cast<uint8_t>(hi * 16 + lo);
      }
      return t;
    }
    if (static_cast<int64_t>(elems.size()) != t.numElements())
      return errorAt(at, "dense has " + std::to_string(elems.size()) + " elements, " + type.str() + " needs " +
                             std::to_string(t.numElements()));
    for (size_t i = 0; i < elems.size(); ++i) {
      DType d = type.elem();
      if (d == DType::F64) {
        INFC_ASSIGN_OR_RETURN(double v, toFloat<double>(elems[i], elemPos[i]));
        t.setDouble(static_cast<int64_t>(i), v);
      } else if (isFloat(d)) {
        INFC_ASSIGN_OR_RETURN(float v, toFloat<float>(elems[i], elemPos[i]));
        t.setDouble(static_cast<int64_t>(i), v);
      } else if (d == DType::U64) {
        uint64_t v = 0;
        auto [p, ec] = std::from_chars(elems[i].data(), elems[i].data() + elems[i].size(), v);
        if (ec != std::errc() || p != elems[i].data() + elems[i].size())
          return errorAt(elemPos[i], "invalid u64 '" + elems[i] + "'");
        t.setInt(static_cast<int64_t>(i), static_cast<int64_t>(v));
      } else {
        INFC_ASSIGN_OR_RETURN(int64_t v, toInt(elems[i], elemPos[i]));
        if (!fitsInteger(d, v))
          return errorAt(elemPos[i], "'" + elems[i] + "' does not fit " + std::string(dtypeName(d)));
        t.setInt(static_cast<int64_t>(i), v);
      }
    }
    return t;
  }

  Expected<Attribute> parseAttrValue() {
    skip();
    size_t at = pos_;
    if (peek() == '"') {
      INFC_ASSIGN_OR_RETURN(std::string s, parseString());
      return Attribute(s);
    }
    if (tryConsume("dense_ref<")) {
      INFC_ASSIGN_OR_RETURN(std::string name, parseString());
      INFC_RETURN_IF_ERROR(expect(">"));
      INFC_RETURN_IF_ERROR(expect(":"));
      INFC_ASSIGN_OR_RETURN(TensorType type, parseTensorType());
      if (!options_.resolveConstantRef)
        return errorAt(at, "dense_ref<\"" + name + "\"> needs its weights (only engines' IR uses it)");
      Expected<Tensor> t = options_.resolveConstantRef(name, type);
      if (!t.isOk())
        return errorAt(at, t.status().message());
      return Attribute(*t);
    }
    if (tryConsume("dense<")) {
      INFC_ASSIGN_OR_RETURN(Tensor t, parseDense());
      return Attribute(t);
    }
    if (tryConsume("[")) {
      skip();
      if (tryConsume("]"))
        return Attribute(std::vector<int64_t>{});
      if (peek() == '"') {
        std::vector<std::string> v;
        while (true) {
          INFC_ASSIGN_OR_RETURN(std::string s, parseString());
          v.push_back(s);
          if (tryConsume(","))
            continue;
          INFC_RETURN_IF_ERROR(expect("]"));
          return Attribute(v);
        }
      }
      std::vector<std::string> items;
      std::vector<size_t> where;
      bool anyFloat = false;
      while (true) {
        skip();
        where.push_back(pos_);
        bool f;
        INFC_ASSIGN_OR_RETURN(std::string n, parseNumberText(f));
        anyFloat = anyFloat || f;
        items.push_back(n);
        if (tryConsume(","))
          continue;
        INFC_RETURN_IF_ERROR(expect("]"));
        break;
      }
      if (anyFloat) {
        std::vector<float> v;
        for (size_t i = 0; i < items.size(); ++i) {
          INFC_ASSIGN_OR_RETURN(float x, toFloat<float>(items[i], where[i]));
          v.push_back(x);
        }
        return Attribute(v);
      }
      std::vector<int64_t> v;
      for (size_t i = 0; i < items.size(); ++i) {
        INFC_ASSIGN_OR_RETURN(int64_t x, toInt(items[i], where[i]));
        v.push_back(x);
      }
      return Attribute(v);
    }
    bool f;
    INFC_ASSIGN_OR_RETURN(std::string n, parseNumberText(f));
    if (f) {
      INFC_ASSIGN_OR_RETURN(float x, toFloat<float>(n, at));
      return Attribute(x);
    }
    INFC_ASSIGN_OR_RETURN(int64_t x, toInt(n, at));
    return Attribute(x);
  }

  Status parseAttrDict(AttrMap &attrs) {
    // After '{'.
    skip();
    if (tryConsume("}"))
      return Status::ok();
    while (true) {
      skip();
      size_t at = pos_;
      std::string key;
      if (peek() == '"') {
        INFC_ASSIGN_OR_RETURN(key, parseString());
      } else {
        size_t s = pos_;
        while (!atEnd() && isNameChar(peek()))
          ++pos_;
        key = std::string(text_.substr(s, pos_ - s));
        if (key.empty())
          return error("expected an attribute name" + found());
      }
      if (attrs.has(key))
        return errorAt(at, "duplicate attribute '" + key + "'");
      INFC_RETURN_IF_ERROR(expect("="));
      INFC_ASSIGN_OR_RETURN(Attribute v, parseAttrValue());
      attrs.set(key, std::move(v));
      if (tryConsume(","))
        continue;
      return expect("}");
    }
  }

  // ------------------------------------------------------------------ values and ops
  Value *lookup(const std::string &name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = it->find(name);
      if (f != it->end())
        return f->second;
    }
    return nullptr;
  }

  Status define(const std::string &name, Value *v, size_t at) {
    scopes_.back()[name] = v;
    (void)at;
    return Status::ok();
  }

  /// Parses `item (',' item)* close` or an empty `close` (the opener is already consumed).
  template <typename F> Status parseList(std::string_view close, F item) {
    skip();
    if (tryConsume(close))
      return Status::ok();
    while (true) {
      INFC_RETURN_IF_ERROR(item());
      if (!tryConsume(","))
        return expect(close);
    }
  }

  /// `%name: type, ...)` of a graph or region block; each name must be fresh in the graph.
  Status parseBlockArguments(Graph &g, Block &block) {
    return parseList(")", [&]() -> Status {
      skip();
      size_t at = pos_;
      INFC_ASSIGN_OR_RETURN(std::string n, parseValueName());
      INFC_RETURN_IF_ERROR(expect(":"));
      INFC_ASSIGN_OR_RETURN(TensorType t, parseTensorType());
      INFC_RETURN_IF_ERROR(checkFresh(g, n, at));
      return define(n, block.addArgument(n, t), at);
    });
  }

  Status checkFresh(Graph &g, const std::string &name, size_t at) {
    if (g.nameInUse(name) || lookup(name))
      return errorAt(at, "redefinition of value '%" + name + "'");
    return Status::ok();
  }

  Expected<Location> parseLoc() {
    Location loc;
    // After 'loc('.
    while (true) {
      INFC_ASSIGN_OR_RETURN(std::string name, parseString());
      INFC_RETURN_IF_ERROR(expect(":"));
      skip();
      std::string opType;
      if (tryConsume("?")) {
        opType = "";
      } else {
        INFC_ASSIGN_OR_RETURN(opType, parseIdent());
      }
      INFC_RETURN_IF_ERROR(expect(":"));
      size_t at = pos_;
      bool f;
      INFC_ASSIGN_OR_RETURN(std::string n, parseNumberText(f));
      INFC_ASSIGN_OR_RETURN(int64_t idx, toInt(n, at));
      loc.append(Location(NodeRef{name, opType, idx}));
      if (tryConsume(","))
        continue;
      INFC_RETURN_IF_ERROR(expect(")"));
      return loc;
    }
  }

  Status parseOp(Graph &g, Block &block) {
    skip();
    size_t opStart = pos_;
    std::vector<std::string> resultNames;
    std::vector<size_t> resultPos;
    if (peek() == '%') {
      while (true) {
        skip();
        resultPos.push_back(pos_);
        INFC_ASSIGN_OR_RETURN(std::string n, parseValueName());
        resultNames.push_back(n);
        if (tryConsume(","))
          continue;
        break;
      }
      INFC_RETURN_IF_ERROR(expect("="));
    }
    skip();
    size_t namePos = pos_;
    INFC_ASSIGN_OR_RETURN(std::string opName, parseIdent());
    std::optional<OpKind> kind = opKindFromFullName(opName);
    if (!kind)
      return errorAt(namePos, "unknown op '" + opName + "'");
    const OpInfo &info = opInfo(*kind);
    INFC_RETURN_IF_ERROR(expect("("));
    std::vector<Value *> operands;
    std::vector<size_t> operandPos;
    skip();
    if (!tryConsume(")")) {
      while (true) {
        skip();
        operandPos.push_back(pos_);
        if (tryConsume("none")) {
          operands.push_back(nullptr);
        } else {
          INFC_ASSIGN_OR_RETURN(std::string n, parseValueName());
          Value *v = lookup(n);
          if (!v)
            return errorAt(operandPos.back(), "use of undefined value '%" + n + "'");
          operands.push_back(v);
        }
        if (tryConsume(","))
          continue;
        INFC_RETURN_IF_ERROR(expect(")"));
        break;
      }
    }
    int nOps = static_cast<int>(operands.size());
    if (nOps < info.minOperands || (info.maxOperands >= 0 && nOps > info.maxOperands))
      return errorAt(namePos, opName + " takes " + arity(info.minOperands, info.maxOperands) + " operands, got " +
                                  std::to_string(nOps));
    // Regions: ({ ^(args): ops yield ... })
    std::vector<size_t> regionStarts;
    while (true) {
      skip();
      if (peek() == '(' ) {
        size_t save = pos_;
        ++pos_;
        skip();
        if (peek() == '{') {
          regionStarts.push_back(save);
          // Skip the region text for now: it is parsed after the op exists (its args live in it).
          int depth = 0;
          pos_ = save;
          // Find the matching ')' of "({ ... })", honoring strings.
          bool inString = false;
          for (; !atEnd(); ++pos_) {
            char c = peek();
            if (inString) {
              if (c == '\\')
                ++pos_;
              else if (c == '"')
                inString = false;
              continue;
            }
            if (c == '"')
              inString = true;
            else if (c == '(' || c == '{')
              ++depth;
            else if (c == ')' || c == '}') {
              if (--depth == 0) {
                ++pos_;
                break;
              }
            }
          }
          if (depth != 0)
            return errorAt(save, "unterminated region");
          continue;
        }
        pos_ = save;
      }
      break;
    }
    AttrMap attrs;
    if (tryConsume("{"))
      INFC_RETURN_IF_ERROR(parseAttrDict(attrs));
    INFC_RETURN_IF_ERROR(expect(":"));
    INFC_RETURN_IF_ERROR(expect("("));
    std::vector<std::optional<TensorType>> operandTypes;
    INFC_RETURN_IF_ERROR(parseList(")", [&]() -> Status {
      INFC_ASSIGN_OR_RETURN(std::optional<TensorType> t, parseOptType());
      operandTypes.push_back(t);
      return Status::ok();
    }));
    if (operandTypes.size() != operands.size())
      return errorAt(opStart, opName + " has " + std::to_string(operands.size()) + " operands but " +
                                  std::to_string(operandTypes.size()) + " operand types");
    for (size_t i = 0; i < operands.size(); ++i) {
      bool absentType = !operandTypes[i].has_value();
      if ((operands[i] == nullptr) != absentType)
        return errorAt(operandPos[i], "operand " + std::to_string(i) + " and its type disagree about 'none'");
      if (operands[i] && operands[i]->type() != *operandTypes[i])
        return errorAt(operandPos[i], "operand '%" + operands[i]->name() + "' has type " + operands[i]->type().str() +
                                          ", but the op's type list says " + operandTypes[i]->str());
    }
    INFC_RETURN_IF_ERROR(expect("->"));
    std::vector<TensorType> resultTypes;
    skip();
    if (tryConsume("(")) {
      skip();
      if (!tryConsume(")")) {
        while (true) {
          INFC_ASSIGN_OR_RETURN(TensorType t, parseTensorType());
          resultTypes.push_back(t);
          if (tryConsume(","))
            continue;
          INFC_RETURN_IF_ERROR(expect(")"));
          break;
        }
      }
    } else {
      INFC_ASSIGN_OR_RETURN(TensorType t, parseTensorType());
      resultTypes.push_back(t);
    }
    if (resultTypes.size() != resultNames.size())
      return errorAt(opStart, opName + " defines " + std::to_string(resultNames.size()) + " values but its type list has " +
                                  std::to_string(resultTypes.size()) + " results");
    int nRes = static_cast<int>(resultTypes.size());
    if (nRes < info.minResults || (info.maxResults >= 0 && nRes > info.maxResults))
      return errorAt(namePos, opName + " has " + arity(info.minResults, info.maxResults) + " results, got " +
                                  std::to_string(nRes));
    Location loc;
    if (tryConsume("loc(")) {
      INFC_ASSIGN_OR_RETURN(loc, parseLoc());
    }
    for (size_t i = 0; i < resultNames.size(); ++i) {
      INFC_RETURN_IF_ERROR(checkFresh(g, resultNames[i], resultPos[i]));
      for (size_t j = 0; j < i; ++j)
        if (resultNames[j] == resultNames[i])
          return errorAt(resultPos[i], "redefinition of value '%" + resultNames[i] + "'");
    }
    Operation *op = block.create(*kind, operands, resultTypes, std::move(attrs), std::move(loc), nullptr, resultNames);
    // Now parse the regions' bodies.
    size_t after = pos_;
    for (size_t r = 0; r < regionStarts.size(); ++r) {
      pos_ = regionStarts[r];
      INFC_RETURN_IF_ERROR(parseRegion(g, op->addRegion()));
    }
    pos_ = after;
    for (size_t i = 0; i < resultNames.size(); ++i)
      INFC_RETURN_IF_ERROR(define(resultNames[i], op->result(i), resultPos[i]));
    return Status::ok();
  }

  static std::string arity(int lo, int hi) {
    if (hi < 0)
      return "at least " + std::to_string(lo);
    if (lo == hi)
      return std::to_string(lo);
    return std::to_string(lo) + " to " + std::to_string(hi);
  }

  Status parseRegion(Graph &g, Block &block) {
    // Regions nest through ops; a bound keeps hostile text (10,000 levels) from overflowing the
    // stack, and keeps the skip-ahead scan of region text linear in practice.
    if (regionDepth_ >= kMaxRegionDepth)
      return error("regions nested deeper than " + std::to_string(kMaxRegionDepth));
    ++regionDepth_;
    struct Leave {
      int &d;
      ~Leave() { --d; }
    } leave{regionDepth_};
    INFC_RETURN_IF_ERROR(expect("("));
    INFC_RETURN_IF_ERROR(expect("{"));
    INFC_RETURN_IF_ERROR(expect("^("));
    scopes_.emplace_back();
    INFC_RETURN_IF_ERROR(parseBlockArguments(g, block));
    INFC_RETURN_IF_ERROR(expect(":"));
    while (true) {
      skip();
      if (text_.substr(pos_, 5) == "yield" && !isNameChar(peek(5)))
        break;
      if (atEnd())
        return error("expected 'yield' to end the region");
      INFC_RETURN_IF_ERROR(parseOp(g, block));
    }
    pos_ += 5;
    std::vector<Value *> yields;
    skip();
    if (peek() == '%') {
      while (true) {
        skip();
        size_t at = pos_;
        INFC_ASSIGN_OR_RETURN(std::string n, parseValueName());
        Value *v = lookup(n);
        if (!v)
          return errorAt(at, "use of undefined value '%" + n + "'");
        yields.push_back(v);
        if (tryConsume(","))
          continue;
        break;
      }
    }
    block.setYields(yields);
    scopes_.pop_back();
    INFC_RETURN_IF_ERROR(expect("}"));
    return expect(")");
  }

  Status parseGraph(Module &m) {
    INFC_RETURN_IF_ERROR(expect("graph"));
    INFC_RETURN_IF_ERROR(expect("@"));
    std::string name;
    if (peek() == '"') {
      INFC_ASSIGN_OR_RETURN(name, parseString());
    } else {
      size_t s = pos_;
      while (!atEnd() && isNameChar(peek()))
        ++pos_;
      name = std::string(text_.substr(s, pos_ - s));
      if (name.empty())
        return error("expected a graph name after '@'");
    }
    if (m.findGraph(name))
      return error("redefinition of graph @" + name);
    Graph &g = m.addGraph(name);
    scopes_.clear();
    scopes_.emplace_back();
    INFC_RETURN_IF_ERROR(expect("("));
    INFC_RETURN_IF_ERROR(parseBlockArguments(g, g.body()));
    INFC_RETURN_IF_ERROR(expect("->"));
    INFC_RETURN_IF_ERROR(expect("("));
    std::vector<std::pair<std::string, std::optional<TensorType>>> outs;
    std::vector<size_t> outPos;
    INFC_RETURN_IF_ERROR(parseList(")", [&]() -> Status {
      skip();
      outPos.push_back(pos_);
      INFC_ASSIGN_OR_RETURN(std::string n, parseString());
      INFC_RETURN_IF_ERROR(expect(":"));
      INFC_ASSIGN_OR_RETURN(std::optional<TensorType> t, parseOptType());
      outs.push_back({n, t});
      return Status::ok();
    }));
    INFC_RETURN_IF_ERROR(expect("{"));
    while (true) {
      skip();
      if (text_.substr(pos_, 6) == "return" && !isNameChar(peek(6)))
        break;
      if (atEnd() || peek() == '}')
        return error("expected 'return' at the end of graph @" + name);
      INFC_RETURN_IF_ERROR(parseOp(g, g.body()));
    }
    size_t retPos = pos_;
    pos_ += 6;
    std::vector<Value *> rets;
    std::vector<size_t> retValPos;
    skip();
    if (peek() == '%') {
      while (true) {
        skip();
        retValPos.push_back(pos_);
        INFC_ASSIGN_OR_RETURN(std::string n, parseValueName());
        Value *v = lookup(n);
        if (!v)
          return errorAt(retValPos.back(), "use of undefined value '%" + n + "'");
        rets.push_back(v);
        if (tryConsume(","))
          continue;
        break;
      }
    }
    if (rets.size() != outs.size())
      return errorAt(retPos, "graph @" + name + " declares " + std::to_string(outs.size()) + " outputs but returns " +
                                 std::to_string(rets.size()));
    for (size_t i = 0; i < rets.size(); ++i) {
      if (!outs[i].second || rets[i]->type() != *outs[i].second)
        return errorAt(retValPos[i], "returned value '%" + rets[i]->name() + "' has type " + rets[i]->type().str() +
                                         ", the signature says " + (outs[i].second ? outs[i].second->str() : "none"));
      g.addOutput(outs[i].first, rets[i]);
    }
    return expect("}");
  }

  std::string_view text_;
  std::string filename_;
  const ParseOptions &options_;
  size_t pos_ = 0;
  std::vector<std::map<std::string, Value *>> scopes_;
  static constexpr int kMaxRegionDepth = 32;
  int regionDepth_ = 0;
};

} // namespace

Expected<std::unique_ptr<Module>> parseModule(std::string_view text, const std::string &filename,
                                              const ParseOptions &options) {
  Parser p(text, filename, options);
  return p.parseModule();
}

} // namespace infc
