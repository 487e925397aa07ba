// Core IR: Module > Graph > Block > Operation, SSA Values with use lists.
#pragma once

#include "ir/Attribute.h"
#include "ir/Location.h"
#include "ir/OpKind.h"
#include "ir/Status.h"
#include "ir/Types.h"

#include <list>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace infc {

class Block;
class Graph;
class Operation;

/// An SSA value: a block argument or an op result. Defined once; knows its users.
class Value {
public:
  const std::string &name() const { return name_; }
  const TensorType &type() const { return type_; }
  void setType(TensorType t) { type_ = std::move(t); }
  /// Defining op, or nullptr for block (graph) arguments.
  Operation *definingOp() const { return defOp_; }
  unsigned resultIndex() const { return index_; }
  /// Block this value is defined in (the argument's block or the defining op's block).
  Block *parentBlock() const;
  /// One entry per use (an op using the value twice appears twice).
  const std::vector<Operation *> &users() const { return users_; }
  /// True when some graph output refers to this value.
  bool isGraphOutput() const;
  bool hasUses() const { return !users_.empty() || isGraphOutput(); }
  /// Redirects every use (ops and graph outputs) to `other`.
  void replaceAllUsesWith(Value *other);

private:
  friend class Operation;
  friend class Block;
  friend class Graph;
  Value(std::string name, TensorType type) : name_(std::move(name)), type_(std::move(type)) {}
  void removeUser(Operation *op);

  std::string name_;
  TensorType type_;
  Operation *defOp_ = nullptr;
  Block *argBlock_ = nullptr;
  unsigned index_ = 0;
  std::vector<Operation *> users_;
};

/// An operation: kind, operands (nullptr = absent optional operand), results, attributes,
/// single-block regions (for fused bodies), and the ONNX location it came from.
class Operation {
public:
  ~Operation();
  OpKind kind() const { return kind_; }
  const OpInfo &info() const { return opInfo(kind_); }
  std::string_view name() const { return info().fullName; }
  bool is(OpKind k) const { return kind_ == k; }

  size_t numOperands() const { return operands_.size(); }
  Value *operand(size_t i) const { return i < operands_.size() ? operands_[i] : nullptr; }
  bool hasOperand(size_t i) const { return operand(i) != nullptr; }
  const std::vector<Value *> &operands() const { return operands_; }
  void setOperand(size_t i, Value *v);
  void setOperands(std::vector<Value *> values);

  size_t numResults() const { return results_.size(); }
  Value *result(size_t i = 0) const { return results_[i].get(); }
  std::vector<Value *> results() const;

  AttrMap &attrs() { return attrs_; }
  const AttrMap &attrs() const { return attrs_; }
  const Location &loc() const { return loc_; }
  void setLoc(Location l) { loc_ = std::move(l); }

  size_t numRegions() const { return regions_.size(); }
  Block &region(size_t i) { return *regions_[i]; }
  const Block &region(size_t i) const { return *regions_[i]; }
  Block &addRegion();

  Block *parentBlock() const { return block_; }
  Graph *parentGraph() const;
  /// Removes the op from its block and destroys it. Its results must be unused.
  void erase();
  /// `error: node 'conv1' (Conv): msg` style prefix helper: "onnx.Conv at node 'conv1' (Conv)".
  std::string describe() const;
  /// Status with the op's description prefixed.
  Status error(const std::string &msg) const;

private:
  friend class Block;
  Operation(OpKind kind, Location loc) : kind_(kind), loc_(std::move(loc)) {}
  void dropOperands();

  OpKind kind_;
  std::vector<Value *> operands_;
  std::vector<std::unique_ptr<Value>> results_;
  AttrMap attrs_;
  Location loc_;
  std::vector<std::unique_ptr<Block>> regions_;
  Block *block_ = nullptr;
  std::list<std::unique_ptr<Operation>>::iterator self_;
};

/// A list of operations in topological (SSA) order plus block arguments.
class Block {
public:
  using OpList = std::list<std::unique_ptr<Operation>>;
  explicit Block(Graph *graph, Operation *parentOp = nullptr) : graph_(graph), parentOp_(parentOp) {}
  ~Block();
  Block(const Block &) = delete;
  Block &operator=(const Block &) = delete;

  Graph *graph() const { return graph_; }
  Operation *parentOp() const { return parentOp_; }

  const std::vector<std::unique_ptr<Value>> &arguments() const { return args_; }
  Value *argument(size_t i) const { return args_[i].get(); }
  size_t numArguments() const { return args_.size(); }
  /// Adds an argument. `name` is made unique within the graph.
  Value *addArgument(const std::string &name, TensorType type);

  /// Creates an op before `before` (end of block when nullptr). Result names come from
  /// `resultNames` (made unique) or are generated.
  Operation *create(OpKind kind, const std::vector<Value *> &operands,
                    const std::vector<TensorType> &resultTypes, AttrMap attrs = {},
                    Location loc = {}, Operation *before = nullptr,
                    const std::vector<std::string> &resultNames = {});

  OpList &ops() { return ops_; }
  const OpList &ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }
  /// Snapshot of op pointers (safe to iterate while erasing others).
  std::vector<Operation *> opPointers() const;
  /// Moves `op` so that it sits just before `before`.
  void moveBefore(Operation *op, Operation *before);

  /// Values a region block hands back to its parent op (printed as `yield %a, %b`). Graph
  /// bodies use GraphOutput instead and leave this empty.
  const std::vector<Value *> &yields() const { return yields_; }
  void setYields(std::vector<Value *> values) { yields_ = std::move(values); }

private:
  friend class Operation;
  Graph *graph_;
  Operation *parentOp_;
  std::vector<std::unique_ptr<Value>> args_;
  OpList ops_;
  std::vector<Value *> yields_;
};

/// A named graph output.
struct GraphOutput {
  std::string name; ///< ONNX output name (kept even when the producing value is renamed)
  Value *value = nullptr;
};

/// A function-like graph: arguments are the model inputs, outputs are named.
class Graph {
public:
  explicit Graph(std::string name) : name_(std::move(name)), body_(this) {}
  Graph(const Graph &) = delete;
  Graph &operator=(const Graph &) = delete;

  const std::string &name() const { return name_; }
  Block &body() { return body_; }
  const Block &body() const { return body_; }
  const std::vector<GraphOutput> &outputs() const { return outputs_; }
  void addOutput(std::string name, Value *v) { outputs_.push_back({std::move(name), v}); }
  void setOutputValue(size_t i, Value *v) { outputs_[i].value = v; }

  /// Returns `hint` if unused in this graph, else hint_1, hint_2, ...; reserves the result.
  std::string uniqueName(const std::string &hint);
  bool nameInUse(const std::string &name) const { return names_.count(name) != 0; }
  /// Gives `v` the name `name` (which must be free); the old name becomes free.
  void renameValue(Value *v, const std::string &name);

  /// Number of ops, recursively through regions.
  size_t numOps() const;

private:
  friend class Operation;
  void releaseName(const std::string &name) { names_.erase(name); }
  std::string name_;
  Block body_;
  std::vector<GraphOutput> outputs_;
  std::unordered_set<std::string> names_;
  uint64_t nextId_ = 0;
};

/// Model-level facts carried for diagnostics and the engine.
struct ModelInfo {
  int64_t irVersion = 0;
  int64_t opsetVersion = 0; ///< default-domain opset
  std::string producerName;
  std::string producerVersion;
  std::string sourcePath;   ///< model file the module came from, for messages
};

class Module {
public:
  Graph &addGraph(std::string name);
  std::vector<std::unique_ptr<Graph>> &graphs() { return graphs_; }
  const std::vector<std::unique_ptr<Graph>> &graphs() const { return graphs_; }
  Graph *mainGraph() const { return graphs_.empty() ? nullptr : graphs_.front().get(); }
  Graph *findGraph(const std::string &name) const;
  ModelInfo &info() { return info_; }
  const ModelInfo &info() const { return info_; }

private:
  std::vector<std::unique_ptr<Graph>> graphs_;
  ModelInfo info_;
};

/// If `v` is produced by onnx.Constant, its tensor; else nullptr.
const Tensor *getConstantValue(const Value *v);

} // namespace infc
