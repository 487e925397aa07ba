// The CPU side of sharing one engine between threads (runtime/infc_runtime.h): verifying and
// loading engines, the per-thread last error, the driver loader, and the reference interpreter
// over one shared graph, from many threads at once. scripts/tsan.sh runs these under
// ThreadSanitizer; on a GPU machine the load succeeds and each thread also makes a context.
#include "codegen/EngineBuilder.h"
#include "ir/Interpreter.h"
#include "ir/Parser.h"
#include "runtime/EngineFormat.h"
#include "runtime/EngineReader.h"
#include "runtime/infc_runtime.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>

using namespace infc;

namespace {

const char *kModel = R"(graph @tiny(%x: tensor<4x8xf32>) -> ("y": tensor<4x8xf32>) {
  %c = onnx.Constant() {value = dense<[0.5, -1.0, 2.0, 0.25, 1.5, -0.5, 3.0, 0.125]> : tensor<8xf32>} : () -> tensor<8xf32>
  %a = onnx.Mul(%x, %c) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %r = onnx.Relu(%a) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = onnx.Softmax(%r) {axis = 1} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %s
}
)";

/// Starts `n` threads on `fn(thread index)` together and joins them.
template <class Fn> void together(int n, Fn fn) {
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t)
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < n)
        std::this_thread::yield();
      fn(t);
    });
  for (std::thread &th : threads)
    th.join();
}

} // namespace

TEST_CASE("engines are verified, loaded and interpreted from many threads at once", "[threads]") {
  Expected<std::unique_ptr<Module>> m = parseModule(kModel, "tiny.ir");
  REQUIRE(m.isOk());
  codegen::EngineBuildOptions o; // sm_90, heuristic tactics: no GPU needed
  o.referenceIr = kModel;
  Expected<codegen::EngineBuildResult> built = codegen::buildEngine(**m, o, "tiny.ir");
  REQUIRE(built.isOk());
  const std::string bytes = built->bytes;
  std::string corrupt = bytes;
  corrupt[corrupt.size() / 2] ^= 0x5a;

  Tensor x(DType::F32, {4, 8});
  for (int64_t i = 0; i < x.numElements(); ++i)
    x.mutableData<float>()[i] = static_cast<float>(i % 7) - 3.0f;
  Expected<std::vector<Tensor>> want = interpret(*(*m)->mainGraph(), {x});
  REQUIRE(want.isOk());

  const int kThreads = 8;
  struct Result {
    bool verified = false, corruptRefused = false, loadFailed = false, loadedOrNoDevice = false, interpreted = false;
    std::string error;
    uint32_t crc = 0;
  };
  std::vector<Result> results(kThreads);
  together(kThreads, [&](int t) {
    Result &r = results[static_cast<size_t>(t)];
    std::string err;
    r.verified = rt::EngineView::fromBytes(bytes, err) != nullptr && err.empty();
    r.corruptRefused = rt::EngineView::fromBytes(corrupt, err) == nullptr && !err.empty();
    // The last error is per thread: even threads load junk, odd threads a truncated engine, and
    // each sees its own failure's message.
    infc_engine *bad = nullptr;
    std::string junk = t % 2 ? bytes.substr(0, bytes.size() / 3) : "not an engine from thread " + std::to_string(t);
    r.loadFailed = infc_engine_load_bytes(junk.data(), junk.size(), &bad) != INFC_OK && bad == nullptr;
    r.error = infc_last_error();
    // With a GPU each thread loads the engine and makes a context; without one the load fails
    // with INFC_ERROR_NO_DEVICE (after the same verification).
    infc_engine *e = nullptr;
    infc_status s = infc_engine_load_bytes(bytes.data(), bytes.size(), &e);
    if (s == INFC_OK) {
      infc_context *c = nullptr;
      r.loadedOrNoDevice = infc_context_create(e, &c) == INFC_OK;
      infc_context_free(c);
      infc_engine_free(e);
    } else {
      r.loadedOrNoDevice = s == INFC_ERROR_NO_DEVICE;
    }
    Expected<std::vector<Tensor>> got = interpret(*(*m)->mainGraph(), {x});
    r.interpreted = got.isOk() && std::memcmp((*got)[0].bytes(), (*want)[0].bytes(), (*want)[0].byteSize()) == 0;
    r.crc = rt::crc32c(bytes.data(), bytes.size());
  });
  for (int t = 0; t < kThreads; ++t) {
    INFO("thread " << t);
    const Result &r = results[static_cast<size_t>(t)];
    CHECK(r.verified);
    CHECK(r.corruptRefused);
    CHECK(r.loadFailed);
    CHECK(r.error == results[static_cast<size_t>(t % 2)].error);
    CHECK(r.error != results[static_cast<size_t>(1 - t % 2)].error);
    CHECK(r.loadedOrNoDevice);
    CHECK(r.interpreted);
    CHECK(r.crc == results[0].crc);
  }
}
