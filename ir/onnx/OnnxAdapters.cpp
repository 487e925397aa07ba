#include "ir/onnx/OnnxAdapters.h"

#include "ir/OpHooks.h"
#include "ir/onnx/TensorProto.h"

#include <cmath>
#include <limits>

namespace infc {

namespace {

class NodeImporter {
public:
  NodeImporter(ImportState &s, const onnx::NodeProto &node, int index)
      : s_(s), node_(node), index_(index), loc_(NodeRef{node.name(), node.op_type(), index}) {}

  Status run() {
    const std::string &domain = node_.domain();
    if (!domain.empty() && domain != "ai.onnx")
      return unsupportedOp("'" + domain + "'");
    for (const std::string &in : node_.input()) {
      if (in.empty()) {
        inputs_.push_back(nullptr);
        continue;
      }
      auto it = s_.values.find(in);
      if (it == s_.values.end())
        return fail("input '" + in + "' is not defined");
      inputs_.push_back(it->second);
    }
    for (const auto &a : node_.attribute())
      INFC_RETURN_IF_ERROR(convertAttribute(a));
    return dispatch();
  }

private:
  Status fail(const std::string &msg) const { return invalidArgument(nodeDesc(node_, index_) + ": " + msg); }
  Status unsupportedOp(const std::string &domainText) const {
    return unsupported(nodeDesc(node_, index_) + ": unsupported op '" + node_.op_type() + "' (domain " + domainText +
                       ", opset " + std::to_string(s_.opset) + ")");
  }

  Status convertAttribute(const onnx::AttributeProto &a) {
    using A = onnx::AttributeProto;
    switch (a.type()) {
    case A::FLOAT: attrs_.set(a.name(), a.f()); break;
    case A::INT: attrs_.set(a.name(), static_cast<int64_t>(a.i())); break;
    case A::STRING: attrs_.set(a.name(), a.s()); break;
    case A::FLOATS: attrs_.set(a.name(), std::vector<float>(a.floats().begin(), a.floats().end())); break;
    case A::INTS: attrs_.set(a.name(), std::vector<int64_t>(a.ints().begin(), a.ints().end())); break;
    case A::STRINGS: attrs_.set(a.name(), std::vector<std::string>(a.strings().begin(), a.strings().end())); break;
    case A::TENSOR: {
      Expected<Tensor> t = tensorFromProto(a.t(), "", "attribute '" + a.name() + "'");
      if (!t.isOk())
        return t.status().withPrefix(nodeDesc(node_, index_));
      attrs_.set(a.name(), *t);
      break;
    }
    default:
      return unsupported(nodeDesc(node_, index_) + ": attribute '" + a.name() +
                         "' is a graph, sparse tensor or type (not supported)");
    }
    return Status::ok();
  }

  Value *input(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }

  /// A constant op in front of the node's op (named after the node, located at the node).
  Value *constant(const Tensor &t, const std::string &hint) {
    AttrMap a;
    a.set("value", t);
    Operation *c = s_.graph.body().create(OpKind::OnnxConstant, {}, {TensorType::fromStatic(t.dtype(), t.shape())},
                                          std::move(a), loc_, nullptr,
                                          {(node_.name().empty() ? node_.op_type() : node_.name()) + "." + hint});
    return c->result();
  }

  /// Moves integer-list attribute `name` into operand slot `slot` as an i64 constant.
  Status attrToInput(const std::string &name, size_t slot) {
    if (!attrs_.has(name))
      return Status::ok();
    INFC_ASSIGN_OR_RETURN(std::vector<int64_t> v, attrs_.getInts(name));
    attrs_.erase(name);
    if (inputs_.size() <= slot)
      inputs_.resize(slot + 1, nullptr);
    inputs_[slot] = constant(Tensor::fromI64(v), name);
    return Status::ok();
  }

  /// Scalar float attribute -> constant operand of the data input's dtype.
  Status scalarAttrToInput(const std::string &name, size_t slot, DType dt) {
    if (!attrs_.has(name))
      return Status::ok();
    INFC_ASSIGN_OR_RETURN(float v, attrs_.getFloat(name));
    attrs_.erase(name);
    if (inputs_.size() <= slot)
      inputs_.resize(slot + 1, nullptr);
    Tensor t(dt, {});
    t.setDouble(0, v);
    inputs_[slot] = constant(t, name);
    return Status::ok();
  }

  DType dataType() const { return input(0) ? input(0)->type().elem() : DType::F32; }

  Status create(OpKind kind, std::vector<Value *> operands) {
    // Trailing absent operands are dropped; the verifier counts present ones.
    while (!operands.empty() && !operands.back())
      operands.pop_back();
    std::vector<std::string> outNames(node_.output().begin(), node_.output().end());
    while (!outNames.empty() && outNames.back().empty())
      outNames.pop_back();
    const OpInfo &info = opInfo(kind);
    int nOut = static_cast<int>(outNames.size());
    if (nOut < info.minResults)
      nOut = info.minResults, outNames.resize(static_cast<size_t>(nOut));
    if (info.maxResults >= 0 && nOut > info.maxResults)
      return fail(std::to_string(nOut) + " outputs, " + std::string(info.fullName) + " has at most " +
                  std::to_string(info.maxResults));
    int nIn = static_cast<int>(operands.size());
    if (nIn < info.minOperands || (info.maxOperands >= 0 && nIn > info.maxOperands))
      return fail(std::to_string(nIn) + " inputs, " + node_.op_type() + " takes " + std::to_string(info.minOperands) +
                  (info.maxOperands < 0 ? " or more" : " to " + std::to_string(info.maxOperands)));
    for (int i = 0; i < nIn; ++i)
      if (!operands[static_cast<size_t>(i)] && i < info.minOperands)
        return fail("required input " + std::to_string(i) + " is missing");
    std::vector<std::string> names;
    for (const std::string &o : outNames)
      names.push_back(o.empty() ? (node_.name().empty() ? node_.op_type() : node_.name()) + ".unused" : o);
    std::vector<TensorType> types(names.size(), TensorType::unranked(DType::Undefined));
    Operation *op = s_.graph.body().create(kind, operands, types, attrs_, loc_, nullptr, names);
    INFC_RETURN_IF_ERROR(inferShapes(*op));
    for (size_t i = 0; i < outNames.size(); ++i) {
      if (op->result(i)->type().elem() == DType::Undefined)
        return internalError(nodeDesc(node_, index_) + ": shape inference left output " + std::to_string(i) + " untyped");
      if (!outNames[i].empty())
        s_.values[outNames[i]] = op->result(i);
    }
    return Status::ok();
  }

  Status dispatch() {
    const std::string &t = node_.op_type();
    int64_t v = s_.opset;
    if (t == "Squeeze" || t == "Unsqueeze") {
      if (v < 13)
        INFC_RETURN_IF_ERROR(attrToInput("axes", 1));
      return create(t == "Squeeze" ? OpKind::OnnxSqueeze : OpKind::OnnxUnsqueeze, inputs_);
    }
    if (t.rfind("Reduce", 0) == 0) {
      bool attrForm = t == "ReduceSum" ? v < 13 : v < 18;
      if (attrForm)
        INFC_RETURN_IF_ERROR(attrToInput("axes", 1));
    }
    if (t == "Clip" && v < 11) {
      DType dt = dataType();
      if (attrs_.has("min"))
        INFC_RETURN_IF_ERROR(scalarAttrToInput("min", 1, dt));
      if (attrs_.has("max"))
        INFC_RETURN_IF_ERROR(scalarAttrToInput("max", 2, dt));
    }
    if (t == "Pad" && v < 11) {
      INFC_RETURN_IF_ERROR(attrToInput("pads", 1));
      if (attrs_.has("value"))
        INFC_RETURN_IF_ERROR(scalarAttrToInput("value", 2, dataType()));
    }
    if (t == "Split") {
      if (v < 13)
        INFC_RETURN_IF_ERROR(attrToInput("split", 1));
      if (!input(1) && !attrs_.has("num_outputs"))
        attrs_.set("num_outputs", static_cast<int64_t>(node_.output_size()));
      return create(OpKind::OnnxSplit, inputs_);
    }
    if (t == "Slice" && v < 10) {
      INFC_RETURN_IF_ERROR(attrToInput("starts", 1));
      INFC_RETURN_IF_ERROR(attrToInput("ends", 2));
      INFC_RETURN_IF_ERROR(attrToInput("axes", 3));
    }
    if (t == "TopK" && v < 10) {
      if (attrs_.has("k")) {
        INFC_ASSIGN_OR_RETURN(int64_t k, attrs_.getInt("k"));
        attrs_.erase("k");
        inputs_.resize(2, nullptr);
        inputs_[1] = constant(Tensor::fromI64({k}), "k");
      }
    }
    if (t == "Dropout") {
      // Inference only: ratio/seed are irrelevant; training_mode is checked by the op.
      attrs_.erase("is_test");
      if (v < 12) {
        attrs_.erase("ratio");
        inputs_.resize(1);
      }
    }
    if (t == "BatchNormalization") {
      attrs_.erase("is_test");
      attrs_.erase("consumed_inputs");
      if (attrs_.has("spatial")) {
        INFC_ASSIGN_OR_RETURN(int64_t spatial, attrs_.getInt("spatial"));
        if (spatial != 1)
          return unsupported(nodeDesc(node_, index_) + ": BatchNormalization with spatial=0 is not supported");
        attrs_.erase("spatial");
      }
      int realOutputs = 0;
      for (const std::string &o : node_.output())
        realOutputs += !o.empty();
      if (realOutputs > 1 || (attrs_.has("training_mode") && *attrs_.getInt("training_mode", 0) != 0))
        return unsupported(nodeDesc(node_, index_) + ": BatchNormalization in training mode (training op) is not supported");
    }
    if ((t == "Softmax" || t == "LogSoftmax" || t == "Hardmax") && v < 13)
      return importLegacySoftmax(t == "Softmax" ? OpKind::OnnxSoftmax : t == "LogSoftmax" ? OpKind::OnnxLogSoftmax
                                                                                         : OpKind::OnnxHardmax);
    if (t == "Upsample") {
      // Upsample-7 (scales attribute) / -9 (scales input) == Resize with asymmetric coordinates.
      std::vector<Value *> ops = {input(0), nullptr, input(1)};
      if (attrs_.has("scales")) {
        INFC_ASSIGN_OR_RETURN(std::vector<float> sc, attrs_.getFloats("scales"));
        attrs_.erase("scales");
        ops[2] = constant(Tensor::fromF32(sc, {static_cast<int64_t>(sc.size())}), "scales");
      }
      INFC_ASSIGN_OR_RETURN(std::string mode, attrs_.getString("mode", "nearest"));
      attrs_.set("mode", mode == "bilinear" ? std::string("linear") : mode);
      attrs_.set("coordinate_transformation_mode", std::string("asymmetric"));
      attrs_.set("nearest_mode", std::string("floor"));
      return create(OpKind::OnnxResize, ops);
    }
    if (t == "Resize" && v < 11) {
      std::vector<Value *> ops = {input(0), nullptr, input(1)};
      attrs_.set("coordinate_transformation_mode", std::string("asymmetric"));
      attrs_.set("nearest_mode", std::string("floor"));
      return create(OpKind::OnnxResize, ops);
    }
    if (t == "PRelu" && input(0) && input(1) && input(0)->type().isRanked() && input(1)->type().isRanked() &&
        input(1)->type().rank() == 1 && input(0)->type().rank() > 2) {
      // Old exporters give a per-channel slope [C] for an NCHW input: numpy broadcasting would
      // align it with the last dim, the intended semantics is channel-wise (axis 1).
      const TensorType &xt = input(0)->type();
      const Dim &c = input(1)->type().dim(0);
      const Dim &last = xt.dim(xt.rank() - 1);
      if (c.isStatic() && xt.dim(1).isStatic() && c.value == xt.dim(1).value && c.value != 1 &&
          !(last.isStatic() && last.value == c.value)) {
        std::vector<int64_t> axes;
        for (int64_t a = 1; a < xt.rank() - 1; ++a)
          axes.push_back(a);
        Value *ax = constant(Tensor::fromI64(axes), "slope_axes");
        Operation *u = s_.graph.body().create(OpKind::OnnxUnsqueeze, {input(1), ax}, {TensorType::unranked(input(1)->type().elem())},
                                              {}, loc_, nullptr, {(node_.name().empty() ? t : node_.name()) + ".slope"});
        INFC_RETURN_IF_ERROR(inferShapes(*u));
        inputs_[1] = u->result();
      }
    }
    if (t == "Scatter")
      return create(OpKind::OnnxScatterElements, inputs_);
    if (t == "Constant")
      return importConstant();
    std::optional<OpKind> kind = onnxOpKind(t);
    if (!kind || *kind == OpKind::OnnxConstant)
      return unsupportedOp("'ai.onnx'");
    return create(*kind, inputs_);
  }

  /// Constant's value_* attributes -> `value` tensor.
  Status importConstant() {
    if (attrs_.has("sparse_value"))
      return unsupported(nodeDesc(node_, index_) + ": sparse Constant is not supported");
    if (attrs_.has("value_string") || attrs_.has("value_strings"))
      return unsupported(nodeDesc(node_, index_) + ": string Constant is not supported");
    Tensor t;
    if (attrs_.has("value")) {
      INFC_ASSIGN_OR_RETURN(t, attrs_.getTensor("value"));
    } else if (attrs_.has("value_float")) {
      INFC_ASSIGN_OR_RETURN(float f, attrs_.getFloat("value_float"));
      t = Tensor::scalarF32(f);
    } else if (attrs_.has("value_floats")) {
      INFC_ASSIGN_OR_RETURN(std::vector<float> f, attrs_.getFloats("value_floats"));
      t = Tensor::fromF32(f, {static_cast<int64_t>(f.size())});
    } else if (attrs_.has("value_int")) {
      INFC_ASSIGN_OR_RETURN(int64_t i, attrs_.getInt("value_int"));
      t = Tensor::scalarI64(i);
    } else if (attrs_.has("value_ints")) {
      INFC_ASSIGN_OR_RETURN(std::vector<int64_t> i, attrs_.getInts("value_ints"));
      t = Tensor::fromI64(i);
    } else {
      return fail("Constant has no value");
    }
    AttrMap a;
    a.set("value", t);
    attrs_ = a;
    return create(OpKind::OnnxConstant, {});
  }

  /// Opset < 13 softmax family: coerce to 2-D at `axis` (default 1), apply along the last dim,
  /// reshape back. When `axis` is already the last dim this is the opset-13 op itself.
  Status importLegacySoftmax(OpKind kind) {
    INFC_ASSIGN_OR_RETURN(int64_t axis, attrs_.getInt("axis", 1));
    Value *x = input(0);
    if (!x)
      return fail("missing input");
    const TensorType &xt = x->type();
    if (xt.isRanked() && (axis == xt.rank() - 1 || axis == -1)) {
      attrs_.set("axis", int64_t(-1));
      return create(kind, {x});
    }
    std::string base = node_.name().empty() ? node_.op_type() : node_.name();
    Block &b = s_.graph.body();
    AttrMap flatAttrs;
    flatAttrs.set("axis", axis);
    Operation *flat = b.create(OpKind::OnnxFlatten, {x}, {TensorType::unranked(xt.elem())}, flatAttrs, loc_, nullptr,
                               {base + ".flat"});
    INFC_RETURN_IF_ERROR(inferShapes(*flat));
    AttrMap smAttrs;
    smAttrs.set("axis", int64_t(-1));
    Operation *sm = b.create(kind, {flat->result()}, {TensorType::unranked(xt.elem())}, smAttrs, loc_, nullptr,
                             {base + ".2d"});
    INFC_RETURN_IF_ERROR(inferShapes(*sm));
    Operation *shape = b.create(OpKind::OnnxShape, {x}, {TensorType::unranked(DType::I64)}, {}, loc_, nullptr,
                                {base + ".shape"});
    INFC_RETURN_IF_ERROR(inferShapes(*shape));
    std::string outName = node_.output_size() ? node_.output(0) : base + ".out";
    Operation *reshape = b.create(OpKind::OnnxReshape, {sm->result(), shape->result()}, {TensorType::unranked(xt.elem())},
                                  {}, loc_, nullptr, {outName});
    INFC_RETURN_IF_ERROR(inferShapes(*reshape));
    s_.values[outName] = reshape->result();
    return Status::ok();
  }

  ImportState &s_;
  const onnx::NodeProto &node_;
  int index_;
  Location loc_;
  std::vector<Value *> inputs_;
  AttrMap attrs_;
};

} // namespace

Status importNode(ImportState &state, const onnx::NodeProto &node, int index) {
  NodeImporter imp(state, node, index);
  return imp.run();
}

} // namespace infc
