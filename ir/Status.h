// Error model: Status and Expected<T>. No exceptions cross library boundaries.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace infc {

/// Error categories. Kept small: the message carries the detail.
enum class StatusCode {
  Ok = 0,
  InvalidArgument, ///< malformed user input (model, IR text, engine, options)
  Unsupported,     ///< valid input that infc does not handle (op, dtype, feature)
  NotFound,        ///< missing file or name
  OutOfRange,      ///< sizes, offsets, overflow
  Internal,        ///< our own bug surfaced as an error
  IoError,         ///< file system failure
  DeviceError,     ///< CUDA / cuDNN / cuBLAS failure
};

const char *statusCodeName(StatusCode code);

/// A success or an error with one human-readable line.
class [[nodiscard]] Status {
public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  bool isOk() const { return code_ == StatusCode::Ok; }
  explicit operator bool() const { return isOk(); }
  StatusCode code() const { return code_; }
  const std::string &message() const { return message_; }

  /// Returns a copy with "prefix: " prepended to the message (for adding file/node context).
  Status withPrefix(const std::string &prefix) const {
    if (isOk())
      return *this;
    return Status(code_, prefix + ": " + message_);
  }

private:
  StatusCode code_ = StatusCode::Ok;
  std::string message_;
};

inline Status invalidArgument(std::string msg) { return Status(StatusCode::InvalidArgument, std::move(msg)); }
inline Status unsupported(std::string msg) { return Status(StatusCode::Unsupported, std::move(msg)); }
inline Status notFound(std::string msg) { return Status(StatusCode::NotFound, std::move(msg)); }
inline Status outOfRange(std::string msg) { return Status(StatusCode::OutOfRange, std::move(msg)); }
inline Status internalError(std::string msg) { return Status(StatusCode::Internal, std::move(msg)); }
inline Status ioError(std::string msg) { return Status(StatusCode::IoError, std::move(msg)); }

/// A value or an error Status.
template <typename T> class [[nodiscard]] Expected {
public:
  Expected(T value) : storage_(std::move(value)) {}
  Expected(Status status) : storage_(std::move(status)) {
    assert(!std::get<Status>(storage_).isOk() && "Expected built from an ok Status");
  }

  bool isOk() const { return std::holds_alternative<T>(storage_); }
  explicit operator bool() const { return isOk(); }
  const Status &status() const {
    static const Status okStatus;
    return isOk() ? okStatus : std::get<Status>(storage_);
  }
  T &value() & { return std::get<T>(storage_); }
  const T &value() const & { return std::get<T>(storage_); }
  T &&value() && { return std::get<T>(std::move(storage_)); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }
  T &operator*() { return value(); }
  const T &operator*() const { return value(); }

private:
  std::variant<T, Status> storage_;
};

} // namespace infc

#define INFC_CONCAT_INNER(a, b) a##b
#define INFC_CONCAT(a, b) INFC_CONCAT_INNER(a, b)

/// Returns the Status from the enclosing function if `expr` failed.
#define INFC_RETURN_IF_ERROR(expr)                                                                 \
  do {                                                                                             \
    ::infc::Status infc_status_ = (expr);                                                          \
    if (!infc_status_.isOk())                                                                      \
      return infc_status_;                                                                         \
  } while (0)

#define INFC_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)                                                 \
  auto tmp = (expr);                                                                               \
  if (!tmp.isOk())                                                                                 \
    return tmp.status();                                                                           \
  lhs = std::move(tmp).value()

/// `INFC_ASSIGN_OR_RETURN(auto x, f());` binds the value or returns the error.
#define INFC_ASSIGN_OR_RETURN(lhs, expr)                                                           \
  INFC_ASSIGN_OR_RETURN_IMPL(INFC_CONCAT(infc_expected_, __LINE__), lhs, expr)
