// What libtorch this binary runs with, for `convlab doctor`: the version it was compiled
// against and the CUDA runtime's and cuDNN's versions. Compiled by build.rs against
// libtorch's headers. A libtorch without CUDA throws from its CUDA hooks; that is -1 here.
#include <ATen/Context.h>
#include <torch/headeronly/version.h>

extern "C" {

const char* convlab_torch_version() { return TORCH_VERSION; }

long long convlab_cudart_version() {
  try {
    return at::globalContext().hasCUDART() ? at::globalContext().versionCUDART() : -1;
  } catch (...) {
    return -1;
  }
}

long long convlab_cudnn_version() {
  try {
    return at::globalContext().hasCuDNN() ? at::globalContext().versionCuDNN() : -1;
  } catch (...) {
    return -1;
  }
}

}
