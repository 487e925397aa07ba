#include "compiler/TimingCacheFile.h"

#include "compiler/BuildReport.h"

#include "compiler/FileUtil.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

namespace infc {

Status saveTimingCache(const std::string &path, const codegen::TimingCache &cache) {
  std::string lockPath = path + ".lock";
  int fd = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    return Status(StatusCode::IoError, lockPath + ": cannot open the timing cache's lock file: " + std::strerror(errno));
  if (::flock(fd, LOCK_EX) != 0) {
    ::close(fd);
    return Status(StatusCode::IoError, lockPath + ": cannot lock: " + std::strerror(errno));
  }
  Status result = Status::ok();
  Expected<codegen::TimingCache> current = codegen::TimingCache::load(path, /*mustExist=*/false);
  if (!current.isOk()) {
    result = current.status();
  } else {
    current->merge(cache);
    result = writeFileAtomically(path, current->text());
  }
  ::flock(fd, LOCK_UN);
  ::close(fd);
  return result;
}

Expected<std::string> showTimingCache(const std::string &path, bool asJson) {
  INFC_ASSIGN_OR_RETURN(codegen::TimingCache c, codegen::TimingCache::load(path, /*mustExist=*/true));
  if (asJson) {
    // The cache itself (its own "version" is the file format's) with the schema version of
    // infc's JSON output.
    nlohmann::json j = c.raw();
    j["schema_version"] = kJsonSchemaVersion;
    return j.dump(1) + "\n";
  }
  std::ostringstream os;
  os << "timing cache " << path << " (format " << c.raw().value("version", 0) << ")\n";
  const auto &gpus = c.raw()["gpus"];
  if (gpus.empty())
    os << "  no entries\n";
  for (const auto &[sku, g] : gpus.items()) {
    size_t convs = 0, matmuls = 0;
    for (const auto &[key, e] : g["entries"].items())
      (key.rfind("conv:", 0) == 0 ? convs : matmuls) += 1;
    os << "  " << g["gpu"].get<std::string>() << " (" << g["sm"].get<std::string>() << ", " << g.value("sm_count", 0)
       << " SMs, " << g.value("memory_gib", 0) << " GiB), CUDA " << g.value("cuda", 0) << ", cuDNN " << g.value("cudnn", 0) << ", cuBLASLt " << g.value("cublaslt", 0)
       << ": " << convs << " convolutions, " << matmuls << " matmuls\n";
  }
  return os.str();
}

Status mergeTimingCaches(const std::vector<std::string> &inputs, const std::string &output) {
  if (inputs.size() < 2)
    return invalidArgument("infc cache merge needs two or more caches");
  INFC_RETURN_IF_ERROR(checkOutputPath(output));
  codegen::TimingCache merged;
  for (const std::string &in : inputs) {
    INFC_ASSIGN_OR_RETURN(codegen::TimingCache c, codegen::TimingCache::load(in, /*mustExist=*/true));
    merged.merge(c);
  }
  return writeFileAtomically(output, merged.text());
}

Expected<std::string> pruneTimingCache(const std::string &path, const std::string &output) {
  INFC_ASSIGN_OR_RETURN(codegen::TimingCache c, codegen::TimingCache::load(path, /*mustExist=*/true));
  std::string out = output.empty() ? path : output;
  INFC_RETURN_IF_ERROR(checkOutputPath(out, output.empty() ? "" : path));
  size_t removed = c.pruneStale();
  INFC_RETURN_IF_ERROR(writeFileAtomically(out, c.text()));
  return "pruned " + std::to_string(removed) + " entries timed with other CUDA, cuDNN or cuBLASLt versions; wrote " + out + "\n";
}

} // namespace infc
