// CUDA autocast in bf16 for one scope, through libtorch's per-device calls — the
// calls PyTorch's `torch.autocast` makes. `tch::autocast` goes through
// `at::autocast::{is_enabled, set_enabled}`, which libtorch 2.11 deprecates with
// a warning printed on every call (five lines on stderr per forward pass), and
// leaves the type at fp16. Compiled by build.rs against libtorch's headers, so
// the signatures and enum values are checked by the compiler, not written by hand.
#include <ATen/autocast_mode.h>

extern "C" {

// The calling thread's CUDA autocast state: enabled (0 or 1) and the autocast
// type (a c10::ScalarType value).
void convlab_cuda_autocast_state(int* enabled, int* scalar_type) {
  *enabled = at::autocast::is_autocast_enabled(at::kCUDA) ? 1 : 0;
  *scalar_type = static_cast<int>(at::autocast::get_autocast_dtype(at::kCUDA));
}

// Enter a scope: bf16, on, one nesting level deeper; the previous state is
// written out for `convlab_cuda_autocast_exit`.
void convlab_cuda_autocast_enter_bf16(int* was_enabled, int* was_scalar_type) {
  convlab_cuda_autocast_state(was_enabled, was_scalar_type);
  at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
  at::autocast::set_autocast_enabled(at::kCUDA, true);
  at::autocast::increment_nesting();
}

// Leave a scope: the outermost one clears the cache of bf16 weight copies; the
// state before the scope is put back.
void convlab_cuda_autocast_exit(int was_enabled, int was_scalar_type) {
  if (at::autocast::decrement_nesting() == 0) {
    at::autocast::clear_cache();
  }
  at::autocast::set_autocast_enabled(at::kCUDA, was_enabled != 0);
  at::autocast::set_autocast_dtype(at::kCUDA, static_cast<at::ScalarType>(was_scalar_type));
}

// c10::ScalarType values, for checks on the Rust side.
int convlab_scalar_type_bfloat16() { return static_cast<int>(at::kBFloat16); }
int convlab_scalar_type_half() { return static_cast<int>(at::kHalf); }
}
