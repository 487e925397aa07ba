#include "compiler/FileUtil.h"

#include "support/FdIo.h"
#include "support/FileRead.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <iostream>
#include <iterator>
#include <sstream>
#include <unistd.h>

namespace infc {

Expected<std::string> readFile(const std::string &path) {
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::string data, error;
  if (!support::readRegularFile(path, uint64_t(64) << 30, data, error))
    return ioError(error);
  return data;
}

Status checkOutputPath(const std::string &output, const std::string &input) {
  if (output == "-")
    return Status::ok();
  struct stat out;
  if (::stat(output.c_str(), &out) != 0)
    return Status::ok(); // does not exist yet
  if (!S_ISREG(out.st_mode))
    return invalidArgument(output + ": exists and is not a regular file; refusing to replace it");
  struct stat in;
  if (!input.empty() && input != "-" && ::stat(input.c_str(), &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino)
    return invalidArgument(output + ": is the input file itself; refusing to overwrite it");
  return Status::ok();
}

namespace {

// The temporary file being written, for the signal handler (async-signal-safe: a fixed buffer).
char gTempPath[4096];
volatile sig_atomic_t gTempActive = 0;

extern "C" void removeTempAndDie(int sig) {
  if (gTempActive)
    ::unlink(gTempPath);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

/// While alive, SIGINT and SIGTERM remove `tmp` before the process dies.
class TempFileGuard {
public:
  explicit TempFileGuard(const std::string &tmp) {
    if (tmp.size() >= sizeof gTempPath)
      return;
    std::memcpy(gTempPath, tmp.c_str(), tmp.size() + 1);
    struct sigaction sa {};
    sa.sa_handler = removeTempAndDie;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &oldInt_);
    ::sigaction(SIGTERM, &sa, &oldTerm_);
    gTempActive = 1;
    armed_ = true;
  }
  ~TempFileGuard() {
    if (!armed_)
      return;
    gTempActive = 0;
    ::sigaction(SIGINT, &oldInt_, nullptr);
    ::sigaction(SIGTERM, &oldTerm_, nullptr);
  }

private:
  struct sigaction oldInt_ {}, oldTerm_ {};
  bool armed_ = false;
};

} // namespace

Status writeFileAtomically(const std::string &path, const std::string &data) {
  if (path == "-") {
    std::fwrite(data.data(), 1, data.size(), stdout);
    std::fflush(stdout);
    return Status::ok();
  }
  INFC_RETURN_IF_ERROR(checkOutputPath(path));
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = mkstemp(tmp.data());
  if (fd < 0)
    return ioError(path + ": cannot create temporary file: " + std::strerror(errno));
  TempFileGuard guard(tmp);
  if (!support::writeFully(fd, data.data(), data.size())) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return ioError(path + ": write failed: " + std::strerror(e));
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return ioError(path + ": cannot flush: " + std::strerror(errno));
  }
  ::chmod(tmp.c_str(), 0644);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return ioError(path + ": cannot rename temporary file: " + std::strerror(e));
  }
  return Status::ok();
}

} // namespace infc
