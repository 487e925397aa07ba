// Registration hooks of the kernel families (one file each under codegen/kernels/).
#pragma once

#include "codegen/Lowering.h"

#include <array>

namespace infc::codegen {

using LoweringTable = std::array<LowerFn, static_cast<size_t>(OpKind::NumOpKinds)>;

void registerElementwiseLowerings(LoweringTable &table);
void registerMatmulLowerings(LoweringTable &table);
void registerConvLowerings(LoweringTable &table);
void registerDataMovementLowerings(LoweringTable &table);
void registerReduceLowerings(LoweringTable &table);
void registerPoolLowerings(LoweringTable &table);
void registerMiscLowerings(LoweringTable &table);
void registerResizeLowerings(LoweringTable &table);
void registerExtraLowerings(LoweringTable &table);
void registerAttentionLowerings(LoweringTable &table);

} // namespace infc::codegen
