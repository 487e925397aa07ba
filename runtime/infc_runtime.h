/* infc runtime C API: load an engine, create execution contexts, bind tensors, enqueue.
 * The runtime depends on the CUDA driver, cuDNN and cuBLASLt only. Every call returns a status
 * code; infc_last_error() gives the message of the last failure on this thread.
 *
 * Threads: an engine is immutable once loaded and may be shared by any number of threads; each
 * thread creates its own contexts from it (infc_context_create is safe to call concurrently on
 * one engine). A context is not thread-safe: use it from one thread at a time, and do not free
 * the engine while a context of it exists. Each context owns its cuDNN and cuBLASLt handles,
 * workspace, activation arena and CUDA graph, so contexts of one engine run concurrently on
 * different streams. The calls that touch the GPU make the engine's CUDA context (the device's
 * primary context) current on the calling thread. */
#ifndef INFC_RUNTIME_H
#define INFC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum infc_status {
  INFC_OK = 0,
  INFC_ERROR_INVALID_ARGUMENT = 1, /* bad handle, name or size */
  INFC_ERROR_INVALID_ENGINE = 2,   /* corrupted, truncated or foreign engine file */
  INFC_ERROR_WRONG_DEVICE = 3,     /* engine built for another compute capability */
  INFC_ERROR_NO_DEVICE = 4,        /* no usable GPU / driver */
  INFC_ERROR_CUDA = 5,             /* a CUDA, cuDNN or cuBLASLt call failed */
  INFC_ERROR_IO = 6,
  INFC_ERROR_UNSUPPORTED = 7,
} infc_status;

typedef struct infc_engine infc_engine;
typedef struct infc_context infc_context;

/** Message of the last failing call on this thread ("" if none). */
const char *infc_last_error(void);
const char *infc_status_name(infc_status status);

/** Loads and verifies an engine file, uploads its weights and kernels to the current GPU. */
infc_status infc_engine_load(const char *path, infc_engine **engine);
/** Same from memory (the bytes are copied). */
infc_status infc_engine_load_bytes(const void *data, size_t size, infc_engine **engine);
void infc_engine_free(infc_engine *engine);

int infc_engine_num_inputs(const infc_engine *engine);
int infc_engine_num_outputs(const infc_engine *engine);
/** Name, dtype (ONNX numbering), rank and dims of input/output i. */
const char *infc_engine_input_name(const infc_engine *engine, int i);
const char *infc_engine_output_name(const infc_engine *engine, int i);
infc_status infc_engine_tensor_info(const infc_engine *engine, const char *name, int32_t *dtype, int *rank,
                                    int64_t dims[8], size_t *bytes);

/** Optimization profiles (engines built with --min-shapes/--opt-shapes/--max-shapes). An input's
 *  dynamic dims are -1 in infc_engine_tensor_info (its bytes then 0). num_profiles is 0 for an
 *  engine of one fixed shape. get_profile_shape writes the range of input `name` in profile
 *  `profile`: which = 0 (min), 1 (opt) or 2 (max). */
int infc_engine_num_profiles(const infc_engine *engine);
infc_status infc_engine_get_profile_shape(const infc_engine *engine, int profile, const char *name, int which, int64_t dims[8],
                                          int *rank);

/** An execution context owns one device arena (activations, workspace). */
infc_status infc_context_create(infc_engine *engine, infc_context **context);
void infc_context_free(infc_context *context);
/** Binds an input to caller-owned device memory (default: a buffer in the context's arena). The
 *  address must be 16-byte aligned (cudaMalloc's are): INFC_ERROR_INVALID_ARGUMENT otherwise. */
infc_status infc_context_set_input(infc_context *context, const char *name, void *device_ptr);
/** Binds an output to caller-owned device memory, 16-byte aligned (default: a buffer in the
 *  context's arena). */
infc_status infc_context_set_output(infc_context *context, const char *name, void *device_ptr);
/** Device address currently bound to an input or output. */
infc_status infc_context_tensor_address(infc_context *context, const char *name, void **device_ptr);
/** Engines with profiles: the profile the context runs in (default 0; switching forgets the
 *  shapes set), and an input's shape, checked against that profile's range (an error names the
 *  input, the dim and the range). Every input with a dynamic dim needs its shape before enqueue;
 *  its buffer (and every output's) is then the size of that shape. get_tensor_shape gives an input's
 *  or output's shape at the shapes set (-1 in dims that are not known yet). The first enqueue at
 *  a new shape makes the layers' plans for it (cuDNN plans, cuBLASLt algorithms, a CUDA graph),
 *  kept for the next 8 shapes. Engines of one fixed shape take their one shape. */
infc_status infc_context_set_profile(infc_context *context, int profile);
infc_status infc_context_set_input_shape(infc_context *context, const char *name, const int64_t *dims, int rank);
infc_status infc_context_get_tensor_shape(const infc_context *context, const char *name, int64_t dims[8], int *rank);
/** Enqueues the whole network on `stream` (a CUstream / cudaStream_t; NULL = default stream). */
infc_status infc_context_enqueue(infc_context *context, void *stream);
/** enable != 0: enqueue replays a CUDA graph of the network, captured at the first enqueue on a
 *  non-NULL stream and again after set_input/set_output change an address (one launch per run
 *  instead of one per layer). Off by default; enqueue on the NULL stream never uses it. */
infc_status infc_context_set_cuda_graph(infc_context *context, int enable);

/** The number of SMs this context's cuDNN and cuBLASLt kernels run on (0, the default: all of
 *  them), through the libraries' SM count targets: contexts that run at once on separate streams
 *  then share the GPU's SMs instead of each kernel taking them all. Plans again (the recorded
 *  tactic where it takes the target, else the library's heuristic) and drops the CUDA graphs. */
infc_status infc_context_set_sm_count(infc_context *context, int sms);

/** Device memory in bytes: what the engine holds for its weights (once per engine), and what this
 *  context allocated (its activation arena plus the workspace its tactics need). */
infc_status infc_context_device_memory(const infc_context *context, size_t *engine_bytes, size_t *context_bytes);

/** Runs the network once on `stream` with an event around every layer, waits, and writes each
 *  layer's GPU time in milliseconds to layer_ms[0..n) (n = infc_engine_num_layers). */
infc_status infc_context_profile(infc_context *context, void *stream, float *layer_ms, int n);
int infc_engine_num_layers(const infc_engine *engine);

#ifdef __cplusplus
}
#endif

#endif /* INFC_RUNTIME_H */
