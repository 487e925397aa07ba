#include "compiler/BuildDisplay.h"

#include <cstdio>
#include <unistd.h>

namespace infc {

BuildDisplay::BuildDisplay(bool terminal, bool quiet, bool verbose)
    : terminal_(terminal && !quiet), quiet_(quiet), verbose_(verbose), start_(std::chrono::steady_clock::now()) {}

bool BuildDisplay::stderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

void BuildDisplay::clear() {
  if (!shown_)
    return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  shown_ = false;
}

void BuildDisplay::redraw(bool force) {
  if (!terminal_)
    return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - lastDraw_ < std::chrono::milliseconds(100))
    return;
  lastDraw_ = now;
  double seconds = std::chrono::duration<double>(now - start_).count();
  std::fprintf(stderr, "\r\033[Kinfc build: %s%s%s, %.1f s", stage_.c_str(), detail_.empty() ? "" : " ", detail_.c_str(),
               seconds);
  std::fflush(stderr);
  shown_ = true;
}

void BuildDisplay::printLine(const std::string &line) {
  clear();
  std::fprintf(stderr, "%s\n", line.c_str());
  redraw(true);
}

BuildObserver BuildDisplay::observer() {
  BuildObserver o;
  o.stage = [this](const std::string &stage) {
    stage_ = stage;
    detail_.clear();
    redraw(true);
  };
  o.step = [this](size_t done, size_t total) {
    detail_ = std::to_string(done) + "/" + std::to_string(total) + (stage_ == "tune" ? " layers" : "");
    redraw(done == total);
  };
  if (verbose_)
    o.verbose = [this](const std::string &line) {
      if (!said_.insert(line).second)
        return;
      // The build's clock at the end of each line: where a long build spends its time.
      char at[32];
      std::snprintf(at, sizeof at, " [%.3f s]",
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
      printLine("verbose: " + line + at);
    };
  return o;
}

std::function<void(const std::string &)> BuildDisplay::calibrationProgress() {
  return [this](const std::string &line) {
    if (quiet_)
      return;
    if (!terminal_) {
      std::fprintf(stderr, "%s\n", line.c_str());
      return;
    }
    // "calibration: batch 3/10, ..." becomes the status line's detail.
    detail_ = line.rfind("calibration: ", 0) == 0 ? line.substr(13) : line;
    redraw(false);
  };
}

} // namespace infc
