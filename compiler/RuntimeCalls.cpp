#include "compiler/RuntimeCalls.h"

#include "runtime/CudaDriver.h"

namespace infc {

Status cuStatus(CUresult r, const std::string &what) {
  if (r == CUDA_SUCCESS)
    return Status::ok();
  if (!rt::cudaDriver().loaded)
    return Status(StatusCode::DeviceError, what + ": " + rt::cudaDriver().error);
  const char *name = nullptr;
  rt::cudaDriver().cuGetErrorName(r, &name);
  return Status(StatusCode::DeviceError, what + ": " + (name ? name : "CUDA error"));
}

Status apiStatus(infc_status s, const std::string &prefix) {
  if (s == INFC_OK)
    return Status::ok();
  return Status(s == INFC_ERROR_NO_DEVICE || s == INFC_ERROR_CUDA ? StatusCode::DeviceError : StatusCode::InvalidArgument,
                prefix + infc_last_error());
}

Expected<IoInfo> ioInfo(infc_engine *e, const char *name) {
  IoInfo info;
  info.name = name;
  int32_t dt = 0;
  int rank = 0;
  int64_t dims[8];
  size_t bytes = 0;
  INFC_RETURN_IF_ERROR(apiStatus(infc_engine_tensor_info(e, name, &dt, &rank, dims, &bytes)));
  info.dtype = static_cast<DType>(dt);
  info.shape.assign(dims, dims + rank);
  info.bytes = bytes;
  return info;
}

void setShape(IoInfo &io, std::vector<int64_t> shape) {
  io.shape = std::move(shape);
  io.bytes = static_cast<size_t>(*TensorType::fromStatic(io.dtype, io.shape).numElements()) * dtypeSize(io.dtype);
}

Status setContextShapes(infc_context *ctx, int profile, const std::vector<IoInfo> &ins, const std::string &prefix) {
  INFC_RETURN_IF_ERROR(apiStatus(infc_context_set_profile(ctx, profile), prefix));
  for (const IoInfo &io : ins)
    INFC_RETURN_IF_ERROR(apiStatus(
        infc_context_set_input_shape(ctx, io.name.c_str(), io.shape.data(), static_cast<int>(io.shape.size())), prefix));
  return Status::ok();
}

Status outputShapes(const infc_context *ctx, std::vector<IoInfo> &outs, const std::string &prefix) {
  for (IoInfo &io : outs) {
    int64_t dims[8];
    int rank = 0;
    INFC_RETURN_IF_ERROR(apiStatus(infc_context_get_tensor_shape(ctx, io.name.c_str(), dims, &rank), prefix));
    setShape(io, std::vector<int64_t>(dims, dims + rank));
  }
  return Status::ok();
}

} // namespace infc
