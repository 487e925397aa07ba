#include "codegen/TacticSource.h"

#include <sstream>

namespace infc::codegen {

std::string convSignature(const rt::ConvSpec &s) {
  std::ostringstream os;
  auto list = [&](const std::vector<int64_t> &v) {
    for (int64_t d : v)
      os << d << ",";
    os << "|";
  };
  for (const auto *v : {&s.xDims, &s.wDims, &s.yDims, &s.padsBegin, &s.padsEnd, &s.strides, &s.dilations})
    list(*v);
  os << s.transpose << s.hasBias << s.hasResidual << s.activation << "|" << s.dtype << s.nhwc;
  if (s.inPlace)
    os << "|inplace";
  if (s.int8) // the factor's value is a runtime operand; whether there is one changes the graph
    os << "|int8:" << s.zDtype << (s.postMult != 1.0f ? ":post-mult" : "");
  return os.str();
}

} // namespace infc::codegen
