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

} // namespace infc
