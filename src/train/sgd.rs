//! SGD with momentum, weight decay and Nesterov — PyTorch's algorithm, with
//! the momentum buffers owned here so they can be saved and resumed exactly.
use std::collections::BTreeMap;
use tch::{Tensor, nn};

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

    pub fn zero_grad(&mut self) {
        for p in self.params.values_mut() {
            p.zero_grad();
        }
    }

    /// One update with learning rate `lr` from the gradients in place — the same
    /// three in-place kernels per parameter as libtorch's SGD (no allocation
    /// without weight decay or Nesterov).
    pub fn step(&mut self, lr: f64) {
        tch::no_grad(|| {
            // −lr as a 0-dim tensor on the parameters' device, made once per step
            // (uploaded without a stream synchronisation on CUDA).
            let mut neg_lr: Option<Tensor> = None;
            for (name, p) in self.params.iter_mut() {
                let g = p.grad();
                if !g.defined() {
                    continue;
                }
                let neg_lr = neg_lr.get_or_insert_with(|| crate::device::upload(&Tensor::from(-lr as f32), p.device()));
                let d = if self.weight_decay != 0.0 { &g + &*p * self.weight_decay } else { g };
                if self.momentum == 0.0 {
                    let _ = p.addcmul_(&d, &*neg_lr);
                    continue;
                }
                let buf = match self.buffers.get_mut(name) {
                    Some(buf) => {
                        let _ = buf.g_mul_scalar_(self.momentum).g_add_(&d);
                        buf.shallow_clone()
                    }
                    None => {
                        let buf = d.detach().copy();
                        self.buffers.insert(name.clone(), buf.shallow_clone());
                        buf
                    }
                };
                if self.nesterov {
                    let _ = p.addcmul_(&(d + &buf * self.momentum), &*neg_lr);
                } else {
                    let _ = p.addcmul_(&buf, &*neg_lr); // p += buf · (−lr)
                }
            }
        })
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
}
