#include "codegen/Nvrtc.h"

#include "support/FdIo.h"

#include <nvrtc.h>

#include <cerrno>
#include <fcntl.h>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace infc::codegen {

static Status nvrtcError(nvrtcResult r, const std::string &what) {
  return internalError(what + ": " + nvrtcGetErrorString(r));
}

Expected<CubinResult> compileToCubinInProcess(const std::string &source, const std::string &name, int smMajor,
                                              int smMinor) {
  nvrtcProgram prog;
  if (nvrtcResult r = nvrtcCreateProgram(&prog, source.c_str(), name.c_str(), 0, nullptr, nullptr); r != NVRTC_SUCCESS)
    return nvrtcError(r, "nvrtcCreateProgram");
  std::string arch = "--gpu-architecture=sm_" + std::to_string(smMajor) + std::to_string(smMinor);
  // No fast-math: kernels must match the reference interpreter within tight tolerances. No
  // -lineinfo: its line table records the working directory, so the same build from two folders
  // gave different engine bytes.
  const char *opts[] = {arch.c_str(), "--std=c++17", "-default-device", "--fmad=true"};
  nvrtcResult compiled = nvrtcCompileProgram(prog, static_cast<int>(sizeof opts / sizeof opts[0]), opts);
  CubinResult out;
  size_t logSize = 0;
  nvrtcGetProgramLogSize(prog, &logSize);
  if (logSize > 1) {
    out.log.resize(logSize);
    nvrtcGetProgramLog(prog, out.log.data());
    out.log.resize(logSize - 1);
  }
  if (compiled != NVRTC_SUCCESS) {
    nvrtcDestroyProgram(&prog);
    return internalError("NVRTC failed to compile generated kernels '" + name + "' for " + arch + ":\n" + out.log);
  }
  size_t size = 0;
  if (nvrtcResult r = nvrtcGetCUBINSize(prog, &size); r != NVRTC_SUCCESS) {
    nvrtcDestroyProgram(&prog);
    return nvrtcError(r, "nvrtcGetCUBINSize");
  }
  out.cubin.resize(size);
  nvrtcResult got = nvrtcGetCUBIN(prog, out.cubin.data());
  nvrtcDestroyProgram(&prog);
  if (got != NVRTC_SUCCESS)
    return nvrtcError(got, "nvrtcGetCUBIN");
  return out;
}

namespace {

// The exchange with infc-nvrtc, over its stdin and stdout. Request: u32 smMajor, u32 smMinor,
// then the name and the source, each as u64 length + bytes. Answer: u8 ok, then the log and the
// cubin (ok) or the error message (not ok), each as u64 length + bytes.

bool writeBlob(int fd, const std::string &s) {
  uint64_t n = s.size();
  return support::writeFully(fd, &n, sizeof n) && support::writeFully(fd, s.data(), s.size());
}

bool readBlob(int fd, std::string &s, uint64_t limit) {
  uint64_t n = 0;
  if (!support::readFully(fd, &n, sizeof n) || n > limit)
    return false;
  s.resize(n);
  return support::readFully(fd, s.data(), n);
}

constexpr uint64_t kMaxBlob = uint64_t(1) << 32; // 4 GiB: far above any kernel module

/// `infc-nvrtc` in the running executable's folder, or "" (none, or INFC_NVRTC_IN_PROCESS set).
std::string helperPath() {
  if (const char *e = std::getenv("INFC_NVRTC_IN_PROCESS"); e && *e && std::strcmp(e, "0") != 0)
    return "";
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0)
    return "";
  std::string self(buf, static_cast<size_t>(n));
  size_t slash = self.rfind('/');
  if (slash == std::string::npos)
    return "";
  std::string helper = self.substr(0, slash + 1) + "infc-nvrtc";
  if (helper == self || ::access(helper.c_str(), X_OK) != 0)
    return "";
  return helper;
}

/// Writes the request with SIGPIPE held back on this thread (a helper that died early must give
/// an error here, not kill infc).
bool writeRequest(int fd, const std::string &source, const std::string &name, int smMajor, int smMinor) {
  sigset_t pipeSet, old;
  sigemptyset(&pipeSet);
  sigaddset(&pipeSet, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipeSet, &old);
  uint32_t sm[2] = {static_cast<uint32_t>(smMajor), static_cast<uint32_t>(smMinor)};
  bool ok = support::writeFully(fd, sm, sizeof sm) && writeBlob(fd, name) && writeBlob(fd, source);
  if (!ok && !sigismember(&old, SIGPIPE)) {
    timespec zero{};
    sigtimedwait(&pipeSet, nullptr, &zero); // drop the SIGPIPE this write raised, if any
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return ok;
}

Expected<CubinResult> compileInHelper(const std::string &helper, const std::string &source, const std::string &name,
                                      int smMajor, int smMinor) {
  int toChild[2], fromChild[2];
  if (::pipe2(toChild, O_CLOEXEC) != 0)
    return internalError("NVRTC helper: pipe: " + std::string(std::strerror(errno)));
  if (::pipe2(fromChild, O_CLOEXEC) != 0) {
    ::close(toChild[0]);
    ::close(toChild[1]);
    return internalError("NVRTC helper: pipe: " + std::string(std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, toChild[0], 0);
  posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1);
  char *argv[] = {const_cast<char *>(helper.c_str()), nullptr};
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, helper.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(toChild[0]);
  ::close(fromChild[1]);
  if (spawned != 0) {
    ::close(toChild[1]);
    ::close(fromChild[0]);
    return internalError("cannot start " + helper + ": " + std::strerror(spawned));
  }
  bool sent = writeRequest(toChild[1], source, name, smMajor, smMinor);
  ::close(toChild[1]);
  uint8_t ok = 0;
  std::string first, second;
  bool got = support::readFully(fromChild[0], &ok, 1) && readBlob(fromChild[0], first, kMaxBlob) &&
             (!ok || readBlob(fromChild[0], second, kMaxBlob));
  ::close(fromChild[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status))
    return internalError(helper + " (NVRTC) crashed compiling " + name + " (signal " + std::to_string(WTERMSIG(status)) + ")");
  if (!sent || !got || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return internalError(helper + " (NVRTC) did not answer for " + name + " (exit status " +
                         std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  if (!ok)
    return internalError(first);
  CubinResult r;
  r.log = std::move(first);
  r.cubin = std::move(second);
  return r;
}

} // namespace

Expected<CubinResult> compileToCubin(const std::string &source, const std::string &name, int smMajor, int smMinor) {
  std::string helper = helperPath();
  if (helper.empty())
    return compileToCubinInProcess(source, name, smMajor, smMinor);
  return compileInHelper(helper, source, name, smMajor, smMinor);
}

int serveNvrtcRequest(int in, int out) {
  uint32_t sm[2];
  std::string name, source;
  if (!support::readFully(in, sm, sizeof sm) || !readBlob(in, name, 4096) || !readBlob(in, source, kMaxBlob))
    return 2;
  Expected<CubinResult> r = compileToCubinInProcess(source, name, static_cast<int>(sm[0]), static_cast<int>(sm[1]));
  uint8_t ok = r.isOk() ? 1 : 0;
  bool written = support::writeFully(out, &ok, 1) && (r.isOk() ? writeBlob(out, r->log) && writeBlob(out, r->cubin)
                                                     : writeBlob(out, r.status().message()));
  return written ? 0 : 3;
}

int nvrtcVersion() {
  int major = 0, minor = 0;
  if (::nvrtcVersion(&major, &minor) != NVRTC_SUCCESS)
    return 0;
  return major * 1000 + minor * 10;
}

} // namespace infc::codegen
