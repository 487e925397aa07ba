#include "codegen/kernels/Families.h"

namespace infc::codegen {

LowerFn findLowering(OpKind kind) {
  static const LoweringTable table = [] {
    LoweringTable t{};
    registerElementwiseLowerings(t);
    registerMatmulLowerings(t);
    registerConvLowerings(t);
    registerDataMovementLowerings(t);
    registerReduceLowerings(t);
    registerPoolLowerings(t);
    registerMiscLowerings(t);
    registerResizeLowerings(t);
    registerExtraLowerings(t);
    registerAttentionLowerings(t);
    return t;
  }();
  return table[static_cast<size_t>(kind)];
}

} // namespace infc::codegen
