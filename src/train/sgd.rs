//! SGD with momentum, weight decay and Nesterov — PyTorch's algorithm, with
//! the momentum buffers owned here so they can be saved and resumed exactly.
//! The update runs as libtorch's multi-tensor (`_foreach_*`) ops, as
//! `torch.optim.SGD` does by default on CUDA: a few kernel launches per step on
//! a GPU instead of three per parameter (see `sgd.cpp`).
use std::collections::BTreeMap;
use std::ffi::{c_char, c_int};
use tch::{Tensor, nn};
use torch_sys::C_tensor;

unsafe extern "C" {
    fn convlab_sgd_step(
        params: *const *mut C_tensor,
        grads: *const *mut C_tensor,
        bufs: *mut *mut C_tensor,
        n: usize,
        lr: f64,
        momentum: f64,
        weight_decay: f64,
        nesterov: c_int,
        err: *mut c_char,
        err_len: usize,
    ) -> c_int;
    fn convlab_zero_grads(grads: *const *mut C_tensor, n: usize, err: *mut c_char, err_len: usize) -> c_int;
}

/// Panic with libtorch's message when a call into `sgd.cpp` failed, as tch's own
/// operations do (only a broken invariant, such as tensors on two devices, gets here).
fn check(rc: c_int, err: &[c_char], what: &str) {
    if rc != 0 {
        // SAFETY: `err` is NUL-terminated by sgd.cpp on failure (and zeroed before).
        let msg = unsafe { std::ffi::CStr::from_ptr(err.as_ptr()) }.to_string_lossy();
        panic!("{what} failed in libtorch: {msg}");
    }
}

fn ptr(t: &Tensor) -> *mut C_tensor {
    t.as_ptr() as *mut C_tensor
}

pub struct Sgd {
    /// Trainable variables by name (sorted: a stable order).
    params: BTreeMap<String, Tensor>,
    /// Momentum buffers, created on the first step as PyTorch does (buf = grad).
    buffers: BTreeMap<String, Tensor>,
    pub momentum: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
}

impl Sgd {
    pub fn new(vs: &nn::VarStore, momentum: f64, weight_decay: f64, nesterov: bool) -> Self {
        let params = vs.variables().into_iter().filter(|(_, t)| t.requires_grad()).collect();
        Self { params, buffers: BTreeMap::new(), momentum, weight_decay, nesterov }
    }

    /// The parameters that have gradients, with their names and gradients.
    fn with_grads(&self) -> Vec<(&String, &Tensor, Tensor)> {
        self.params.iter().filter_map(|(n, p)| Some(p.grad()).filter(Tensor::defined).map(|g| (n, p, g))).collect()
    }

    /// Zero every gradient in place (one multi-tensor op).
    pub fn zero_grad(&mut self) {
        let with_grads = self.with_grads(); // the gradient handles live until after the call
        let grads: Vec<*mut C_tensor> = with_grads.iter().map(|(_, _, g)| ptr(g)).collect();
        let mut err = [0 as c_char; 1024];
        // SAFETY: the pointers are live tch tensors, held by `with_grads`, for the call.
        let rc = unsafe { convlab_zero_grads(grads.as_ptr(), grads.len(), err.as_mut_ptr(), err.len()) };
        check(rc, &err, "zeroing gradients");
    }

    /// One update with learning rate `lr` from the gradients, in place, without
    /// reading anything back from the device.
    pub fn step(&mut self, lr: f64) {
        let with_grads = self.with_grads();
        let params: Vec<*mut C_tensor> = with_grads.iter().map(|(_, p, _)| ptr(p)).collect();
        let grads: Vec<*mut C_tensor> = with_grads.iter().map(|(_, _, g)| ptr(g)).collect();
        let mut bufs: Vec<*mut C_tensor> =
            with_grads.iter().map(|(n, _, _)| self.buffers.get(*n).map_or(std::ptr::null_mut(), ptr)).collect();
        // The slots without a buffer yet (a parameter's first step): sgd.cpp fills them.
        let missing: Vec<usize> = (0..bufs.len()).filter(|&i| bufs[i].is_null()).collect();
        let mut err = [0 as c_char; 1024];
        // SAFETY: params, grads and the existing buffers are live tch tensors for the call;
        // sgd.cpp only writes new buffers into the null slots, which are taken over below.
        let rc = unsafe {
            convlab_sgd_step(
                params.as_ptr(),
                grads.as_ptr(),
                bufs.as_mut_ptr(),
                params.len(),
                lr,
                self.momentum,
                self.weight_decay,
                c_int::from(self.nesterov),
                err.as_mut_ptr(),
                err.len(),
            )
        };
        check(rc, &err, "the SGD step");
        // Without momentum the slots stay null.
        let created: Vec<(String, *mut C_tensor)> =
            missing.into_iter().filter(|&i| !bufs[i].is_null()).map(|i| (with_grads[i].0.clone(), bufs[i])).collect();
        for (name, buf) in created {
            // SAFETY: a tensor sgd.cpp allocated for this slot (`new at::Tensor`); tch frees it on drop.
            self.buffers.insert(name, unsafe { Tensor::from_ptr(buf) });
        }
    }

    /// Momentum buffers, by parameter name, for a checkpoint.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        self.buffers.iter().map(|(n, t)| (format!("sgd.momentum.{n}"), t.shallow_clone())).collect()
    }

    /// Restore buffers saved by [`Sgd::state`]; names not present are ignored.
    pub fn load_state(&mut self, named: &[(String, Tensor)]) {
        for (key, t) in named {
            if let Some(name) = key.strip_prefix("sgd.momentum.") {
                if let Some(p) = self.params.get(name) {
                    self.buffers.insert(name.to_string(), t.to_device(p.device()).to_kind(p.kind()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// Reference: PyTorch's SGD on f(w) = ½‖w‖², grad = w (computed by hand).
    #[test]
    fn matches_pytorch_momentum_and_nesterov() {
        for nesterov in [false, true] {
            let vs = nn::VarStore::new(Device::Cpu);
            let w = vs.root().var("w", &[1], nn::Init::Const(1.0));
            let mut opt = Sgd::new(&vs, 0.9, 0.1, nesterov);
            let (mut w_ref, mut buf) = (1.0f64, None::<f64>);
            for _ in 0..5 {
                opt.zero_grad();
                let loss = (&w * &w).sum(Kind::Float) * 0.5;
                loss.backward();
                opt.step(0.1);
                let d = w_ref + 0.1 * w_ref;
                let b = match buf {
                    Some(b) => 0.9 * b + d,
                    None => d,
                };
                buf = Some(b);
                w_ref -= 0.1 * if nesterov { d + 0.9 * b } else { b };
                assert!((w.double_value(&[0]) - w_ref).abs() < 1e-6, "nesterov={nesterov}");
            }
            assert_eq!(opt.state().len(), 1);
        }
    }

    /// Parameters join one at a time (a branch unused at first): the one without a
    /// gradient is left alone, gets its buffer on its own first step, and the
    /// multi-tensor update then covers both; gradients are zeroed, not dropped.
    #[test]
    fn parameters_without_gradients_are_skipped_until_they_have_one() {
        let vs = nn::VarStore::new(Device::Cpu);
        let a = vs.root().var("a", &[2], nn::Init::Const(1.0));
        let b = vs.root().var("b", &[2], nn::Init::Const(2.0));
        let mut opt = Sgd::new(&vs, 0.5, 0.0, false);
        opt.zero_grad(); // no gradients at all yet: nothing to do
        let step = |opt: &mut Sgd, use_b: bool| {
            opt.zero_grad();
            let loss = a.sum(Kind::Float) + if use_b { b.sum(Kind::Float) * 3.0 } else { Tensor::from(0f32) };
            loss.backward();
            opt.step(0.1);
        };
        step(&mut opt, false); // a: buf 1, a = 1 − 0.1
        assert!(a.allclose(&Tensor::from_slice(&[0.9f32, 0.9]), 1e-6, 1e-6, false));
        assert!(b.equal(&Tensor::from_slice(&[2f32, 2.0])), "b had no gradient");
        assert_eq!(opt.state().len(), 1);
        step(&mut opt, true); // a: buf 0.5·1 + 1 = 1.5; b: first step, buf 3
        assert!(a.allclose(&Tensor::from_slice(&[0.75f32, 0.75]), 1e-6, 1e-6, false));
        assert!(b.allclose(&Tensor::from_slice(&[1.7f32, 1.7]), 1e-6, 1e-6, false));
        step(&mut opt, true); // both buffers: a 0.5·1.5 + 1 = 1.75, b 0.5·3 + 3 = 4.5
        assert!(a.allclose(&Tensor::from_slice(&[0.575f32, 0.575]), 1e-6, 1e-6, false));
        assert!(b.allclose(&Tensor::from_slice(&[1.25f32, 1.25]), 1e-6, 1e-6, false));
        assert_eq!(opt.state().len(), 2);
        opt.zero_grad();
        assert!(a.grad().defined() && a.grad().abs().sum(Kind::Float).double_value(&[]) == 0.0);
    }
}
