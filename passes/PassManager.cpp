#include "passes/PassManager.h"

#include "ir/Verifier.h"
#include "passes/Registry.h"

#include <algorithm>

namespace infc {

namespace {
class PipelineParser {
public:
  explicit PipelineParser(const std::string &text) : text_(text) {}

  Expected<std::vector<PipelineItem>> parseList(bool nested) {
    std::vector<PipelineItem> items;
    skipSpace();
    if (pos_ == text_.size() || (nested && peek() == ')'))
      return items;
    for (;;) {
      INFC_ASSIGN_OR_RETURN(PipelineItem item, parseItem());
      items.push_back(std::move(item));
      skipSpace();
      if (pos_ < text_.size() && peek() == ',') {
        ++pos_;
        continue;
      }
      break;
    }
    return items;
  }

  Expected<PipelineItem> parseItem() {
    skipSpace();
    size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '-' || peek() == '_'))
      ++pos_;
    std::string name = text_.substr(start, pos_ - start);
    if (name.empty())
      return invalidArgument("pass pipeline '" + text_ + "': expected a pass name at offset " + std::to_string(pos_));
    skipSpace();
    PipelineItem item;
    if (name == "fixpoint") {
      if (pos_ >= text_.size() || peek() != '(')
        return invalidArgument("pass pipeline '" + text_ + "': expected '(' after fixpoint");
      ++pos_;
      INFC_ASSIGN_OR_RETURN(item.group, parseList(true));
      skipSpace();
      if (pos_ >= text_.size() || peek() != ')')
        return invalidArgument("pass pipeline '" + text_ + "': expected ')' to close fixpoint(");
      ++pos_;
      item.fixpoint = true;
      return item;
    }
    if (!findPass(name)) {
      std::string known;
      for (const PassInfo &p : registeredPasses())
        known += (known.empty() ? "" : ", ") + std::string(p.name);
      return invalidArgument("unknown pass '" + name + "' (known passes: " + known + ")");
    }
    item.passName = name;
    return item;
  }

  bool atEnd() {
    skipSpace();
    return pos_ == text_.size();
  }
  size_t pos() const { return pos_; }

private:
  char peek() const { return text_[pos_]; }
  void skipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])))
      ++pos_;
  }
  const std::string &text_;
  size_t pos_ = 0;
};
} // namespace

Expected<PassManager> PassManager::parse(const std::string &pipeline, PassManagerOptions options) {
  PipelineParser p(pipeline);
  INFC_ASSIGN_OR_RETURN(std::vector<PipelineItem> items, p.parseList(false));
  if (!p.atEnd())
    return invalidArgument("pass pipeline '" + pipeline + "': unexpected text at offset " + std::to_string(p.pos()));
  PassManager pm;
  pm.items_ = std::move(items);
  pm.options_ = std::move(options);
  return pm;
}

Expected<bool> PassManager::runItem(const PipelineItem &item, Graph &graph, PassContext &ctx) const {
  if (!item.fixpoint) {
    const PassInfo *info = findPass(item.passName);
    std::unique_ptr<Pass> pass = info->create();
    Expected<bool> changed = pass->run(graph, ctx);
    if (!changed.isOk())
      return changed.status();
    if (options_.verifyEach) {
      Status v = verifyGraph(graph);
      if (!v.isOk())
        return internalError("pass '" + item.passName + "' broke an IR invariant: " + v.message());
    }
    if (options_.afterPass)
      options_.afterPass(item.passName, graph, *changed);
    return *changed;
  }
  bool any = false;
  const int limit = options_.maxFixpointIterations + static_cast<int>(std::min<size_t>(graph.numOps() / 2, 1 << 20));
  for (int iter = 0;; ++iter) {
    if (iter == limit)
      return internalError("fixpoint group did not converge after " + std::to_string(iter) + " iterations");
    bool changed = false;
    for (const PipelineItem &member : item.group) {
      INFC_ASSIGN_OR_RETURN(bool c, runItem(member, graph, ctx));
      changed = changed || c;
    }
    any = any || changed;
    if (!changed)
      break;
  }
  return any;
}

Status PassManager::run(Graph &graph, PassContext &ctx) const {
  for (const PipelineItem &item : items_) {
    Expected<bool> r = runItem(item, graph, ctx);
    if (!r.isOk())
      return r.status();
  }
  return Status::ok();
}

Status PassManager::run(Module &module, PassContext &ctx) const {
  for (auto &g : module.graphs())
    INFC_RETURN_IF_ERROR(run(*g, ctx));
  return Status::ok();
}

} // namespace infc
