// Dim-fit engines: expressions over the engine's dims found from values at probe shapes, and
// generated kernels whose shape-dependent literals become those expressions (codegen/DimFit.h).
#include "codegen/DimFit.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>
#include <functional>
#include <numeric>

namespace infc::codegen {

int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

bool DimExpr::isConstant() const {
  return std::all_of(terms.begin(), terms.end(), [](const DimTerm &t) { return t.atoms.empty(); });
}

int64_t DimExpr::eval(const std::vector<int64_t> &atomValues) const {
  int64_t sum = 0;
  for (const DimTerm &t : terms) {
    int64_t v = t.coef;
    for (int a : t.atoms)
      v *= atomValues[static_cast<size_t>(a)];
    sum += v;
  }
  return sum;
}

std::string DimExpr::cuda(const std::string &dims) const {
  if (terms.empty())
    return "0LL";
  std::string s = "(";
  for (size_t i = 0; i < terms.size(); ++i) {
    if (i)
      s += " + ";
    s += std::to_string(terms[i].coef) + "LL";
    for (int a : terms[i].atoms)
      s += " * " + dims + "[" + std::to_string(a) + "]";
  }
  return s + ")";
}

std::string DimExpr::str(const std::vector<DimAtom> &atoms) const {
  if (terms.empty())
    return "0";
  std::string s;
  for (size_t i = 0; i < terms.size(); ++i) {
    const DimTerm &t = terms[i];
    if (i)
      s += " + ";
    bool one = t.coef == 1 && !t.atoms.empty();
    if (!one)
      s += std::to_string(t.coef);
    for (size_t k = 0; k < t.atoms.size(); ++k) {
      const std::string &n = atoms[static_cast<size_t>(t.atoms[k])].name;
      s += (k || !one ? " * " : "") + (n.find(' ') != std::string::npos ? "(" + n + ")" : n);
    }
  }
  return s;
}

bool DimExpr::monotone() const {
  return std::all_of(terms.begin(), terms.end(), [](const DimTerm &t) { return t.coef >= 0 || t.atoms.empty(); });
}

DimFitter::DimFitter(std::vector<DimAtom> base, std::vector<std::vector<int64_t>> probeValues,
                     std::vector<std::pair<int64_t, int64_t>> ranges)
    : numBase_(base.size()), ranges_(std::move(ranges)), atoms_(std::move(base)), values_(std::move(probeValues)) {
  if (ranges_.size() != numBase_) {
    ranges_.assign(numBase_, {INT64_MAX, INT64_MIN});
    for (const std::vector<int64_t> &p : values_)
      for (size_t i = 0; i < numBase_ && i < p.size(); ++i)
        ranges_[i] = {std::min(ranges_[i].first, p[i]), std::max(ranges_[i].second, p[i])};
  }
}

void DimFitter::askIfAmbiguous(size_t i, int64_t b, int64_t s, const std::vector<int64_t> &q) {
  auto [lo, hi] = ranges_[i];
  if (lo > hi)
    return;
  // Every other (divisor, offset) that gives q at every probe: offsets of one divisor form an
  // interval, one per probe intersected.
  struct Candidate {
    int64_t b, s;
  };
  std::vector<Candidate> others;
  for (int64_t s2 = 2; s2 <= 64; ++s2) {
    int64_t from = INT64_MIN, to = INT64_MAX;
    for (size_t p = 0; p < values_.size(); ++p) {
      int64_t x = values_[p][i];
      from = std::max(from, q[p] * s2 - x);
      to = std::min(to, q[p] * s2 - x + s2 - 1);
    }
    for (int64_t b2 = from; b2 <= to; ++b2)
      if (!(b2 == b && s2 == s))
        others.push_back({b2, s2});
  }
  // The value of the range where most candidates disagree with the one fit() chose.
  int64_t best = 0, bestValue = 0;
  constexpr int64_t kSpan = int64_t(1) << 15; // a huge range: its two ends
  for (int64_t x = lo; x <= hi; x = (hi - lo > 2 * kSpan && x == lo + kSpan) ? hi - kSpan : x + 1) {
    int64_t mine = floorDiv(x + b, s), n = 0;
    for (const Candidate &c : others)
      n += floorDiv(x + c.b, c.s) != mine;
    if (n > best) {
      best = n;
      bestValue = x;
    }
  }
  Question question{i, bestValue};
  if (best && std::find(questions_.begin(), questions_.end(), question) == questions_.end())
    questions_.push_back(question);
}

std::optional<DimExpr> DimFitter::fitProducts(const std::vector<int64_t> &v) const {
  const size_t P = values_.size(), A = atoms_.size();
  std::vector<int> mono;
  std::optional<DimExpr> found;
  std::vector<int64_t> m(P);
  // c * m, then c * m + d, for every product m of `degree` atoms (indices non-decreasing).
  auto tryMono = [&]() {
    for (size_t p = 0; p < P; ++p) {
      int64_t x = 1;
      for (int a : mono)
        x *= values_[p][static_cast<size_t>(a)];
      if (x == 0)
        return false;
      m[p] = x;
    }
    if (v[0] % m[0] == 0) {
      int64_t c = v[0] / m[0];
      bool ok = c != 0;
      for (size_t p = 1; p < P && ok; ++p)
        ok = c * m[p] == v[p];
      if (ok) {
        found = DimExpr{{DimTerm{c, mono}}};
        return true;
      }
    }
    for (size_t q = 1; q < P; ++q) {
      if (m[q] == m[0])
        continue;
      if ((v[q] - v[0]) % (m[q] - m[0]) != 0)
        return false;
      int64_t c = (v[q] - v[0]) / (m[q] - m[0]), d = v[0] - c * m[0];
      bool ok = c != 0;
      for (size_t p = 1; p < P && ok; ++p)
        ok = c * m[p] + d == v[p];
      if (ok) {
        found = DimExpr{{DimTerm{c, mono}, DimTerm{d, {}}}};
        if (!d)
          found->terms.pop_back();
        return true;
      }
      return false;
    }
    return false;
  };
  std::function<bool(size_t, int)> choose = [&](size_t left, int from) {
    if (left == 0)
      return tryMono();
    for (int a = from; a < static_cast<int>(A); ++a) {
      mono.push_back(a);
      bool done = choose(left - 1, a);
      mono.pop_back();
      if (done)
        return true;
    }
    return false;
  };
  for (size_t degree = 1; degree <= 3; ++degree)
    if (choose(degree, 0))
      return found;
  return std::nullopt;
}

std::optional<DimExpr> DimFitter::fit(const std::vector<int64_t> &v) {
  const size_t P = values_.size();
  if (v.size() != P || P == 0)
    return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [&](int64_t x) { return x == v[0]; }))
    return DimExpr::constant(v[0]);
  if (std::optional<DimExpr> e = fitProducts(v))
    return e;
  // g * floor((x + b) / s) for a dynamic input dim x: a new atom.
  int64_t g = 0;
  for (int64_t x : v)
    g = std::gcd(g, x);
  if (g <= 0)
    return std::nullopt;
  for (int64_t scale : {int64_t(1), g}) {
    for (size_t i = 0; i < numBase_; ++i)
      for (int64_t s = 2; s <= 64; ++s) {
        int64_t lo = (v[0] / scale) * s - values_[0][i];
        for (int64_t b = lo; b < lo + s; ++b) {
          bool ok = true;
          for (size_t p = 0; p < P && ok; ++p)
            ok = v[p] % scale == 0 && floorDiv(values_[p][i] + b, s) == v[p] / scale;
          if (!ok)
            continue;
          DimAtom atom{atoms_[i].input, atoms_[i].axis, b, s, ""};
          atom.name = "(" + atoms_[i].name + (b >= 0 ? " + " : " - ") + std::to_string(b >= 0 ? b : -b) + ") / " +
                      std::to_string(s);
          if (b == 0)
            atom.name = atoms_[i].name + " / " + std::to_string(s);
          std::vector<int64_t> q(P);
          for (size_t p = 0; p < P; ++p)
            q[p] = v[p] / scale;
          askIfAmbiguous(i, b, s, q);
          auto it = std::find(atoms_.begin(), atoms_.end(), atom);
          if (it == atoms_.end()) {
            if (atoms_.size() >= kMaxDimAtoms)
              return std::nullopt;
            atoms_.push_back(atom);
            for (size_t p = 0; p < P; ++p)
              values_[p].push_back(floorDiv(values_[p][i] + b, s));
            it = atoms_.end() - 1;
          }
          return DimExpr{{DimTerm{scale, {static_cast<int>(it - atoms_.begin())}}}};
        }
      }
    if (g == 1)
      break;
  }
  return std::nullopt;
}

namespace {

struct Token {
  enum Kind { Space, Ident, Number, Punct } kind;
  std::string text;
};

/// C-like tokens; whitespace and comments are Space tokens (kept, so that joining gives the source back).
std::vector<Token> tokenize(const std::string &s) {
  std::vector<Token> out;
  size_t i = 0;
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  while (i < s.size()) {
    size_t j = i;
    Token::Kind kind;
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j])))
        ++j;
      kind = Token::Space;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '/') {
      while (j < s.size() && s[j] != '\n')
        ++j;
      kind = Token::Space;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      while (j < s.size() && (ident(s[j]) || s[j] == '.' ||
                              ((s[j] == '-' || s[j] == '+') && (s[j - 1] == 'e' || s[j - 1] == 'E') &&
                               s.compare(i, 2, "0x") != 0)))
        ++j;
      kind = Token::Number;
    } else if (ident(c)) {
      while (j < s.size() && ident(s[j]))
        ++j;
      kind = Token::Ident;
    } else {
      j = i + 1;
      kind = Token::Punct;
    }
    out.push_back({kind, s.substr(i, j - i)});
    i = j;
  }
  return out;
}

/// A decimal integer literal: its value and suffix ("", "LL", "u", ...).
bool intLiteral(const std::string &t, int64_t &value, std::string &suffix) {
  size_t i = 0;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])))
    ++i;
  if (i == 0 || i > 18 || (i > 1 && t[0] == '0')) // 18 digits always fit in int64_t
    return false;
  for (size_t k = i; k < t.size(); ++k)
    if (!std::strchr("uUlL", t[k]))
      return false;
  value = std::stoll(t.substr(0, i));
  suffix = t.substr(i);
  return true;
}

} // namespace

const char *dimsStructSource() {
  return "#ifndef INFC_DIMS_DEFINED\n#define INFC_DIMS_DEFINED\nstruct infc_dims { long long d[16]; };\n#endif\n";
}

Expected<FittedSource> fitKernelSource(const std::vector<const std::string *> &sources, size_t base,
                                       const std::string &function, DimFitter &fitter) {
  std::vector<std::vector<Token>> toks;
  for (const std::string *s : sources)
    toks.push_back(tokenize(*s));
  auto differ = [&](const std::string &what) {
    return unsupported("kernel " + function + " " + what);
  };
  const std::vector<Token> &b = toks[base];
  for (const auto &t : toks)
    if (t.size() != b.size())
      return differ("is another kernel at another shape (its source has another length)");
  // The kernel function's tokens: from its name to the brace closing its body.
  size_t nameAt = SIZE_MAX, closeParen = 0, bodyEnd = 0;
  bool global = false;
  for (size_t i = 0; i < b.size(); ++i) {
    if (b[i].kind == Token::Ident && b[i].text == "__global__")
      global = true;
    if (global && b[i].kind == Token::Ident && b[i].text == function && i + 1 < b.size() && b[i + 1].text == "(") {
      nameAt = i;
      break;
    }
  }
  if (nameAt == SIZE_MAX)
    return internalError("kernel " + function + ": no definition in its source");
  int depth = 0;
  for (size_t i = nameAt + 1; i < b.size(); ++i) {
    depth += b[i].text == "(";
    depth -= b[i].text == ")";
    if (depth == 0) {
      closeParen = i;
      break;
    }
  }
  depth = 0;
  for (size_t i = closeParen + 1; i < b.size(); ++i) {
    depth += b[i].text == "{";
    depth -= b[i].text == "}";
    if (b[i].text == "}" && depth == 0) {
      bodyEnd = i;
      break;
    }
  }
  std::vector<std::string> out;
  out.reserve(b.size());
  for (const Token &t : b)
    out.push_back(t.text);
  bool usesDims = false;
  for (size_t i = 0; i < b.size(); ++i) {
    bool same = true;
    for (const auto &t : toks)
      same = same && t[i].text == b[i].text;
    if (same)
      continue;
    std::vector<int64_t> values;
    std::string suffix;
    const std::string *other = &b[i].text;
    for (const auto &t : toks)
      if (t[i].text != b[i].text)
        other = &t[i].text;
    for (const auto &t : toks) {
      int64_t v = 0;
      std::string sfx;
      if (!intLiteral(t[i].text, v, sfx) || (!values.empty() && sfx != suffix))
        return differ("differs at another shape in '" + b[i].text + "' against '" + *other +
                      "' (not a decimal integer literal: another kernel variant, or a constant computed from a dim)");
      suffix = sfx;
      values.push_back(v);
    }
    if (i < nameAt || i > bodyEnd)
      return differ("has a helper whose literal " + b[i].text + " depends on the shape");
    std::optional<DimExpr> e = fitter.fit(values);
    if (!e) {
      std::string seen;
      for (size_t p = 0; p < values.size(); ++p)
        seen += (p ? ", " : "") + std::to_string(values[p]);
      return differ("has the literal " + b[i].text + " whose values at the probe shapes (" + seen +
                    ") are no expression over the engine's dims");
    }
    int64_t most = *std::max_element(values.begin(), values.end());
    bool longLong = suffix.find_first_of("lL") != std::string::npos || most > INT_MAX;
    bool isUnsigned = suffix.find_first_of("uU") != std::string::npos;
    std::string type = std::string(isUnsigned ? "unsigned " : "") + (longLong ? "long long" : "int");
    out[i] = "((" + type + ")" + e->cuda("infc_D.d") + ")";
    usesDims = true;
    // A constexpr declaration holding it becomes const (its value is known when the kernel runs).
    size_t s = i;
    while (s > 0 && b[s - 1].text != ";" && b[s - 1].text != "{" && b[s - 1].text != "}")
      --s;
    while (s < i && b[s].kind == Token::Space)
      ++s;
    if (b[s].text == "constexpr")
      out[s] = "const";
  }
  FittedSource r;
  r.usesDims = usesDims;
  if (usesDims) {
    size_t prev = closeParen - 1;
    while (b[prev].kind == Token::Space)
      --prev;
    out[closeParen] = b[prev].text == "(" ? "infc_dims infc_D)" : ", infc_dims infc_D)";
  }
  r.source = (usesDims ? std::string(dimsStructSource()) : std::string()) +
             std::accumulate(out.begin(), out.end(), std::string());
  return r;
}

} // namespace infc::codegen
