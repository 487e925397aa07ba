#include "ir/IR.h"

#include <algorithm>
#include <cassert>

namespace infc {

// ---------------------------------------------------------------- Value

Block *Value::parentBlock() const { return defOp_ ? defOp_->parentBlock() : argBlock_; }

bool Value::isGraphOutput() const {
  Block *b = parentBlock();
  if (!b || !b->graph())
    return false;
  for (const GraphOutput &o : b->graph()->outputs())
    if (o.value == this)
      return true;
  return false;
}

void Value::removeUser(Operation *op) {
  auto it = std::find(users_.begin(), users_.end(), op);
  assert(it != users_.end() && "removing a user that is not recorded");
  users_.erase(it);
}

void Value::replaceAllUsesWith(Value *other) {
  if (other == this)
    return;
  std::vector<Operation *> users = users_;
  for (Operation *u : users)
    for (size_t i = 0; i < u->numOperands(); ++i)
      if (u->operand(i) == this)
        u->setOperand(i, other);
  Block *b = parentBlock();
  if (b && b->graph()) {
    Graph *g = b->graph();
    for (size_t i = 0; i < g->outputs().size(); ++i)
      if (g->outputs()[i].value == this)
        g->setOutputValue(i, other);
  }
}

// ---------------------------------------------------------------- Operation

Operation::~Operation() { dropOperands(); }

void Operation::dropOperands() {
  for (Value *v : operands_)
    if (v)
      v->removeUser(this);
  operands_.clear();
}

void Operation::setOperand(size_t i, Value *v) {
  if (operands_[i])
    operands_[i]->removeUser(this);
  operands_[i] = v;
  if (v)
    v->users_.push_back(this);
}

void Operation::setOperands(std::vector<Value *> values) {
  dropOperands();
  operands_ = std::move(values);
  for (Value *v : operands_)
    if (v)
      v->users_.push_back(this);
}

std::vector<Value *> Operation::results() const {
  std::vector<Value *> r;
  r.reserve(results_.size());
  for (const auto &v : results_)
    r.push_back(v.get());
  return r;
}

Block &Operation::addRegion() {
  Graph *g = block_ ? block_->graph() : nullptr;
  regions_.push_back(std::make_unique<Block>(g, this));
  return *regions_.back();
}

Graph *Operation::parentGraph() const { return block_ ? block_->graph() : nullptr; }

void Operation::erase() {
  assert(block_ && "erasing an op that is not in a block");
  for (const auto &r : results_) {
    (void)r;
    assert(r->users().empty() && !r->isGraphOutput() && "erasing an op whose results are used");
  }
  Block *b = block_;
  if (Graph *g = b->graph())
    for (const auto &r : results_)
      g->releaseName(r->name());
  b->ops_.erase(self_); // destroys *this
}

std::string Operation::describe() const {
  std::string s = loc_.describe();
  if (s.empty())
    return std::string(name());
  return s;
}

Status Operation::error(const std::string &msg) const {
  return invalidArgument(describe() + ": " + msg);
}

// ---------------------------------------------------------------- Block

Block::~Block() {
  // Destroy in reverse order so users go before their operands' definitions.
  while (!ops_.empty())
    ops_.pop_back();
}

Value *Block::addArgument(const std::string &name, TensorType type) {
  std::string n = graph_ ? graph_->uniqueName(name) : name;
  args_.push_back(std::unique_ptr<Value>(new Value(std::move(n), std::move(type))));
  Value *v = args_.back().get();
  v->argBlock_ = this;
  v->index_ = static_cast<unsigned>(args_.size() - 1);
  return v;
}

Operation *Block::create(OpKind kind, const std::vector<Value *> &operands,
                         const std::vector<TensorType> &resultTypes, AttrMap attrs, Location loc,
                         Operation *before, const std::vector<std::string> &resultNames) {
  auto op = std::unique_ptr<Operation>(new Operation(kind, std::move(loc)));
  Operation *raw = op.get();
  raw->block_ = this;
  raw->attrs_ = std::move(attrs);
  raw->setOperands(operands);
  for (size_t i = 0; i < resultTypes.size(); ++i) {
    std::string hint = i < resultNames.size() && !resultNames[i].empty() ? resultNames[i] : "";
    std::string name;
    if (graph_)
      name = graph_->uniqueName(hint.empty() ? "v" : hint);
    else
      name = hint;
    raw->results_.push_back(std::unique_ptr<Value>(new Value(std::move(name), resultTypes[i])));
    raw->results_.back()->defOp_ = raw;
    raw->results_.back()->index_ = static_cast<unsigned>(i);
  }
  auto pos = before ? before->self_ : ops_.end();
  raw->self_ = ops_.insert(pos, std::move(op));
  return raw;
}

std::vector<Operation *> Block::opPointers() const {
  std::vector<Operation *> v;
  v.reserve(ops_.size());
  for (const auto &op : ops_)
    v.push_back(op.get());
  return v;
}

void Block::moveBefore(Operation *op, Operation *before) {
  assert(op->block_ == this && (!before || before->block_ == this));
  auto to = before ? before->self_ : ops_.end();
  ops_.splice(to, ops_, op->self_);
}

// ---------------------------------------------------------------- Graph / Module

std::string Graph::uniqueName(const std::string &hint) {
  std::string base = hint.empty() ? "v" : hint;
  if (names_.insert(base).second)
    return base;
  for (;;) {
    std::string candidate = base + "_" + std::to_string(++nextId_);
    if (names_.insert(candidate).second)
      return candidate;
  }
}

void Graph::renameValue(Value *v, const std::string &name) {
  assert(!nameInUse(name) && "renaming onto a name in use");
  names_.erase(v->name_);
  names_.insert(name);
  v->name_ = name;
}

static size_t countOps(const Block &b) {
  size_t n = 0;
  for (const auto &op : b.ops()) {
    ++n;
    for (size_t r = 0; r < op->numRegions(); ++r)
      n += countOps(op->region(r));
  }
  return n;
}

size_t Graph::numOps() const { return countOps(body_); }

Graph &Module::addGraph(std::string name) {
  graphs_.push_back(std::make_unique<Graph>(std::move(name)));
  return *graphs_.back();
}

Graph *Module::findGraph(const std::string &name) const {
  for (const auto &g : graphs_)
    if (g->name() == name)
      return g.get();
  return nullptr;
}

const Tensor *getConstantValue(const Value *v) {
  if (!v)
    return nullptr;
  Operation *def = v->definingOp();
  if (!def || !def->is(OpKind::OnnxConstant))
    return nullptr;
  const Attribute *a = def->attrs().find("value");
  return a ? std::get_if<Tensor>(a) : nullptr;
}

} // namespace infc
