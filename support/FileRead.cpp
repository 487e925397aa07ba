#include "support/FileRead.h"

#include "support/FdIo.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace infc::support {

bool readRegularFile(const std::string &path, uint64_t maxBytes, std::string &out, std::string &error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    error = path + ": not a regular file";
    return false;
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > maxBytes) {
    ::close(fd);
    error = path + ": " + std::to_string(size) + " bytes, more than the limit of " + std::to_string(maxBytes);
    return false;
  }
  out.assign(size, '\0');
  if (!readFully(fd, out.data(), size)) {
    int e = errno;
    ::close(fd);
    error = path + (e == 0 ? ": file shrank while being read" : std::string(": read error: ") + std::strerror(e));
    return false;
  }
  ::close(fd);
  return true;
}

} // namespace infc::support
