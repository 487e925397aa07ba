// TEMPORARY scaffold while the CLI is written.
#include <cstdio>
int main() { std::fprintf(stderr, "error: not built yet\n"); return 1; }
