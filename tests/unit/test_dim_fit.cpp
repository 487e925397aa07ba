// Dim-fit engines without a GPU (codegen/DimFit.h): floor division, expressions fitted to values
// at probe shapes (products of atoms, new quasi-affine atoms, values that are no expression), and
// generated kernels whose shape-dependent integer literals become expressions over the dims.
#include "codegen/DimFit.h"

#include <catch2/catch.hpp>

#include <functional>

using namespace infc;
using namespace infc::codegen;

namespace {

const std::vector<int64_t> kBatch = {2, 8, 4, 3, 5, 2, 7};
const std::vector<int64_t> kSeq = {8, 64, 32, 17, 33, 9, 40};
const std::vector<int64_t> kWidth = {16, 128, 64, 37, 101, 127, 50};

/// Base atoms batch (input 0, axis 0) and `second` (input `in`, axis `axis`) at the 7 probes.
DimFitter fitter(const std::vector<int64_t> &second, const std::string &name, int in, int axis) {
  std::vector<std::vector<int64_t>> probes;
  for (size_t p = 0; p < kBatch.size(); ++p)
    probes.push_back({kBatch[p], second[p]});
  return DimFitter({DimAtom{0, 0, 0, 1, "batch"}, DimAtom{in, axis, 0, 1, name}}, probes);
}

std::vector<int64_t> values(const std::function<int64_t(size_t)> &f) {
  std::vector<int64_t> v;
  for (size_t p = 0; p < kBatch.size(); ++p)
    v.push_back(f(p));
  return v;
}

/// The expression gives `v[p]` at every probe of `f`.
void evaluatesTo(const DimExpr &e, const DimFitter &f, const std::vector<int64_t> &v) {
  for (size_t p = 0; p < f.numProbes(); ++p) {
    INFO("probe " << p);
    CHECK(e.eval(f.atomValues(p)) == v[p]);
  }
}

bool has(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

/// `text` with every "@N" replaced by seq and "@M" by 32 * seq.
std::string at(std::string text, int64_t seq) {
  for (auto [key, value] : {std::pair<std::string, int64_t>{"@N", seq}, {"@M", 32 * seq}})
    for (size_t k; (k = text.find(key)) != std::string::npos;)
      text.replace(k, key.size(), std::to_string(value));
  return text;
}

const char *kKernel = "extern \"C\" __global__ void k0(const float* __restrict__ in0, float* __restrict__ out0) {\n"
                      "  const long long n = @MLL;\n"
                      "  for (long long i = 0; i < n; ++i) out0[i] = in0[i % @N] * 0.5f;\n"
                      "}\n";

/// fitKernelSource over `texts` (base probe 1) with 3 probes: batch {2, 8, 3}, seq {17, 40, 9}.
Expected<FittedSource> fitSources(const std::vector<std::string> &texts, const std::string &function,
                                  DimFitter *out = nullptr) {
  DimFitter f({DimAtom{0, 0, 0, 1, "batch"}, DimAtom{0, 1, 0, 1, "seq"}}, {{2, 17}, {8, 40}, {3, 9}});
  std::vector<const std::string *> ptrs;
  for (const std::string &t : texts)
    ptrs.push_back(&t);
  Expected<FittedSource> r = fitKernelSource(ptrs, 1, function, f);
  if (out)
    *out = f;
  return r;
}

std::vector<std::string> atProbes(const std::string &text) { return {at(text, 17), at(text, 40), at(text, 9)}; }

void refused(const std::vector<std::string> &texts, const std::string &function, const std::string &why) {
  Expected<FittedSource> r = fitSources(texts, function);
  REQUIRE_FALSE(r.isOk());
  INFO(r.status().message());
  CHECK(r.status().code() == StatusCode::Unsupported);
  CHECK(has(r.status().message(), "kernel " + function));
  CHECK(has(r.status().message(), why));
}

} // namespace

TEST_CASE("floorDiv rounds toward minus infinity", "[dimfit]") {
  CHECK(floorDiv(7, 2) == 3);
  CHECK(floorDiv(6, 2) == 3);
  CHECK(floorDiv(-7, 2) == -4);
  CHECK(floorDiv(-6, 2) == -3);
  CHECK(floorDiv(-1, 3) == -1);
  CHECK(floorDiv(7, -2) == -4);
  CHECK(floorDiv(-7, -2) == 3);
  CHECK(floorDiv(0, 5) == 0);
}

TEST_CASE("fit: constants and products of atoms", "[dimfit]") {
  DimFitter f = fitter(kSeq, "seq", 0, 1);
  REQUIRE(f.numProbes() == 7);

  std::optional<DimExpr> c = f.fit(std::vector<int64_t>(7, 42));
  REQUIRE(c);
  CHECK(c->isConstant());
  CHECK(c->eval(f.atomValues(0)) == 42);
  CHECK(c->str(f.atoms()) == "42");

  std::optional<DimExpr> e = f.fit(values([](size_t p) { return 768 * kSeq[p]; }));
  REQUIRE(e);
  REQUIRE(e->terms.size() == 1);
  CHECK(e->terms[0].coef == 768);
  CHECK(e->terms[0].atoms == std::vector<int>{1});
  CHECK_FALSE(e->isConstant());
  CHECK(has(e->str(f.atoms()), "seq"));
  CHECK(e->str(f.atoms()) == "768 * seq");
  CHECK(has(e->cuda("infc_D.d"), "768LL * infc_D.d[1]"));
  CHECK(e->monotone());

  std::vector<int64_t> v = values([](size_t p) { return 12 * kBatch[p] * kSeq[p]; });
  e = f.fit(v);
  REQUIRE(e);
  REQUIRE(e->terms.size() == 1);
  CHECK(e->terms[0].coef == 12);
  CHECK(e->terms[0].atoms == std::vector<int>{0, 1});
  CHECK(e->str(f.atoms()) == "12 * batch * seq");
  evaluatesTo(*e, f, v);

  v = values([](size_t p) { return 3 * kSeq[p] + 5; });
  e = f.fit(v);
  REQUIRE(e);
  REQUIRE(e->terms.size() == 2);
  CHECK(e->terms[0].coef == 3);
  CHECK(e->terms[0].atoms == std::vector<int>{1});
  CHECK(e->terms[1].coef == 5);
  CHECK(e->terms[1].atoms.empty());
  CHECK(e->str(f.atoms()) == "3 * seq + 5");
  CHECK(e->cuda("infc_D.d") == "(3LL * infc_D.d[1] + 5LL)");
  evaluatesTo(*e, f, v);

  v = values([](size_t p) { return kBatch[p] * kSeq[p] * kSeq[p]; });
  e = f.fit(v);
  REQUIRE(e);
  REQUIRE(e->terms.size() == 1);
  CHECK(e->terms[0].coef == 1);
  CHECK(e->terms[0].atoms == std::vector<int>{0, 1, 1});
  CHECK(e->str(f.atoms()) == "batch * seq * seq");
  evaluatesTo(*e, f, v);

  // A decreasing value: negative coefficient on an atom is not monotone, a negative constant is.
  v = values([](size_t p) { return 1000 - 2 * kSeq[p]; });
  e = f.fit(v);
  REQUIRE(e);
  evaluatesTo(*e, f, v);
  CHECK_FALSE(e->monotone());
  CHECK(DimExpr{{DimTerm{4, {1}}, DimTerm{-3, {}}}}.monotone());
  CHECK(DimExpr::constant(-3).monotone());
  CHECK(f.atoms().size() == 2); // no new atoms for products
}

TEST_CASE("fit: values that are no expression", "[dimfit]") {
  DimFitter f = fitter(kSeq, "seq", 0, 1);
  CHECK_FALSE(f.fit({7, 100, 3, 55, 91, 12, 40}));
  CHECK_FALSE(f.fit(values([](size_t p) { return kSeq[p] * kSeq[p] * kSeq[p] * kSeq[p]; })));
  CHECK_FALSE(f.fit({1, 2, 3})); // another number of probes
  CHECK(f.atoms().size() == 2);
}

TEST_CASE("fit: quasi-affine functions of a dim become new atoms", "[dimfit]") {
  DimFitter f = fitter(kWidth, "width", 1, 3);
  REQUIRE(f.atoms().size() == 2);

  std::vector<int64_t> half = values([](size_t p) { return floorDiv(kWidth[p], 2); });
  std::optional<DimExpr> e = f.fit(half);
  REQUIRE(e);
  REQUIRE(f.atoms().size() == 3);
  const DimAtom a = f.atoms()[2];
  CHECK(a.input == 1);
  CHECK(a.axis == 3);
  CHECK(a.divisor == 2);
  CHECK(a.offset == 0);
  CHECK(has(a.name, "width"));
  REQUIRE(e->terms.size() == 1);
  CHECK(e->terms[0].coef == 1);
  CHECK(e->terms[0].atoms == std::vector<int>{2});
  CHECK(has(e->cuda("infc_D.d"), "infc_D.d[2]"));
  evaluatesTo(*e, f, half);

  // floor((width - 2) / 2) + 1 is the same values: the atom is reused.
  std::vector<int64_t> same = values([](size_t p) { return floorDiv(kWidth[p] - 2, 2) + 1; });
  REQUIRE(same == half);
  e = f.fit(same);
  REQUIRE(e);
  CHECK(f.atoms().size() == 3);
  CHECK(e->terms.size() == 1);
  CHECK(e->terms[0].atoms == std::vector<int>{2});

  // A stride-2 convolution with padding: floor((width - 1) / 2) + 1 = floor((width + 1) / 2).
  std::vector<int64_t> conv = values([](size_t p) { return floorDiv(kWidth[p] - 1, 2) + 1; });
  e = f.fit(conv);
  REQUIRE(e);
  REQUIRE(f.atoms().size() == 4);
  CHECK(f.atoms()[3].divisor == 2);
  CHECK(f.atoms()[3].offset == 1);
  CHECK(f.atoms()[3].name == "(width + 1) / 2");
  evaluatesTo(*e, f, conv);
  e = f.fit(conv);
  REQUIRE(e);
  CHECK(f.atoms().size() == 4);
  evaluatesTo(*e, f, conv);

  // A multiple of a new atom: 16 * floor(width / 4).
  std::vector<int64_t> quarter = values([](size_t p) { return 16 * floorDiv(kWidth[p], 4); });
  e = f.fit(quarter);
  REQUIRE(e);
  REQUIRE(f.atoms().size() == 5);
  CHECK(f.atoms()[4].divisor == 4);
  CHECK(f.atoms()[4].offset == 0);
  REQUIRE(e->terms.size() == 1);
  CHECK(e->terms[0].coef == 16);
  CHECK(e->terms[0].atoms == std::vector<int>{4});
  evaluatesTo(*e, f, quarter);
  CHECK(f.fit(quarter));
  CHECK(f.atoms().size() == 5);
}

TEST_CASE("fit: probes that leave a quasi-affine atom open ask for another probe", "[dimfit]") {
  // ResNet-50's fifth stride-2 stage over sizes 160..288: floor((size + 31) / 32). Probes whose
  // size % 32 is not 1..5 cannot tell it from floor((size + 26) / 32) (the first candidate).
  const std::vector<int64_t> sizes = {288, 224, 160, 200, 250, 176, 192};
  auto stage5 = [](int64_t x) { return floorDiv(x + 31, 32); };
  std::vector<std::vector<int64_t>> probes;
  for (int64_t x : sizes)
    probes.push_back({x});
  DimFitter f({DimAtom{0, 2, 0, 1, "size"}}, probes, {{160, 288}});
  std::vector<int64_t> v;
  for (int64_t x : sizes)
    v.push_back(stage5(x));
  std::optional<DimExpr> e = f.fit(v);
  REQUIRE(e);
  REQUIRE(f.questions().size() == 1);
  CHECK(f.questions()[0].base == 0);
  int64_t asked = f.questions()[0].value;
  CHECK(asked >= 160);
  CHECK(asked <= 288);
  CHECK(f.atoms()[1].offset != 31); // the first candidate, wrong at `asked`
  CHECK(floorDiv(asked + f.atoms()[1].offset, 32) != stage5(asked));

  // Probing where it asked, and again until nothing is open, pins the offset down.
  for (int round = 0; round < 8 && !f.questions().empty(); ++round) {
    probes.push_back({f.questions()[0].value});
    v.push_back(stage5(probes.back()[0]));
    f = DimFitter({DimAtom{0, 2, 0, 1, "size"}}, probes, {{160, 288}});
    e = f.fit(v);
    REQUIRE(e);
  }
  CHECK(f.questions().empty());
  REQUIRE(f.atoms().size() == 2);
  CHECK(f.atoms()[1].divisor == 32);
  CHECK(f.atoms()[1].offset == 31);
  for (int64_t x = 160; x <= 288; ++x)
    CHECK(floorDiv(x + f.atoms()[1].offset, 32) == stage5(x));

}

TEST_CASE("fitKernelSource: shape-dependent literals become dims expressions", "[dimfit]") {
  DimFitter f({}, {});
  Expected<FittedSource> r = fitSources(atProbes(kKernel), "k0", &f);
  REQUIRE(r.isOk());
  const std::string &s = r->source;
  INFO(s);
  CHECK(r->usesDims);
  CHECK(s.rfind(dimsStructSource(), 0) == 0);
  CHECK(has(s, "float* __restrict__ out0, infc_dims infc_D) {"));
  CHECK(has(s, "infc_D.d["));
  CHECK(has(s, "const long long n = ((long long)(32LL * infc_D.d[1]));"));
  CHECK(has(s, "in0[i % ((int)(1LL * infc_D.d[1]))] * 0.5f;"));
  CHECK(has(s, "for (long long i = 0; i < n; ++i)"));
  CHECK_FALSE(has(s, "1280")); // the base probe's literals are gone
  CHECK_FALSE(has(s, "40"));
  CHECK(f.atoms().size() == 2);

  // A literal without suffix past INT_MAX at some probe is a long long (seq * 2^27).
  std::vector<std::string> big;
  for (int64_t seq : {17, 40, 9})
    big.push_back("extern \"C\" __global__ void k2(long long* o) { o[0] = " + std::to_string(seq << 27) + "; }");
  r = fitSources(big, "k2");
  REQUIRE(r.isOk());
  CHECK(has(r->source, "o[0] = ((long long)(134217728LL * infc_D.d[1]));"));
}

TEST_CASE("fitKernelSource: constexpr declarations holding a dim become const", "[dimfit]") {
  const std::string k = "extern \"C\" __global__ void k0(float* out0) {\n"
                        "  constexpr long long A = @MLL;\n"
                        "  constexpr int B = 4;\n"
                        "  for (long long i = 0; i < A; ++i) out0[i] = B;\n"
                        "}\n";
  Expected<FittedSource> r = fitSources(atProbes(k), "k0");
  REQUIRE(r.isOk());
  INFO(r->source);
  CHECK(has(r->source, "(float* out0, infc_dims infc_D)"));
  CHECK(has(r->source, "  const long long A = ((long long)(32LL * infc_D.d[1]));"));
  CHECK_FALSE(has(r->source, "constexpr long long A"));
  CHECK(has(r->source, "  constexpr int B = 4;"));
}

TEST_CASE("fitKernelSource: kernels that differ in more than integer literals are refused", "[dimfit]") {
  const std::string k = "extern \"C\" __global__ void k0(float* out0) {\n  out0[@N] = SCALE;\n}\n";
  auto with = [&](const char *a, const char *b, const char *c) {
    std::vector<std::string> t = atProbes(k);
    const char *scale[] = {a, b, c};
    for (size_t p = 0; p < 3; ++p)
      t[p].replace(t[p].find("SCALE"), 5, scale[p]);
    return t;
  };
  refused(with("0.5f", "0.25f", "0.5f"), "k0", "0.25f");
  refused(with("in0", "in1", "in0"), "k0", "not a decimal integer literal");
  refused(with("3", "3LL", "3"), "k0", "not a decimal integer literal"); // another suffix
  refused(with("99999999999999999999", "1", "1"), "k0", "not a decimal integer literal"); // past int64_t: no exception

  std::vector<std::string> longer = atProbes(k);
  longer[2].insert(longer[2].find("}"), "  out0[0] = 1.0f;\n");
  refused(longer, "k0", "another length");

  // A dynamic literal in a helper outside the kernel.
  refused(atProbes("__device__ int wrap(int x) { return x % @N; }\n"
                   "extern \"C\" __global__ void k0(float* out0) {\n  out0[wrap(7)] = 1.0f;\n}\n"),
          "k0", "helper");
  refused(atProbes("extern \"C\" __global__ void k0(float* out0) {\n  out0[0] = 1.0f;\n}\n"
                   "__device__ int wrap(int x) { return x % @N; }\n"),
          "k0", "helper");

  // Values that are no expression over the dims (17, 40, 9 -> 5, 1, 7).
  std::vector<std::string> odd = {"extern \"C\" __global__ void k0(float* o) { o[5] = 0; }",
                                  "extern \"C\" __global__ void k0(float* o) { o[1] = 0; }",
                                  "extern \"C\" __global__ void k0(float* o) { o[7] = 0; }"};
  refused(odd, "k0", "no expression");
}

TEST_CASE("fitKernelSource: identical sources and kernels without parameters", "[dimfit]") {
  const std::string same = "extern \"C\" __global__ void k0(float* out0) {\n  out0[3] = 0.5f;\n}\n";
  Expected<FittedSource> r = fitSources({same, same, same}, "k0");
  REQUIRE(r.isOk());
  CHECK_FALSE(r->usesDims);
  CHECK(r->source == same);

  const std::string none = "extern \"C\" __global__ void k1() {\n  float x[4];\n  x[0] = @N;\n}\n";
  r = fitSources(atProbes(none), "k1");
  REQUIRE(r.isOk());
  INFO(r->source);
  CHECK(r->usesDims);
  CHECK(has(r->source, "void k1(infc_dims infc_D) {"));
  CHECK_FALSE(has(r->source, "(, infc_dims"));
  CHECK(has(r->source, "x[0] = ((int)(1LL * infc_D.d[1]));"));
}
