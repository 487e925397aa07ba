// onnx::TensorProto -> Tensor, including external data confined to the model's folder.
#pragma once

#include "ir/Tensor.h"

#include <onnx/onnx_pb.h>

#include <string>

namespace infc {

/// `what` names the tensor in errors ("initializer 'conv1.weight'"). `baseDir` is the model's
/// folder (external data must live inside it); empty disallows external data.
Expected<Tensor> tensorFromProto(const onnx::TensorProto &proto, const std::string &baseDir, const std::string &what);

} // namespace infc
