// infc-nvrtc: compiles one module of generated kernels with NVRTC in a process of its own, for
// infc (codegen/Nvrtc.h says why). Reads the request on stdin, writes the answer on stdout; not
// meant to be run by hand.
#include "codegen/Nvrtc.h"

#include <unistd.h>

int main() { return infc::codegen::serveNvrtcRequest(STDIN_FILENO, STDOUT_FILENO); }
