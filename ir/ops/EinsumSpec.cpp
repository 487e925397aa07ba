#include "ir/ops/EinsumSpec.h"

#include <algorithm>
#include <set>

namespace infc::ops {

Expected<EinsumSpec> parseEinsum(const std::string &equation, const std::vector<int64_t> &ranks) {
  std::string eq;
  for (char c : equation)
    if (c != ' ')
      eq += c;
  size_t arrow = eq.find("->");
  std::string lhs = eq.substr(0, arrow);
  EinsumSpec spec;
  std::vector<std::string> terms;
  size_t start = 0;
  while (true) {
    size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if (terms.size() != ranks.size())
    return invalidArgument("einsum equation '" + equation + "' has " + std::to_string(terms.size()) + " terms for " +
                           std::to_string(ranks.size()) + " inputs");
  int64_t ellipsisRank = 0;
  auto parseTerm = [&](const std::string &term, int64_t rank, std::vector<int> &labels) -> Status {
    size_t e = term.find("...");
    int64_t letters = static_cast<int64_t>(term.size()) - (e == std::string::npos ? 0 : 3);
    int64_t ell = e == std::string::npos ? 0 : rank - letters;
    if (ell < 0 || (e == std::string::npos && letters != rank))
      return invalidArgument("einsum term '" + term + "' does not match an input of rank " + std::to_string(rank));
    ellipsisRank = std::max(ellipsisRank, ell);
    for (size_t i = 0; i < term.size(); ++i) {
      if (i == e) {
        for (int64_t k = 0; k < ell; ++k)
          labels.push_back(256 + static_cast<int>(ellipsisRank - ell + k));
        i += 2;
        continue;
      }
      char c = term[i];
      if (!std::isalpha(static_cast<unsigned char>(c)))
        return invalidArgument("einsum term '" + term + "' has an invalid label '" + std::string(1, c) + "'");
      labels.push_back(static_cast<unsigned char>(c));
    }
    return Status::ok();
  };
  // First pass to find the broadcast rank, second to assign right-aligned ellipsis labels.
  for (size_t i = 0; i < terms.size(); ++i) {
    std::vector<int> tmp;
    INFC_RETURN_IF_ERROR(parseTerm(terms[i], ranks[i], tmp));
  }
  for (size_t i = 0; i < terms.size(); ++i) {
    std::vector<int> labels;
    INFC_RETURN_IF_ERROR(parseTerm(terms[i], ranks[i], labels));
    spec.inputs.push_back(labels);
  }
  if (arrow != std::string::npos) {
    std::string rhs = eq.substr(arrow + 2);
    size_t e = rhs.find("...");
    for (size_t i = 0; i < rhs.size(); ++i) {
      if (i == e) {
        for (int64_t k = 0; k < ellipsisRank; ++k)
          spec.output.push_back(256 + static_cast<int>(k));
        i += 2;
        continue;
      }
      if (!std::isalpha(static_cast<unsigned char>(rhs[i])))
        return invalidArgument("einsum output has an invalid label");
      spec.output.push_back(static_cast<unsigned char>(rhs[i]));
    }
  } else {
    // Implicit output: ellipsis dims, then labels appearing once, alphabetically.
    std::map<int, int> count;
    for (const auto &in : spec.inputs)
      for (int l : in)
        ++count[l];
    for (int64_t k = 0; k < ellipsisRank; ++k)
      spec.output.push_back(256 + static_cast<int>(k));
    for (const auto &[l, n] : count)
      if (n == 1 && l < 256)
        spec.output.push_back(l);
  }
  std::set<int> known;
  for (const auto &in : spec.inputs)
    known.insert(in.begin(), in.end());
  for (int l : spec.output)
    if (!known.count(l))
      return invalidArgument("einsum output label is not in any input");
  return spec;
}

} // namespace infc::ops
