// What `infc build` shows on stderr while it works. On a terminal: one status line, redrawn in
// place ("infc build: tune 12/53 layers, 8.1 s"), cleared when the build ends, so that the
// summary and any error stand alone. Elsewhere (CI logs, pipes): no status line, only the
// calibration's progress lines. --quiet: neither (warnings and errors still print). --verbose:
// each fusion taken or refused and each tactic timed, one line each, printed once, ending with
// the seconds since the build began ("[12.345 s]").
#pragma once

#include "compiler/Compile.h"

#include <chrono>
#include <set>
#include <string>

namespace infc {

class BuildDisplay {
public:
  BuildDisplay(bool terminal, bool quiet, bool verbose);
  ~BuildDisplay() { clear(); }
  BuildDisplay(const BuildDisplay &) = delete;
  BuildDisplay &operator=(const BuildDisplay &) = delete;

  /// Callbacks for CompileOptions::observer; valid while this display lives.
  BuildObserver observer();
  /// For CalibrationOptions::progress ("calibration: batch 3/10, pass 2/2 (histograms)").
  std::function<void(const std::string &)> calibrationProgress();
  /// Erases the status line (before the summary, a warning or an error is printed).
  void clear();

  /// Whether stderr is a terminal (what `terminal` should be outside tests).
  static bool stderrIsTerminal();

private:
  void redraw(bool force);
  void printLine(const std::string &line);

  bool terminal_, quiet_, verbose_;
  std::string stage_, detail_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_, lastDraw_;
  std::set<std::string> said_; ///< verbose lines already printed (fixed-point passes repeat them)
};

} // namespace infc
