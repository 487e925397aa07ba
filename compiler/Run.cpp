#include "compiler/Run.h"

#include "compiler/BuildReport.h"

#include "compiler/EngineReference.h"
#include "compiler/FileUtil.h"
#include "compiler/Inspect.h"
#include "compiler/Driver.h"
#include "compiler/Npy.h"
#include "compiler/Pipeline.h"
#include "compiler/ProfileSelect.h"
#include "compiler/StreamRunner.h"
#include "ir/Interpreter.h"
#include "runtime/EngineReader.h"
#include "runtime/CudaDriver.h"
#include "runtime/infc_runtime.h"

#include <cuda.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <unistd.h>
#include <filesystem>
#include <cmath>
#include <random>
#include <sstream>

namespace infc {

namespace {

std::string randomNote(const std::string &path, const std::string &name) {
  return path + ": input '" + name + "' is random (uniform [-1, 1) floats or integers 0..3, seed 42); give --input " + name +
         "=FILE.npy for real data";
}

/// Every name in `given` (the --input files) is one of `inputs`' names: the error otherwise.
template <class Input>
Status checkInputNames(const std::vector<Input> &inputs, const std::map<std::string, Tensor> &given,
                       const std::string &path) {
  std::string names;
  for (const Input &in : inputs)
    names += (names.empty() ? "" : ", ") + in.name;
  for (const auto &[name, t] : given)
    if (std::none_of(inputs.begin(), inputs.end(), [&](const Input &in) { return in.name == name; }))
      return invalidArgument(path + ": --input names '" + name + "', which is not an input (inputs: " + names + ")");
  return Status::ok();
}

/// The one input binder behind `run` (GPU and reference) and `compare`: the inputs `ios` in
/// order, from `given` (dtype and shape checked) or random (randomInput, seed 42, announced in
/// `notes` when given). A given name that is no input is an error.
Expected<std::vector<Tensor>> bindInputs(const std::vector<IoInfo> &ios, const std::map<std::string, Tensor> &given,
                                         const std::string &path, std::vector<std::string> *notes) {
  INFC_RETURN_IF_ERROR(checkInputNames(ios, given, path));
  std::mt19937_64 rng(42);
  std::vector<Tensor> inputs;
  for (const IoInfo &io : ios) {
    auto it = given.find(io.name);
    if (it == given.end()) {
      inputs.push_back(randomInput(io.dtype, io.shape, rng));
      if (notes)
        notes->push_back(randomNote(path, io.name));
    } else if (it->second.dtype() != io.dtype || it->second.shape() != io.shape) {
      return invalidArgument(path + ": input '" + io.name + "' must be " + TensorType::fromStatic(io.dtype, io.shape).str() +
                             ", the file holds " + TensorType::fromStatic(it->second.dtype(), it->second.shape()).str());
    } else {
      inputs.push_back(it->second);
    }
  }
  return inputs;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  double idx = p * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(idx)), hi = static_cast<size_t>(std::ceil(idx));
  return v[lo] + (v[hi] - v[lo]) * (idx - static_cast<double>(lo));
}

struct Stats {
  double min, mean, median, p90, p99, max;
};
Stats stats(const std::vector<double> &v) {
  Stats s{};
  if (v.empty())
    return s;
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  double sum = 0;
  for (double x : v)
    sum += x;
  s.mean = sum / static_cast<double>(v.size());
  s.median = percentile(v, 0.5);
  s.p90 = percentile(v, 0.9);
  s.p99 = percentile(v, 0.99);
  return s;
}

/// RAII for the C API handles.
struct EngineHandles {
  infc_engine *engine = nullptr;
  std::vector<infc_context *> contexts;
  std::vector<CUstream> streams;
  ~EngineHandles() {
    for (CUstream s : streams)
      rt::cudaDriver().cuStreamDestroy(s);
    for (infc_context *c : contexts)
      infc_context_free(c);
    infc_engine_free(engine);
  }
};

/// Per-layer GPU times: median over runs with an event pair around every layer (the events add
/// a little time per layer, so the sum exceeds the plain GPU compute time). Prints the slowest
/// layers and the time per kernel kind.
Status profileLayers(const RunOptions &options, infc_engine *engine, infc_context *ctx, CUstream stream,
                     std::ostream &os, nlohmann::json &out) {
  std::string err;
  auto view = rt::EngineView::fromFile(options.enginePath, err);
  if (!view)
    return ioError(err);
  const fb::Engine &e = view->engine();
  int n = infc_engine_num_layers(engine);
  int runs = std::max(5, std::min(options.iterations, 50));
  std::vector<std::vector<float>> samples(static_cast<size_t>(n));
  std::vector<float> ms(static_cast<size_t>(n));
  for (int r = 0; r < runs; ++r) {
    INFC_RETURN_IF_ERROR(apiStatus(infc_context_profile(ctx, stream, ms.data(), n), options.enginePath + ": "));
    for (int i = 0; i < n; ++i)
      samples[static_cast<size_t>(i)].push_back(ms[static_cast<size_t>(i)]);
  }
  struct Row {
    double ms;
    int index;
    std::string kernel, nodes, group;
  };
  std::vector<Row> rows;
  std::map<std::string, std::pair<double, int>> byGroup;
  double total = 0;
  for (int i = 0; i < n; ++i) {
    auto &v = samples[static_cast<size_t>(i)];
    std::sort(v.begin(), v.end());
    const fb::Layer *l = e.layers()->Get(static_cast<uint32_t>(i));
    Row row{v[v.size() / 2], i, layerKernel(*l), "", ""};
    if (l->onnx_nodes())
      for (const auto *s : *l->onnx_nodes()) {
        if (!row.nodes.empty())
          row.nodes += ' ';
        row.nodes += s->str();
      }
    // Group generated kernels by op ("generated:k12_Relu" -> "generated:Relu").
    row.group = row.kernel;
    if (size_t u = row.group.find('_'); row.group.rfind("generated:k", 0) == 0 && u != std::string::npos)
      row.group = "generated:" + row.group.substr(u + 1);
    total += row.ms;
    byGroup[row.group].first += row.ms;
    byGroup[row.group].second += 1;
    out.push_back({{"index", i}, {"kernel", row.kernel}, {"onnx_nodes", row.nodes}, {"median_ms", row.ms}});
    rows.push_back(std::move(row));
  }
  std::vector<std::pair<std::string, std::pair<double, int>>> groups(byGroup.begin(), byGroup.end());
  std::sort(groups.begin(), groups.end(), [](const auto &a, const auto &b) { return a.second.first > b.second.first; });
  os << "=== Profile (median of " << runs << " runs, " << n << " layers, " << total << " ms in layers) ===\n";
  os << "Time by kernel kind:\n";
  for (const auto &[g, t] : groups)
    os << "  " << t.first << " ms  " << 100.0 * t.first / std::max(total, 1e-9) << "%  " << t.second << "x  " << g << "\n";
  std::sort(rows.begin(), rows.end(), [](const Row &a, const Row &b) { return a.ms > b.ms; });
  os << "Slowest layers:\n";
  for (size_t i = 0; i < std::min<size_t>(rows.size(), 15); ++i)
    os << "  " << rows[i].ms << " ms  #" << rows[i].index << " " << rows[i].kernel << "  " << rows[i].nodes << "\n";
  return Status::ok();
}

} // namespace

Tensor randomInput(DType dtype, const std::vector<int64_t> &shape, std::mt19937_64 &rng) {
  Tensor t(dtype, shape);
  std::uniform_real_distribution<double> real(-1.0, 1.0);
  std::uniform_int_distribution<int64_t> small(0, 3);
  for (int64_t i = 0; i < t.numElements(); ++i) {
    if (isFloat(dtype))
      t.setDouble(i, real(rng));
    else
      t.setInt(i, dtype == DType::Bool ? (small(rng) & 1) : small(rng));
  }
  return t;
}

Expected<std::vector<Tensor>> bindGraphInputs(const Graph &graph, const std::map<std::string, Tensor> &given,
                                              const std::string &path, std::vector<std::string> &notes) {
  std::vector<IoInfo> ios;
  for (const auto &a : graph.body().arguments())
    ios.push_back({a->name(), a->type().elem(), a->type().staticShape(), 0});
  return bindInputs(ios, given, path, &notes);
}

/// The profiles of a loaded engine, as the C API gives them (none for an engine of one shape).
Expected<std::vector<codegen::ProfileRanges>> engineProfileRanges(infc_engine *engine, const std::vector<DeclaredInput> &inputs) {
  std::vector<codegen::ProfileRanges> profiles(static_cast<size_t>(infc_engine_num_profiles(engine)));
  for (size_t k = 0; k < profiles.size(); ++k)
    for (const DeclaredInput &in : inputs) {
      codegen::ProfileRange r{in.name, {}, {}, {}};
      for (int which = 0; which < 3; ++which) {
        int64_t dims[8];
        int rank = 0;
        INFC_RETURN_IF_ERROR(apiStatus(infc_engine_get_profile_shape(engine, static_cast<int>(k), in.name.c_str(), which, dims, &rank)));
        (which == 0 ? r.min : which == 1 ? r.opt : r.max).assign(dims, dims + rank);
      }
      profiles[k].push_back(std::move(r));
    }
  return profiles;
}

/// The outputs' shapes and sizes at the inputs' shapes in `profile`, from a context made for it.
Status outputShapesAt(infc_engine *engine, int profile, const std::vector<IoInfo> &ins, std::vector<IoInfo> &outs,
                      const std::string &enginePath) {
  infc_context *ctx = nullptr;
  INFC_RETURN_IF_ERROR(apiStatus(infc_context_create(engine, &ctx), enginePath + ": "));
  std::unique_ptr<infc_context, void (*)(infc_context *)> owned(ctx, infc_context_free);
  INFC_RETURN_IF_ERROR(setContextShapes(ctx, profile, ins, enginePath + ": "));
  return outputShapes(ctx, outs, enginePath + ": ");
}

Expected<RunReport> runEngine(const RunOptions &options) {
  std::map<std::string, Tensor> given;
  for (const auto &[name, path] : options.inputFiles) {
    INFC_ASSIGN_OR_RETURN(Tensor t, readNpy(path));
    given[name] = std::move(t);
  }
  RunReport report;
  // The shapes asked for: --shapes, and (for engines with profiles) the shapes of the --input
  // files; a static engine's files are checked against its shapes when they are bound.
  std::map<std::string, std::vector<int64_t>> flagShapes;
  if (!options.shapes.empty()) {
    INFC_ASSIGN_OR_RETURN(std::vector<InputShape> shapes, parseInputShapes(options.shapes));
    for (InputShape &s : shapes)
      if (!flagShapes.emplace(s.name, s.dims).second)
        return invalidArgument("--shapes gives '" + s.name + "' twice");
  }
  std::map<std::string, std::vector<int64_t>> givenShapes = flagShapes;
  for (const auto &[name, t] : given) {
    auto [it, inserted] = givenShapes.emplace(name, t.shape());
    if (!inserted && it->second != t.shape())
      return invalidArgument("input '" + name + "': --shapes gives " + dimsStr(it->second) + ", its file " +
                             options.inputFiles.at(name) + " holds " + dimsStr(t.shape()));
  }
  if (options.reference) {
    INFC_ASSIGN_OR_RETURN(ReferenceModel ref, loadReferenceModel(options.enginePath));
    // Before the shapes are chosen from the files: a file for no input is that error, not a shape one.
    INFC_RETURN_IF_ERROR(checkInputNames(ref.inputs, given, options.enginePath));
    INFC_ASSIGN_OR_RETURN(RunShapes runShapes,
                          selectRunShapes(ref.inputs, ref.profiles, ref.profiles.empty() ? flagShapes : givenShapes,
                                          options.profileIndex, options.enginePath, report.notes));
    if (runShapes.profile >= 0) {
      // The engine's graph at these shapes: its dynamic dims bound, its shape computations
      // (Shape, Gather, Concat, ... feeding Reshape targets and the like) evaluated, every type
      // inferred again, until nothing changes (a folded shape can make another Shape static):
      // the host-side shape program of an engine with profiles.
      std::vector<InputShape> shapes;
      for (size_t i = 0; i < ref.inputs.size(); ++i)
        shapes.push_back({ref.inputs[i].name, runShapes.dims[i]});
      INFC_RETURN_IF_ERROR(applyInputShapes(*ref.module, shapes, options.enginePath));
      INFC_RETURN_IF_ERROR(runPassPipeline(*ref.module, "shape-infer,fixpoint(const-fold,shape-infer)").withPrefix(options.enginePath));
    }
    const Graph &g = *ref.module->mainGraph();
    // Checked before anything is allocated: an engine with huge activations must not exhaust
    // the machine's memory.
    uint64_t limit = options.referenceMemoryLimit;
    if (!limit) {
      long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGE_SIZE);
      limit = pages > 0 && pageSize > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(pageSize) : UINT64_MAX;
    }
    uint64_t need = referencePeakBytes(g);
    if (need > limit) {
      auto gib = [](uint64_t b) {
        std::ostringstream os;
        os.precision(3);
        os << static_cast<double>(b) / double(uint64_t(1) << 30) << " GiB";
        return os.str();
      };
      return Status(StatusCode::OutOfRange,
                    options.enginePath + ": the reference run would need " + gib(need) +
                        " of host memory at once (its largest set of live values), more than the " + gib(limit) +
                        (options.referenceMemoryLimit ? " that --reference-memory-limit allows" : " this machine has"));
    }
    INFC_ASSIGN_OR_RETURN(std::vector<Tensor> inputs, bindGraphInputs(g, given, options.enginePath, report.notes));
    auto t0 = std::chrono::steady_clock::now();
    INFC_ASSIGN_OR_RETURN(std::vector<Tensor> outs, interpret(g, inputs));
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    for (size_t i = 0; i < outs.size(); ++i)
      report.outputs[g.outputs()[i].name] = outs[i];
    std::ostringstream os;
    os << "[reference] ran " << options.enginePath << " on the CPU reference interpreter in " << ms << " ms";
    if (runShapes.profile >= 0) {
      os << " (profile " << runShapes.profile << ":";
      for (size_t i = 0; i < ref.inputs.size(); ++i)
        os << " " << ref.inputs[i].name << " " << dimsStr(runShapes.dims[i]);
      os << ")";
    }
    os << "\n";
    report.text = os.str();
  } else {
    EngineHandles h;
    INFC_RETURN_IF_ERROR(apiStatus(infc_engine_load(options.enginePath.c_str(), &h.engine)));
    // The shapes: a static engine's one shape (--shapes and --profile-index are checked against
    // it), or shapes within a profile (the first holding them, or --profile-index's).
    std::vector<IoInfo> inInfo, outInfo;
    std::vector<DeclaredInput> declared;
    for (int i = 0; i < infc_engine_num_inputs(h.engine); ++i) {
      INFC_ASSIGN_OR_RETURN(IoInfo io, ioInfo(h.engine, infc_engine_input_name(h.engine, i)));
      declared.push_back({io.name, io.shape});
      inInfo.push_back(io);
    }
    INFC_ASSIGN_OR_RETURN(std::vector<codegen::ProfileRanges> profiles, engineProfileRanges(h.engine, declared));
    INFC_ASSIGN_OR_RETURN(RunShapes runShapes, selectRunShapes(declared, profiles, profiles.empty() ? flagShapes : givenShapes,
                                                               options.profileIndex, options.enginePath, report.notes));
    for (size_t i = 0; i < inInfo.size(); ++i)
      setShape(inInfo[i], runShapes.dims[i]);
    INFC_ASSIGN_OR_RETURN(std::vector<Tensor> bound, bindInputs(inInfo, given, options.enginePath, &report.notes));
    std::map<std::string, Tensor> inputs;
    for (size_t i = 0; i < inInfo.size(); ++i)
      inputs[inInfo[i].name] = std::move(bound[i]);
    for (int i = 0; i < infc_engine_num_outputs(h.engine); ++i) {
      INFC_ASSIGN_OR_RETURN(IoInfo io, ioInfo(h.engine, infc_engine_output_name(h.engine, i)));
      outInfo.push_back(io);
    }
    if (runShapes.profile >= 0)
      INFC_RETURN_IF_ERROR(outputShapesAt(h.engine, runShapes.profile, inInfo, outInfo, options.enginePath));
    int numStreams = std::max(1, options.streams);
    StreamRunSettings settings{numStreams, options.warmup, std::max(1, options.iterations), options.cudaGraph,
                               options.enginePath, runShapes.profile, 0};
    if (options.smShare) {
      int sms = 0;
      CUdevice dev = 0;
      INFC_RETURN_IF_ERROR(cuStatus(rt::cudaDriver().cuDeviceGet(&dev, 0), "cuDeviceGet"));
      INFC_RETURN_IF_ERROR(cuStatus(rt::cudaDriver().cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev),
                                    "cuDeviceGetAttribute"));
      settings.smCount = std::max(1, sms / numStreams);
    }
    INFC_ASSIGN_OR_RETURN(StreamRunResult streamRun, runStreams(h.engine, inInfo, inputs, outInfo, settings));
    h.contexts = streamRun.contexts;
    h.streams = streamRun.cuStreams;
    if (!streamRun.outputsAgree)
      report.notes.push_back(options.enginePath + ": the " + std::to_string(numStreams) +
                             " streams' outputs differ (a kernel that is not deterministic run to run, such as an "
                             "atomic reduction); the outputs written are stream 0's");

    // Throughput without copies: back-to-back enqueues spread over the streams from this thread
    // (what the benchmarks compare with PyTorch's back-to-back calls), wall clock.
    int iters = std::max(1, options.iterations);
    auto t0 = std::chrono::steady_clock::now();
    for (int it = 0; it < iters; ++it)
      INFC_RETURN_IF_ERROR(apiStatus(infc_context_enqueue(h.contexts[it % numStreams], h.streams[it % numStreams]),
                                     options.enginePath + ": "));
    for (CUstream s : h.streams)
      INFC_RETURN_IF_ERROR(cuStatus(rt::cudaDriver().cuStreamSynchronize(s), "running the engine"));
    double wallMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    report.outputs = streamRun.outputs;

    std::vector<double> latency, compute, h2d, d2h;
    double busyMs = 0;
    for (const StreamTimes &t : streamRun.streams) {
      latency.insert(latency.end(), t.latency.begin(), t.latency.end());
      compute.insert(compute.end(), t.compute.begin(), t.compute.end());
      h2d.insert(h2d.end(), t.h2d.begin(), t.h2d.end());
      d2h.insert(d2h.end(), t.d2h.begin(), t.d2h.end());
      for (double ms : t.latency)
        busyMs += ms;
    }
    int64_t batch = inInfo.empty() || inInfo[0].shape.empty() ? 1 : inInfo[0].shape[0];
    double qps = 1000.0 * iters / wallMs;
    double e2eQps = 1000.0 * static_cast<double>(iters) * numStreams / streamRun.wallMs;
    Stats L = stats(latency), C = stats(compute), H = stats(h2d), D = stats(d2h);
    std::ostringstream os;
    os.setf(std::ios::fixed);
    os.precision(4);
    os << "=== Performance summary (" << options.enginePath << ", " << iters << " iterations"
       << (numStreams > 1 ? " per stream" : "") << ", " << options.warmup << " warm-up, " << numStreams << " stream"
       << (numStreams > 1 ? "s, one host thread each" : "") << ", "
       << (options.cudaGraph ? "CUDA graph" : "no CUDA graph")
       << (settings.smCount ? ", cuDNN/cuBLASLt kernels on " + std::to_string(settings.smCount) + " SMs per stream" : std::string())
       << ") ===\n";
    os << "Throughput: " << e2eQps << " qps (" << e2eQps * static_cast<double>(batch) << " inferences/s at batch " << batch
       << "), copies in and out included\n";
    os << "Throughput without copies: " << qps << " qps (" << qps * static_cast<double>(batch)
       << " inferences/s), back-to-back enqueues\n";
    auto line = [&](const char *name, const Stats &s) {
      os << name << ": min = " << s.min << " ms, mean = " << s.mean << " ms, median = " << s.median
         << " ms, percentile(90%) = " << s.p90 << " ms, percentile(99%) = " << s.p99 << " ms, max = " << s.max << " ms\n";
    };
    line("Latency", L);
    line("GPU Compute Time", C);
    line("H2D Latency", H);
    line("D2H Latency", D);
    if (numStreams > 1) {
      for (size_t i = 0; i < streamRun.streams.size(); ++i) {
        const StreamTimes &t = streamRun.streams[i];
        Stats s = stats(t.latency);
        os << "Stream " << i << ": " << 1000.0 * static_cast<double>(t.latency.size()) / t.wallMs
           << " qps, latency median = " << s.median << " ms, percentile(99%) = " << s.p99 << " ms\n";
      }
      os << "Overlap: the streams were busy (first copy in to last copy out) " << busyMs << " ms in all, in "
         << streamRun.wallMs << " ms of wall time (" << busyMs / streamRun.wallMs << "x)\n";
    }
    size_t engineBytes = 0, contextBytes = 0;
    INFC_RETURN_IF_ERROR(apiStatus(infc_context_device_memory(h.contexts[0], &engineBytes, &contextBytes)));
    os << "Device memory: engine " << engineBytes << " bytes (weights), context " << contextBytes
       << " bytes (activations and workspace)" << (numStreams > 1 ? " each" : "") << "\n";
    nlohmann::json profileJson;
    if (options.profile)
      INFC_RETURN_IF_ERROR(profileLayers(options, h.engine, h.contexts[0], h.streams[0], os, profileJson));
    report.text = os.str();
    nlohmann::json j;
    auto sj = [](const Stats &s) {
      return nlohmann::json{{"min_ms", s.min}, {"mean_ms", s.mean}, {"median_ms", s.median}, {"p90_ms", s.p90},
                            {"p99_ms", s.p99}, {"max_ms", s.max}};
    };
    j["schema_version"] = kJsonSchemaVersion;
    j["engine"] = options.enginePath;
    j["iterations"] = iters;
    j["warmup"] = options.warmup;
    j["streams"] = numStreams;
    j["sm_count_per_stream"] = settings.smCount; // 0: every SM (no --sm-share)
    j["cuda_graph"] = options.cudaGraph;
    j["batch"] = batch;
    j["throughput_qps"] = qps;
    j["throughput_inferences_per_s"] = qps * static_cast<double>(batch);
    nlohmann::json perStream = nlohmann::json::array();
    for (size_t i = 0; i < streamRun.streams.size(); ++i) {
      const StreamTimes &t = streamRun.streams[i];
      perStream.push_back({{"index", i},
                           {"throughput_qps", 1000.0 * static_cast<double>(t.latency.size()) / t.wallMs},
                           {"latency", sj(stats(t.latency))}});
    }
    j["end_to_end"] = {{"throughput_qps", e2eQps},
                       {"throughput_inferences_per_s", e2eQps * static_cast<double>(batch)},
                       {"wall_ms", streamRun.wallMs},
                       {"busy_ms", busyMs},
                       {"per_stream", perStream}};
    j["latency"] = sj(L);
    j["gpu_compute"] = sj(C);
    j["h2d"] = sj(H);
    j["d2h"] = sj(D);
    j["device_memory"] = {{"engine_bytes", engineBytes}, {"context_bytes", contextBytes}, {"contexts", numStreams}};
    if (options.profile)
      j["layers"] = profileJson;
    report.json = j.dump(2) + "\n";
  }
  if (!options.outputDir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.outputDir, ec);
    if (ec)
      return ioError(options.outputDir + ": cannot create the output folder: " + ec.message());
  }
  if (!options.outputDir.empty())
    for (const auto &[name, t] : report.outputs) {
      std::string safe = name;
      for (char &c : safe)
        if (c == '/' || c == '\\' || c == ':')
          c = '_';
      INFC_RETURN_IF_ERROR(writeFileAtomically(options.outputDir + "/" + safe + ".npy", npyBytes(t)));
    }
  if (!options.jsonPath.empty() && !report.json.empty())
    INFC_RETURN_IF_ERROR(writeFileAtomically(options.jsonPath, report.json));
  return report;
}

Expected<std::map<std::string, Tensor>> runEngineOnce(const std::string &enginePath,
                                                      const std::map<std::string, Tensor> &given) {
  EngineHandles h;
  INFC_RETURN_IF_ERROR(apiStatus(infc_engine_load(enginePath.c_str(), &h.engine)));
  std::vector<IoInfo> inInfo;
  // An engine with profiles runs at the given inputs' shapes (every input given), in the first
  // profile that holds them.
  int profile = -1;
  if (infc_engine_num_profiles(h.engine) > 0) {
    std::vector<DeclaredInput> declared;
    std::map<std::string, std::vector<int64_t>> shapes;
    for (int i = 0; i < infc_engine_num_inputs(h.engine); ++i) {
      INFC_ASSIGN_OR_RETURN(IoInfo io, ioInfo(h.engine, infc_engine_input_name(h.engine, i)));
      auto it = given.find(io.name);
      if (it == given.end())
        return invalidArgument(enginePath + ": input '" + io.name + "' needs a value to set its shape");
      declared.push_back({io.name, io.shape});
      shapes[io.name] = it->second.shape();
    }
    INFC_ASSIGN_OR_RETURN(std::vector<codegen::ProfileRanges> ranges, engineProfileRanges(h.engine, declared));
    std::vector<std::string> notes;
    INFC_ASSIGN_OR_RETURN(RunShapes chosen, selectRunShapes(declared, ranges, shapes, -1, enginePath, notes));
    profile = chosen.profile;
    for (size_t i = 0; i < declared.size(); ++i) {
      INFC_ASSIGN_OR_RETURN(IoInfo io, ioInfo(h.engine, declared[i].name.c_str()));
      setShape(io, chosen.dims[i]);
      inInfo.push_back(io);
    }
  } else {
    for (int i = 0; i < infc_engine_num_inputs(h.engine); ++i) {
      INFC_ASSIGN_OR_RETURN(IoInfo io, ioInfo(h.engine, infc_engine_input_name(h.engine, i)));
      inInfo.push_back(io);
    }
  }
  INFC_ASSIGN_OR_RETURN(std::vector<Tensor> bound, bindInputs(inInfo, given, enginePath, nullptr));
  std::map<std::string, Tensor> inputs;
  for (size_t i = 0; i < inInfo.size(); ++i)
    inputs[inInfo[i].name] = std::move(bound[i]);
  infc_context *c = nullptr;
  INFC_RETURN_IF_ERROR(apiStatus(infc_context_create(h.engine, &c), enginePath + ": "));
  h.contexts.push_back(c);
  if (profile >= 0)
    INFC_RETURN_IF_ERROR(setContextShapes(c, profile, inInfo, enginePath + ": "));
  for (const IoInfo &io : inInfo) {
    void *dptr = nullptr;
    INFC_RETURN_IF_ERROR(apiStatus(infc_context_tensor_address(c, io.name.c_str(), &dptr)));
    INFC_RETURN_IF_ERROR(cuStatus(rt::cudaDriver().cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(dptr), inputs[io.name].bytes(), io.bytes),
                                  "copying input '" + io.name + "'"));
  }
  INFC_RETURN_IF_ERROR(apiStatus(infc_context_enqueue(c, nullptr), enginePath + ": "));
  INFC_RETURN_IF_ERROR(cuStatus(rt::cudaDriver().cuCtxSynchronize(), "running the engine"));
  std::map<std::string, Tensor> outputs;
  std::vector<IoInfo> outInfo;
  for (int i = 0; i < infc_engine_num_outputs(h.engine); ++i) {
    INFC_ASSIGN_OR_RETURN(IoInfo io, ioInfo(h.engine, infc_engine_output_name(h.engine, i)));
    outInfo.push_back(io);
  }
  if (profile >= 0) // the context that ran has the shapes
    INFC_RETURN_IF_ERROR(outputShapes(c, outInfo, enginePath + ": "));
  for (const IoInfo &io : outInfo) {
    Tensor t(io.dtype, io.shape);
    void *dptr = nullptr;
    INFC_RETURN_IF_ERROR(apiStatus(infc_context_tensor_address(c, io.name.c_str(), &dptr)));
    INFC_RETURN_IF_ERROR(cuStatus(rt::cudaDriver().cuMemcpyDtoH(t.mutableBytes(), reinterpret_cast<CUdeviceptr>(dptr), io.bytes),
                                  "copying output '" + io.name + "'"));
    outputs[io.name] = std::move(t);
  }
  return outputs;
}

} // namespace infc

#include "codegen/Autotuner.h"
#include "codegen/EngineBuilder.h"
#include "compiler/EngineReference.h"
#include "runtime/RuntimeImpl.h"

namespace infc {

Expected<std::string> buildModuleForGpu(const Module &module, bool fp16, bool generatedDepthwise,
                                        codegen::TacticSource *tactics) {
  rt::DeviceInfo dev;
  if (std::string e = rt::queryDevice(dev); !e.empty())
    return Status(StatusCode::DeviceError, e);
  codegen::EngineBuildOptions opts;
  opts.lowering.smMajor = dev.smMajor;
  opts.lowering.smMinor = dev.smMinor;
  opts.lowering.fp16 = fp16;
  opts.lowering.generatedDepthwise = generatedDepthwise;
  opts.gpuName = dev.name;
  opts.referenceIr = referenceIrText(module);
  // Engines built here record timed tactics, as `infc build` does on a GPU (one tuner per
  // process: its cache spans the modules built).
  // Deliberately never freed: destroying cuDNN handles during static destruction is unsafe.
  static codegen::Autotuner *tuner = nullptr;
  if (!tuner) {
    INFC_ASSIGN_OR_RETURN(std::unique_ptr<codegen::Autotuner> t, codegen::Autotuner::create(opts.workspaceBytes));
    tuner = t.release();
  }
  codegen::useAutotuner(opts, tactics ? tactics : tuner);
  INFC_ASSIGN_OR_RETURN(codegen::EngineBuildResult built, codegen::buildEngine(module, opts, "engine"));
  return std::move(built.bytes);
}

Expected<std::vector<Tensor>> runModuleOnGpu(const Module &module, const std::vector<Tensor> &inputs, bool fp16,
                                             bool generatedDepthwise, codegen::TacticSource *tactics) {
  INFC_ASSIGN_OR_RETURN(std::string bytes, buildModuleForGpu(module, fp16, generatedDepthwise, tactics));
  EngineHandles h;
  INFC_RETURN_IF_ERROR(apiStatus(infc_engine_load_bytes(bytes.data(), bytes.size(), &h.engine)));
  infc_context *c = nullptr;
  INFC_RETURN_IF_ERROR(apiStatus(infc_context_create(h.engine, &c)));
  h.contexts.push_back(c);
  const Graph &g = *module.mainGraph();
  const auto &cu = rt::cudaDriver();
  for (size_t i = 0; i < inputs.size(); ++i) {
    void *p = nullptr;
    INFC_RETURN_IF_ERROR(apiStatus(infc_context_tensor_address(c, g.body().argument(i)->name().c_str(), &p)));
    INFC_RETURN_IF_ERROR(cuStatus(cu.cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(p), inputs[i].bytes(), inputs[i].byteSize()),
                                  "copying input"));
  }
  INFC_RETURN_IF_ERROR(apiStatus(infc_context_enqueue(c, nullptr)));
  INFC_RETURN_IF_ERROR(cuStatus(cu.cuCtxSynchronize(), "running the engine"));
  std::vector<Tensor> outs;
  for (const GraphOutput &o : g.outputs()) {
    Tensor t(o.value->type().elem(), o.value->type().staticShape());
    void *p = nullptr;
    INFC_RETURN_IF_ERROR(apiStatus(infc_context_tensor_address(c, o.name.c_str(), &p)));
    INFC_RETURN_IF_ERROR(cuStatus(cu.cuMemcpyDtoH(t.mutableBytes(), reinterpret_cast<CUdeviceptr>(p), t.byteSize()),
                                  "copying output"));
    outs.push_back(std::move(t));
  }
  return outs;
}

} // namespace infc
