// SGD with momentum and AdamW over all parameters at once: libtorch's multi-tensor
// (`_foreach_*`) kernels, as PyTorch's `torch.optim.SGD` / `AdamW` run by default on
// CUDA (`_multi_tensor_sgd`, `_multi_tensor_adam`). On a GPU one step is a handful
// of kernel launches instead of several per parameter; on the CPU each `_foreach_*`
// op runs the same per-tensor kernels as PyTorch's single-tensor path. tch does not
// wrap the `_foreach_*` family, so this file is compiled against libtorch's headers
// by build.rs.
#include <ATen/core/Tensor.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/_foreach_add.h>
#include <ATen/ops/_foreach_addcdiv.h>
#include <ATen/ops/_foreach_addcmul.h>
#include <ATen/ops/_foreach_div.h>
#include <ATen/ops/_foreach_lerp.h>
#include <ATen/ops/_foreach_mul.h>
#include <ATen/ops/_foreach_norm.h>
#include <ATen/ops/clamp.h>
#include <ATen/ops/full_like.h>
#include <ATen/ops/linalg_vector_norm.h>
#include <ATen/ops/stack.h>
#include <ATen/ops/_foreach_sqrt.h>
#include <ATen/ops/_foreach_zero.h>
#include <cmath>
#include <cstring>
#include <exception>
#include <vector>

namespace {
std::vector<at::Tensor> list(at::Tensor* const* ts, size_t n) {
  std::vector<at::Tensor> v;
  v.reserve(n);
  for (size_t i = 0; i < n; i++) v.push_back(*ts[i]);
  return v;
}

int fail(const char* what, char* err, size_t err_len) {
  if (err_len > 0) {
    std::strncpy(err, what, err_len - 1);
    err[err_len - 1] = '\0';
  }
  return 1;
}
}  // namespace

// One update of `n` parameters from their gradients, in place:
//   d = g + weight_decay·p;  buf = momentum·buf + d (buf = d on the first step);
//   p -= lr · (nesterov ? d + momentum·buf : buf)
// `bufs[i]` null: no buffer yet; a new one is allocated and written back (the
// caller owns it). Returns 0, or 1 with libtorch's message in `err`.
extern "C" int convlab_sgd_step(at::Tensor* const* params, at::Tensor* const* grads, at::Tensor** bufs, size_t n,
                                double lr, double momentum, double weight_decay, int nesterov, char* err,
                                size_t err_len) {
  if (n == 0) return 0;  // libtorch's foreach ops refuse empty lists
  try {
    at::NoGradGuard no_grad;
    auto p = list(params, n);
    auto g = list(grads, n);
    auto d = weight_decay != 0.0 ? at::_foreach_add(g, p, weight_decay) : g;
    if (momentum != 0.0) {
      bool all = true;
      for (size_t i = 0; i < n; i++) all = all && bufs[i] != nullptr;
      std::vector<at::Tensor> b;
      if (all) {
        b = list(bufs, n);
        at::_foreach_mul_(b, momentum);
        at::_foreach_add_(b, d);
      } else {
        for (size_t i = 0; i < n; i++) {
          if (bufs[i] == nullptr) {
            bufs[i] = new at::Tensor(d[i].clone().detach());
          } else {
            bufs[i]->mul_(momentum).add_(d[i]);
          }
          b.push_back(*bufs[i]);
        }
      }
      d = nesterov ? at::_foreach_add(d, b, momentum) : b;
    }
    at::_foreach_add_(p, d, -lr);
    return 0;
  } catch (const std::exception& e) {
    return fail(e.what(), err, err_len);
  }
}

// One AdamW update of `n` parameters that have all taken `step` steps (this one
// included), in place — PyTorch's `_multi_tensor_adam` with decoupled weight decay,
// op for op (no amsgrad, not maximizing):
//   p *= 1 - lr·wd;  m = lerp(m, g, 1 - β₁);  v = β₂·v + (1 - β₂)·g²;
//   p -= lr / (1 - β₁^step) · m / (sqrt(v) / sqrt(1 - β₂^step) + eps)
// `exp_avgs` and `exp_avg_sqs` are the caller's live tensors (zeros before the first step).
extern "C" int convlab_adamw_step(at::Tensor* const* params, at::Tensor* const* grads, at::Tensor* const* exp_avgs,
                                  at::Tensor* const* exp_avg_sqs, size_t n, double step, double lr, double beta1,
                                  double beta2, double eps, double weight_decay, char* err, size_t err_len) {
  if (n == 0) return 0;
  try {
    at::NoGradGuard no_grad;
    auto p = list(params, n);
    auto g = list(grads, n);
    auto m = list(exp_avgs, n);
    auto v = list(exp_avg_sqs, n);
    if (weight_decay != 0.0) at::_foreach_mul_(p, 1.0 - lr * weight_decay);
    at::_foreach_lerp_(m, g, 1.0 - beta1);
    at::_foreach_mul_(v, beta2);
    at::_foreach_addcmul_(v, g, g, 1.0 - beta2);
    const double bias_correction1 = 1.0 - std::pow(beta1, step);
    const double bias_correction2 = 1.0 - std::pow(beta2, step);
    const double step_size = (lr / bias_correction1) * -1.0;
    const double bias_correction2_sqrt = std::pow(bias_correction2, 0.5);
    auto denom = at::_foreach_sqrt(v);
    at::_foreach_div_(denom, bias_correction2_sqrt);
    at::_foreach_add_(denom, eps);
    at::_foreach_addcdiv_(p, m, denom, step_size);
    return 0;
  } catch (const std::exception& e) {
    return fail(e.what(), err, err_len);
  }
}

// Scale `n` gradients in place so that their global 2-norm is at most `max_norm` —
// torch.nn.utils.clip_grad_norm_ (foreach path), op for op, without reading anything back:
//   total = ‖(‖g₁‖, …, ‖gₙ‖)‖;  g *= min(max_norm / (total + 1e-6), 1)
extern "C" int convlab_clip_grad_norm(at::Tensor* const* grads, size_t n, double max_norm, char* err, size_t err_len) {
  if (n == 0) return 0;
  try {
    at::NoGradGuard no_grad;
    auto g = list(grads, n);
    auto norms = at::_foreach_norm(g, 2);
    auto total = at::linalg_vector_norm(at::stack(norms), 2);
    auto coef = at::full_like(total, max_norm).div(total.add(1e-6));
    at::_foreach_mul_(g, at::clamp(coef, c10::nullopt, 1.0));
    return 0;
  } catch (const std::exception& e) {
    return fail(e.what(), err, err_len);
  }
}

// Zero `n` gradients in place.
extern "C" int convlab_zero_grads(at::Tensor* const* grads, size_t n, char* err, size_t err_len) {
  if (n == 0) return 0;
  try {
    auto g = list(grads, n);
    at::_foreach_zero_(g);
    return 0;
  } catch (const std::exception& e) {
    return fail(e.what(), err, err_len);
  }
}
