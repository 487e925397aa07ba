#include "ir/onnx/OnnxImporter.h"

#include "ir/OpHooks.h"
#include "ir/onnx/OnnxAdapters.h"
#include "ir/onnx/TensorProto.h"
#include "support/FileRead.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <cerrno>
#include <cstdio>
#include <climits>
#include <cstring>
#include <map>
#include <set>

namespace infc {

namespace {

Expected<std::string> readWholeFile(const std::string &path) {
  // Protobuf parses at most 2 GiB; larger weights belong in external data.
  std::string data, error;
  if (!support::readRegularFile(path, INT32_MAX, data, error))
    return ioError(error);
  return data;
}

std::string dirOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

bool parseProto(google::protobuf::MessageLite &msg, const std::string &bytes) {
  google::protobuf::io::ArrayInputStream raw(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream coded(&raw);
  coded.SetTotalBytesLimit(INT32_MAX);
  return msg.ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
}

Expected<TensorType> typeFromValueInfo(const onnx::ValueInfoProto &vi, const std::string &what) {
  if (!vi.has_type())
    return TensorType::unranked(DType::Undefined);
  const onnx::TypeProto &tp = vi.type();
  if (!tp.has_tensor_type())
    return unsupported(what + " '" + vi.name() + "' is not a tensor (sequence, map and optional types are not supported)");
  const auto &tt = tp.tensor_type();
  if (tt.elem_type() == onnx::TensorProto::STRING)
    return unsupported(what + " '" + vi.name() + "' is a string tensor (not supported)");
  std::optional<DType> dt = dtypeFromOnnx(tt.elem_type());
  if (!dt)
    return unsupported(what + " '" + vi.name() + "' has unsupported element type " + std::to_string(tt.elem_type()));
  if (!tt.has_shape())
    return TensorType::unranked(*dt);
  std::vector<Dim> dims;
  for (const auto &d : tt.shape().dim()) {
    if (d.has_dim_value()) {
      if (d.dim_value() < 0)
        return invalidArgument(what + " '" + vi.name() + "' has negative dimension " + std::to_string(d.dim_value()));
      dims.emplace_back(d.dim_value());
    } else if (d.has_dim_param() && !d.dim_param().empty()) {
      dims.push_back(Dim::named(d.dim_param()));
    } else {
      dims.push_back(Dim::unknown());
    }
  }
  // Static products that overflow are absurd: reject before anything allocates.
  int64_t n = 1;
  for (const Dim &d : dims)
    if (d.isStatic() && __builtin_mul_overflow(n, d.value, &n))
      return outOfRange(what + " '" + vi.name() + "' has dimensions whose product overflows int64");
  return TensorType(*dt, std::move(dims));
}

/// Declared facts fill dims inference left unknown; static contradictions are errors.
Expected<TensorType> mergeDeclared(const TensorType &inferred, const TensorType &declared, const std::string &name) {
  if (declared.elem() == DType::Undefined || !declared.isRanked())
    return inferred;
  if (!inferred.isRanked())
    return declared.elem() == inferred.elem() ? declared : inferred;
  if (inferred.rank() != declared.rank())
    return invalidArgument("tensor '" + name + "' is declared as " + declared.str() + " but infers to " + inferred.str());
  std::vector<Dim> dims = inferred.shape();
  for (size_t i = 0; i < dims.size(); ++i) {
    const Dim &d = declared.shape()[i];
    if (dims[i].isStatic() && d.isStatic() && dims[i].value != d.value)
      return invalidArgument("tensor '" + name + "' is declared as " + declared.str() + " but infers to " + inferred.str());
    if (!dims[i].isStatic() && (d.isStatic() || (dims[i].symbol.empty() && !d.symbol.empty())))
      dims[i] = d;
  }
  return TensorType(inferred.elem(), std::move(dims));
}

class Importer {
public:
  Importer(const std::string &displayName, const std::string &baseDir) : display_(displayName), baseDir_(baseDir) {}

  Expected<std::unique_ptr<Module>> run(const onnx::ModelProto &model) {
    if (model.ir_version() <= 0 || !model.has_graph())
      return err("not a valid ONNX model (no IR version or no graph)");
    if (model.ir_version() > kMaxOnnxIrVersion)
      return unsupported(display_ + ": ONNX IR version " + std::to_string(model.ir_version()) +
                         " is newer than supported (" + std::to_string(kMaxOnnxIrVersion) + ")");
    int64_t opset = -1;
    for (const auto &o : model.opset_import())
      if (o.domain().empty() || o.domain() == "ai.onnx") {
        if (opset >= 0)
          return err("not a valid ONNX model (the default domain is imported twice, opsets " + std::to_string(opset) +
                     " and " + std::to_string(o.version()) + ")");
        if (o.version() <= 0)
          return err("not a valid ONNX model (default-domain opset " + std::to_string(o.version()) + ")");
        opset = o.version();
      }
    if (opset < 0) {
      if (model.opset_import_size() == 0)
        return err("not a valid ONNX model (no opset_import)");
      opset = 1; // only custom domains imported: default-domain ops will be rejected below
    }
    if (opset > kMaxOnnxOpset)
      return unsupported(display_ + ": ONNX opset " + std::to_string(opset) + " is newer than supported (" +
                         std::to_string(kMaxOnnxOpset) + ")");
    auto module = std::make_unique<Module>();
    module->info().irVersion = model.ir_version();
    module->info().opsetVersion = opset;
    module->info().producerName = model.producer_name();
    module->info().producerVersion = model.producer_version();
    module->info().sourcePath = display_;
    opset_ = opset;
    const onnx::GraphProto &gp = model.graph();
    if (gp.output_size() == 0)
      return err("not a valid ONNX model (the graph has no outputs)");
    Graph &g = module->addGraph(gp.name().empty() || !validGraphName(gp.name()) ? "main" : gp.name());
    graph_ = &g;
    ImportState state{g, opset, display_, values_};
    state_ = &state;
    INFC_RETURN_IF_ERROR(importGraph(gp));
    return module;
  }

private:
  static bool validGraphName(const std::string &s) {
    for (char c : s)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
        return false;
    return true;
  }

  Status err(const std::string &msg) const { return invalidArgument(display_ + ": " + msg); }

  Status importGraph(const onnx::GraphProto &gp) {
    std::set<std::string> initNames;
    for (const auto &init : gp.initializer()) {
      if (init.name().empty())
        return err("an initializer has no name");
      if (!initNames.insert(init.name()).second)
        return err("duplicate initializer '" + init.name() + "'");
    }
    for (const auto &si : gp.sparse_initializer())
      return unsupported(display_ + ": sparse initializer '" + si.values().name() + "' is not supported");
    // Graph inputs (initializers listed as inputs are defaults: treated as constants).
    for (const auto &in : gp.input()) {
      if (initNames.count(in.name()))
        continue;
      if (values_.count(in.name()))
        return err("duplicate graph input '" + in.name() + "'");
      Expected<TensorType> te = typeFromValueInfo(in, "input");
      if (!te.isOk())
        return te.status().withPrefix(display_);
      TensorType t = *te;
      if (t.elem() == DType::Undefined)
        return err("graph input '" + in.name() + "' has no type");
      if (t.isRanked() && !t.isStatic()) {
        // fine: symbolic dims
      }
      values_[in.name()] = graph_->body().addArgument(in.name(), t);
    }
    for (const auto &init : gp.initializer()) {
      if (values_.count(init.name()))
        return err("initializer '" + init.name() + "' has the same name as a graph input");
      Expected<Tensor> t = tensorFromProto(init, baseDir_, "initializer '" + init.name() + "'");
      if (!t.isOk())
        return t.status().withPrefix(display_);
      AttrMap a;
      a.set("value", *t);
      Operation *c = graph_->body().create(OpKind::OnnxConstant, {}, {TensorType::fromStatic(t->dtype(), t->shape())},
                                           std::move(a), {}, nullptr, {init.name()});
      values_[init.name()] = c->result();
    }
    std::map<std::string, TensorType> declared;
    for (const auto &vi : gp.value_info()) {
      Expected<TensorType> t = typeFromValueInfo(vi, "value");
      if (t.isOk())
        declared[vi.name()] = *t;
    }
    for (const auto &out : gp.output()) {
      Expected<TensorType> t = typeFromValueInfo(out, "output");
      if (!t.isOk())
        return t.status().withPrefix(display_);
      declared[out.name()] = *t;
    }

    // Topological order (ONNX requires it, but producers get it wrong): Kahn over node inputs.
    int n = gp.node_size();
    std::map<std::string, int> producer;
    for (int i = 0; i < n; ++i)
      for (const std::string &o : gp.node(i).output()) {
        if (o.empty())
          continue;
        if (values_.count(o) || producer.count(o))
          return err(nodeDesc(gp.node(i), i) + ": output '" + o + "' is already defined (duplicate value name)");
        producer[o] = i;
      }
    std::vector<int> pending(static_cast<size_t>(n), 0);
    std::vector<std::vector<int>> consumers(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
      for (const std::string &in : gp.node(i).input()) {
        if (in.empty() || values_.count(in))
          continue;
        auto it = producer.find(in);
        if (it == producer.end())
          return err(nodeDesc(gp.node(i), i) + ": input '" + in + "' is not produced by any node, input or initializer");
        ++pending[static_cast<size_t>(i)];
        consumers[static_cast<size_t>(it->second)].push_back(i);
      }
    std::vector<int> ready, order;
    for (int i = 0; i < n; ++i)
      if (pending[static_cast<size_t>(i)] == 0)
        ready.push_back(i);
    for (size_t k = 0; k < ready.size(); ++k) {
      int i = ready[k];
      order.push_back(i);
      for (int c : consumers[static_cast<size_t>(i)])
        if (--pending[static_cast<size_t>(c)] == 0)
          ready.push_back(c);
    }
    if (static_cast<int>(order.size()) != n)
      for (int i = 0; i < n; ++i)
        if (pending[static_cast<size_t>(i)] > 0)
          return err(nodeDesc(gp.node(i), i) + ": the graph has a cycle through this node");

    for (int i : order) {
      const onnx::NodeProto &node = gp.node(i);
      Status s = importNode(*state_, node, i);
      if (!s.isOk())
        return s.withPrefix(display_);
      for (const std::string &o : node.output()) {
        auto d = declared.find(o);
        auto v = values_.find(o);
        if (d == declared.end() || v == values_.end())
          continue;
        Expected<TensorType> merged = mergeDeclared(v->second->type(), d->second, o);
        if (!merged.isOk())
          return merged.status().withPrefix(display_ + ": " + nodeDesc(node, i));
        v->second->setType(*merged);
      }
    }
    for (const auto &out : gp.output()) {
      auto it = values_.find(out.name());
      if (it == values_.end())
        return err("graph output '" + out.name() + "' is not produced by any node");
      graph_->addOutput(out.name(), it->second);
    }
    return Status::ok();
  }

  std::string display_, baseDir_;
  Graph *graph_ = nullptr;
  int64_t opset_ = 0;
  std::map<std::string, Value *> values_;
  ImportState *state_ = nullptr;
};

} // namespace

std::string nodeDesc(const onnx::NodeProto &node, int index) {
  std::string s = node.name().empty() ? "node #" + std::to_string(index) : "node '" + node.name() + "'";
  return s + " (" + node.op_type() + ")";
}

Expected<std::unique_ptr<Module>> importOnnxBytes(const std::string &bytes, const std::string &displayName,
                                                  const std::string &baseDir, const ImportOptions &) {
  if (bytes.empty())
    return invalidArgument(displayName + ": empty file (not an ONNX model)");
  onnx::ModelProto model;
  if (!parseProto(model, bytes))
    return invalidArgument(displayName + ": not a valid ONNX model (protobuf parse failed: truncated or not ONNX)");
  Importer imp(displayName, baseDir);
  return imp.run(model);
}

Expected<std::unique_ptr<Module>> importOnnxFile(const std::string &path, const ImportOptions &options) {
  INFC_ASSIGN_OR_RETURN(std::string bytes, readWholeFile(path));
  return importOnnxBytes(bytes, path, dirOf(path), options);
}

Expected<Tensor> loadTensorProtoFile(const std::string &path) {
  INFC_ASSIGN_OR_RETURN(std::string bytes, readWholeFile(path));
  onnx::TensorProto proto;
  if (!parseProto(proto, bytes))
    return invalidArgument(path + ": not a serialized TensorProto");
  return tensorFromProto(proto, dirOf(path), path);
}

bool isNonTensorOrStringProto(const std::string &path, std::string *why) {
  Expected<std::string> bytes = readWholeFile(path);
  if (!bytes.isOk())
    return false;
  onnx::TensorProto proto;
  if (!parseProto(proto, *bytes) || (proto.dims_size() == 0 && proto.data_type() == 0)) {
    if (why)
      *why = "non-tensor test data (sequence, map or optional)";
    return true;
  }
  if (proto.data_type() == onnx::TensorProto::STRING) {
    if (why)
      *why = "string tensors";
    return true;
  }
  return false;
}

} // namespace infc
