//! The optimizers — PyTorch's SGD (momentum, weight decay, Nesterov) and AdamW — with
//! their state owned here so that a run saves and resumes it exactly. Updates run as
//! libtorch's multi-tensor (`_foreach_*`) ops, as `torch.optim` does by default on CUDA:
//! a few kernel launches per step on a GPU instead of several per parameter (see
//! `optim.cpp`). Weight decay reaches every parameter, or, with
//! [`TrainConfig::decay_norm_and_bias`] off, none of the biases and normalization
//! parameters (timm's `filter_bias_and_bn`: [`is_norm_or_bias`]).
use super::{OptimizerKind, TrainConfig};
use std::collections::{BTreeMap, BTreeSet};
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
    fn convlab_adamw_step(
        params: *const *mut C_tensor,
        grads: *const *mut C_tensor,
        exp_avgs: *const *mut C_tensor,
        exp_avg_sqs: *const *mut C_tensor,
        n: usize,
        step: f64,
        lr: f64,
        beta1: f64,
        beta2: f64,
        eps: f64,
        weight_decay: f64,
        err: *mut c_char,
        err_len: usize,
    ) -> c_int;
    fn convlab_zero_grads(
        grads: *const *mut C_tensor,
        n: usize,
        err: *mut c_char,
        err_len: usize,
    ) -> c_int;
    fn convlab_clip_grad_norm(
        grads: *const *mut C_tensor,
        n: usize,
        max_norm: f64,
        err: *mut c_char,
        err_len: usize,
    ) -> c_int;
}

/// timm's rule for parameters without weight decay (`param_groups_weight_decay`): fewer than
/// two dimensions (normalization weights and biases, every bias) or a name ending in `.bias`.
pub fn is_norm_or_bias(name: &str, t: &Tensor) -> bool {
    t.dim() <= 1 || name.ends_with(".bias")
}

/// The trainable variables of `vs` by name, and the names weight decay reaches.
fn trainable(
    vs: &nn::VarStore,
    decay_norm_and_bias: bool,
) -> (BTreeMap<String, Tensor>, BTreeSet<String>) {
    let params: BTreeMap<String, Tensor> =
        vs.variables().into_iter().filter(|(_, t)| t.requires_grad()).collect();
    let decayed = params
        .iter()
        .filter(|(n, t)| decay_norm_and_bias || !is_norm_or_bias(n, t))
        .map(|(n, _)| n.clone())
        .collect();
    (params, decayed)
}

/// A parameter that has a gradient: its name, the parameter, the gradient.
type WithGrad<'a> = (&'a String, &'a Tensor, Tensor);

/// The parameters that have gradients, with their names and gradients.
fn with_grads(params: &BTreeMap<String, Tensor>) -> Vec<WithGrad<'_>> {
    params
        .iter()
        .filter_map(|(n, p)| Some(p.grad()).filter(Tensor::defined).map(|g| (n, p, g)))
        .collect()
}

/// Zero every gradient of `params` in place (one multi-tensor op).
fn zero_grads(params: &BTreeMap<String, Tensor>) {
    let with_grads = with_grads(params); // the gradient handles live until after the call
    let grads: Vec<*mut C_tensor> = with_grads.iter().map(|(_, _, g)| ptr(g)).collect();
    let mut err = [0 as c_char; 1024];
    // SAFETY: the pointers are live tch tensors, held by `with_grads`, for the call.
    let rc =
        unsafe { convlab_zero_grads(grads.as_ptr(), grads.len(), err.as_mut_ptr(), err.len()) };
    check(rc, &err, "zeroing gradients");
}

/// The algorithm of an [`Optimizer`].
pub enum Algorithm {
    Sgd(Sgd),
    AdamW(AdamW),
}

/// The optimizer a [`TrainConfig`] names, over the trainable variables of a network: its
/// algorithm, after clipping the gradients' global norm when the config asks for it.
pub struct Optimizer {
    pub algorithm: Algorithm,
    /// [`TrainConfig::clip_grad_norm`].
    clip: Option<f64>,
    params: BTreeMap<String, Tensor>,
}

impl Optimizer {
    pub fn new(vs: &nn::VarStore, cfg: &TrainConfig) -> Self {
        let algorithm = match cfg.optimizer {
            OptimizerKind::Sgd => Algorithm::Sgd(Sgd::with_decay_filter(
                vs,
                cfg.momentum,
                cfg.weight_decay,
                cfg.nesterov,
                cfg.decay_norm_and_bias,
            )),
            OptimizerKind::AdamW => Algorithm::AdamW(AdamW::new(
                vs,
                cfg.betas,
                cfg.eps,
                cfg.weight_decay,
                cfg.decay_norm_and_bias,
            )),
        };
        Self { algorithm, clip: cfg.clip_grad_norm, params: trainable(vs, true).0 }
    }

    pub fn zero_grad(&mut self) {
        match &mut self.algorithm {
            Algorithm::Sgd(o) => o.zero_grad(),
            Algorithm::AdamW(o) => o.zero_grad(),
        }
    }

    /// One update at learning rate `lr` (the gradients clipped first, when asked).
    pub fn step(&mut self, lr: f64) {
        if let Some(max_norm) = self.clip {
            clip_grad_norm(&self.params, max_norm);
        }
        match &mut self.algorithm {
            Algorithm::Sgd(o) => o.step(lr),
            Algorithm::AdamW(o) => o.step(lr),
        }
    }

    /// The gradients' global 2-norm, √(Σ‖∂loss/∂p‖²) over every trainable parameter that has a
    /// gradient, summed in f64 in name order (reads it back: synchronises a GPU).
    pub fn grad_norm(&self) -> f64 {
        with_grads(&self.params)
            .iter()
            .map(|(_, _, g)| g.square().sum(tch::Kind::Double).double_value(&[]))
            .sum::<f64>()
            .sqrt()
    }

    /// The optimizer's state by name, for a checkpoint.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        match &self.algorithm {
            Algorithm::Sgd(o) => o.state(),
            Algorithm::AdamW(o) => o.state(),
        }
    }

    /// Restore state saved by [`Optimizer::state`]; names not present are ignored.
    pub fn load_state(&mut self, named: &[(String, Tensor)]) {
        match &mut self.algorithm {
            Algorithm::Sgd(o) => o.load_state(named),
            Algorithm::AdamW(o) => o.load_state(named),
        }
    }
}

/// Scale the gradients of `params` so their global 2-norm is at most `max_norm`
/// (`torch.nn.utils.clip_grad_norm_`; one multi-tensor call, nothing read back).
fn clip_grad_norm(params: &BTreeMap<String, Tensor>, max_norm: f64) {
    let with_grads = with_grads(params);
    let grads: Vec<*mut C_tensor> = with_grads.iter().map(|(_, _, g)| ptr(g)).collect();
    let mut err = [0 as c_char; 1024];
    // SAFETY: the pointers are live tch tensors, held by `with_grads`, for the call.
    let rc = unsafe {
        convlab_clip_grad_norm(grads.as_ptr(), grads.len(), max_norm, err.as_mut_ptr(), err.len())
    };
    check(rc, &err, "clipping the gradients' norm");
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
    /// The names weight decay reaches (all of them unless biases and norms are left out).
    decayed: BTreeSet<String>,
    /// Momentum buffers, created on the first step as PyTorch does (buf = grad).
    buffers: BTreeMap<String, Tensor>,
    pub momentum: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
}

impl Sgd {
    /// SGD over every trainable variable of `vs`, weight decay on all of them.
    pub fn new(vs: &nn::VarStore, momentum: f64, weight_decay: f64, nesterov: bool) -> Self {
        Self::with_decay_filter(vs, momentum, weight_decay, nesterov, true)
    }

    /// SGD whose weight decay skips biases and normalization parameters unless
    /// `decay_norm_and_bias`.
    pub fn with_decay_filter(
        vs: &nn::VarStore,
        momentum: f64,
        weight_decay: f64,
        nesterov: bool,
        decay_norm_and_bias: bool,
    ) -> Self {
        let (params, decayed) = trainable(vs, decay_norm_and_bias);
        Self { params, decayed, buffers: BTreeMap::new(), momentum, weight_decay, nesterov }
    }

    /// Zero every gradient in place (one multi-tensor op).
    pub fn zero_grad(&mut self) {
        zero_grads(&self.params);
    }

    /// One update with learning rate `lr` from the gradients, in place, without reading
    /// anything back from the device: one multi-tensor call per weight-decay group.
    pub fn step(&mut self, lr: f64) {
        let all = with_grads(&self.params);
        let (momentum, nesterov) = (self.momentum, self.nesterov);
        if self.weight_decay == 0.0 || all.iter().all(|(n, _, _)| self.decayed.contains(*n)) {
            sgd_group(&mut self.buffers, all, lr, momentum, self.weight_decay, nesterov);
        } else {
            let (decayed, plain): (Vec<_>, Vec<_>) =
                all.into_iter().partition(|(n, _, _)| self.decayed.contains(*n));
            sgd_group(&mut self.buffers, decayed, lr, momentum, self.weight_decay, nesterov);
            sgd_group(&mut self.buffers, plain, lr, momentum, 0.0, nesterov);
        }
    }

    /// Momentum buffers, by parameter name, for a checkpoint.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        self.buffers.iter().map(|(n, t)| (format!("sgd.momentum.{n}"), t.shallow_clone())).collect()
    }

    /// Restore buffers saved by [`Sgd::state`]; names not present are ignored.
    pub fn load_state(&mut self, named: &[(String, Tensor)]) {
        for (key, t) in named {
            if let Some(name) = key.strip_prefix("sgd.momentum.")
                && let Some(p) = self.params.get(name)
            {
                self.buffers
                    .insert(name.to_string(), t.to_device(p.device()).to_kind(p.kind()).copy());
            }
        }
    }
}

/// PyTorch's AdamW (`torch.optim.AdamW`, no amsgrad), with its state owned here: the
/// running averages of each parameter's gradient and squared gradient, and its step count.
pub struct AdamW {
    params: BTreeMap<String, Tensor>,
    decayed: BTreeSet<String>,
    exp_avg: BTreeMap<String, Tensor>,
    exp_avg_sq: BTreeMap<String, Tensor>,
    /// Steps each parameter has taken (a parameter without a gradient does not step, as in
    /// PyTorch).
    steps: BTreeMap<String, u64>,
    pub betas: [f64; 2],
    pub eps: f64,
    pub weight_decay: f64,
}

impl AdamW {
    pub fn new(
        vs: &nn::VarStore,
        betas: [f64; 2],
        eps: f64,
        weight_decay: f64,
        decay_norm_and_bias: bool,
    ) -> Self {
        let (params, decayed) = trainable(vs, decay_norm_and_bias);
        Self {
            params,
            decayed,
            exp_avg: BTreeMap::new(),
            exp_avg_sq: BTreeMap::new(),
            steps: BTreeMap::new(),
            betas,
            eps,
            weight_decay,
        }
    }

    pub fn zero_grad(&mut self) {
        zero_grads(&self.params);
    }

    /// One update at learning rate `lr`: one multi-tensor call per group of parameters that
    /// share a step count and a weight decay (one group when every parameter has a gradient).
    pub fn step(&mut self, lr: f64) {
        let all = with_grads(&self.params);
        let mut groups: BTreeMap<(u64, bool), Vec<WithGrad<'_>>> = BTreeMap::new();
        for (n, p, g) in all {
            let step = self.steps.entry(n.clone()).or_insert(0);
            *step += 1;
            self.exp_avg.entry(n.clone()).or_insert_with(|| p.zeros_like());
            self.exp_avg_sq.entry(n.clone()).or_insert_with(|| p.zeros_like());
            groups.entry((*step, self.decayed.contains(n))).or_default().push((n, p, g));
        }
        for ((step, decayed), group) in groups {
            let ptrs = |f: &dyn Fn(&(&String, &Tensor, Tensor)) -> *mut C_tensor| {
                group.iter().map(f).collect::<Vec<_>>()
            };
            let params = ptrs(&|(_, p, _)| ptr(p));
            let grads = ptrs(&|(_, _, g)| ptr(g));
            let m = ptrs(&|(n, _, _)| ptr(&self.exp_avg[*n]));
            let v = ptrs(&|(n, _, _)| ptr(&self.exp_avg_sq[*n]));
            let wd = if decayed { self.weight_decay } else { 0.0 };
            let mut err = [0 as c_char; 1024];
            // SAFETY: every pointer is a live tch tensor (held by `group` and `self`) for the call.
            let rc = unsafe {
                convlab_adamw_step(
                    params.as_ptr(),
                    grads.as_ptr(),
                    m.as_ptr(),
                    v.as_ptr(),
                    params.len(),
                    step as f64,
                    lr,
                    self.betas[0],
                    self.betas[1],
                    self.eps,
                    wd,
                    err.as_mut_ptr(),
                    err.len(),
                )
            };
            check(rc, &err, "the AdamW step");
        }
    }

    /// Running averages and step counts, by parameter name, for a checkpoint.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out: Vec<(String, Tensor)> = Vec::new();
        for (n, t) in &self.exp_avg {
            out.push((format!("adamw.exp_avg.{n}"), t.shallow_clone()));
        }
        for (n, t) in &self.exp_avg_sq {
            out.push((format!("adamw.exp_avg_sq.{n}"), t.shallow_clone()));
        }
        for (n, s) in &self.steps {
            out.push((format!("adamw.step.{n}"), Tensor::from_slice(&[*s as f64])));
        }
        out
    }

    /// Restore state saved by [`AdamW::state`]; names not present are ignored.
    pub fn load_state(&mut self, named: &[(String, Tensor)]) {
        for (key, t) in named {
            let Some((part, name)) = key.strip_prefix("adamw.").and_then(|k| k.split_once('.'))
            else {
                continue;
            };
            let Some(p) = self.params.get(name) else { continue };
            match part {
                // Copies: the state must not alias the tensors it was restored from.
                "exp_avg" => drop(
                    self.exp_avg
                        .insert(name.to_string(), t.to_device(p.device()).to_kind(p.kind()).copy()),
                ),
                "exp_avg_sq" => drop(
                    self.exp_avg_sq
                        .insert(name.to_string(), t.to_device(p.device()).to_kind(p.kind()).copy()),
                ),
                "step" => drop(self.steps.insert(name.to_string(), t.double_value(&[0]) as u64)),
                _ => {}
            }
        }
    }
}

/// One SGD update of a group of parameters sharing a weight decay (`optim.cpp`).
fn sgd_group(
    buffers: &mut BTreeMap<String, Tensor>,
    with_grads: Vec<(&String, &Tensor, Tensor)>,
    lr: f64,
    momentum: f64,
    weight_decay: f64,
    nesterov: bool,
) {
    let params: Vec<*mut C_tensor> = with_grads.iter().map(|(_, p, _)| ptr(p)).collect();
    let grads: Vec<*mut C_tensor> = with_grads.iter().map(|(_, _, g)| ptr(g)).collect();
    let mut bufs: Vec<*mut C_tensor> = with_grads
        .iter()
        .map(|(n, _, _)| buffers.get(*n).map_or(std::ptr::null_mut(), ptr))
        .collect();
    // The slots without a buffer yet (a parameter's first step): optim.cpp fills them.
    let missing: Vec<usize> = (0..bufs.len()).filter(|&i| bufs[i].is_null()).collect();
    let mut err = [0 as c_char; 1024];
    // SAFETY: params, grads and the existing buffers are live tch tensors for the call;
    // optim.cpp only writes new buffers into the null slots, which are taken over below.
    let rc = unsafe {
        convlab_sgd_step(
            params.as_ptr(),
            grads.as_ptr(),
            bufs.as_mut_ptr(),
            params.len(),
            lr,
            momentum,
            weight_decay,
            c_int::from(nesterov),
            err.as_mut_ptr(),
            err.len(),
        )
    };
    check(rc, &err, "the SGD step");
    // Without momentum the slots stay null.
    let created: Vec<(String, *mut C_tensor)> = missing
        .into_iter()
        .filter(|&i| !bufs[i].is_null())
        .map(|i| (with_grads[i].0.clone(), bufs[i]))
        .collect();
    drop(with_grads);
    for (name, buf) in created {
        // SAFETY: a tensor optim.cpp allocated for this slot (`new at::Tensor`); tch frees it on
        // drop.
        buffers.insert(name, unsafe { Tensor::from_ptr(buf) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// `fc.weight` (2×2) and `fc.bias` (2), three steps on f = ½‖w − T‖² + Σ b³ / 3.
    fn three_steps(cfg: &TrainConfig, lr: f64) -> (Vec<f32>, Vec<f32>) {
        let vs = nn::VarStore::new(Device::Cpu);
        let fc = vs.root().sub("fc");
        let w =
            fc.var_copy("weight", &Tensor::from_slice(&[0.5f32, -0.25, 1.0, 0.75]).view([2, 2]));
        let b = fc.var_copy("bias", &Tensor::from_slice(&[0.3f32, -0.6]));
        let t = Tensor::from_slice(&[0.1f32, 0.2, -0.3, 0.4]).view([2, 2]);
        let mut opt = Optimizer::new(&vs, cfg);
        for _ in 0..3 {
            opt.zero_grad();
            let loss = (&w - &t).pow_tensor_scalar(2).sum(Kind::Float) * 0.5
                + b.pow_tensor_scalar(3).sum(Kind::Float) / 3.0;
            loss.backward();
            opt.step(lr);
        }
        (Vec::<f32>::try_from(w.flatten(0, -1)).unwrap(), Vec::<f32>::try_from(&b).unwrap())
    }

    fn close(got: &[f32], want: &[f64], what: &str) {
        for (g, w) in got.iter().zip(want) {
            assert!((*g as f64 - w).abs() < 1e-6, "{what}: {got:?} vs torch {want:?}");
        }
    }

    /// Against `torch.optim.SGD(lr=0.1, momentum=0.9, weight_decay=0.05, nesterov=True)` and
    /// `torch.optim.AdamW(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)`, with
    /// weight decay on both parameters and with timm's filter (the bias in a group without
    /// it), and the SGD after `torch.nn.utils.clip_grad_norm_` at 0.5. Reference values printed by
    /// torch 2.11.0: `$CONVLAB_VENV/bin/python tests/references/optimizers.py`.
    #[test]
    fn sgd_and_adamw_steps_equal_torch_optim() {
        let sgd = |filter: bool| TrainConfig {
            momentum: 0.9,
            weight_decay: 0.05,
            nesterov: true,
            decay_norm_and_bias: !filter,
            ..TrainConfig::paper()
        };
        let adamw = |filter: bool| TrainConfig {
            optimizer: OptimizerKind::AdamW,
            weight_decay: 0.1,
            betas: [0.9, 0.999],
            eps: 1e-8,
            decay_norm_and_bias: !filter,
            ..TrainConfig::paper()
        };
        let w_sgd = [0.216768101, 0.058222972, 0.100322187, 0.491759151];
        let (w, b) = three_steps(&sgd(false), 0.1);
        close(&w, &w_sgd, "sgd all: weight");
        close(&b, &[0.224172577, -0.927892029], "sgd all: bias");
        let (w, b) = three_steps(&sgd(true), 0.1);
        close(&w, &w_sgd, "sgd filtered: weight");
        close(&b, &[0.234476283, -0.961197257], "sgd filtered: bias without decay");
        let w_adamw = [0.468560427, -0.219305396, 0.967041552, 0.717817008];
        let (w, b) = three_steps(&adamw(false), 0.01);
        close(&w, &w_adamw, "adamw all: weight");
        close(&b, &[0.269221097, -0.628196955], "adamw all: bias");
        let (w, b) = three_steps(&adamw(true), 0.01);
        close(&w, &w_adamw, "adamw filtered: weight");
        close(&b, &[0.270086884, -0.63002646], "adamw filtered: bias without decay");
        // `torch.nn.utils.clip_grad_norm_([w, b], max_norm=0.5)` before each SGD step.
        let (w, b) = three_steps(&TrainConfig { clip_grad_norm: Some(0.5), ..sgd(false) }, 0.1);
        close(&w, &[0.376416624, -0.122644335, 0.621705234, 0.630188882], "sgd clipped: weight");
        close(&b, &[0.264245033, -0.682483256], "sgd clipped: bias");
    }

    /// AdamW's state survives a checkpoint: two steps, save, load into a fresh optimizer over
    /// a copy of the weights, one more step each — the same weights.
    #[test]
    fn adamw_resumes_exactly_from_its_state() {
        let cfg = TrainConfig {
            optimizer: OptimizerKind::AdamW,
            weight_decay: 0.1,
            ..TrainConfig::paper()
        };
        let make = |init: &Tensor| {
            let vs = nn::VarStore::new(Device::Cpu);
            let w = vs.root().var_copy("w", init);
            (vs, w)
        };
        let step = |opt: &mut Optimizer, w: &Tensor| {
            opt.zero_grad();
            (w * w).sum(Kind::Float).backward();
            opt.step(0.01);
        };
        let (vs, w) = make(&Tensor::from_slice(&[1.0f32, -2.0, 0.5]));
        let mut opt = Optimizer::new(&vs, &cfg);
        step(&mut opt, &w);
        step(&mut opt, &w);
        let (vs2, w2) = make(&w.detach());
        let mut opt2 = Optimizer::new(&vs2, &cfg);
        opt2.load_state(&opt.state());
        assert_eq!(opt.state().len(), 3, "exp_avg, exp_avg_sq, step");
        step(&mut opt, &w);
        step(&mut opt2, &w2);
        assert!(w.equal(&w2), "{w} vs {w2}");
    }

    /// timm's filter on resnet18 leaves 41 of its 62 parameters undecayed (every BatchNorm
    /// weight and bias, `fc.bias`): the same names as torchvision's resnet18 under
    /// `p.ndim <= 1 or name.endswith(".bias")` (tests/references/optimizers.py).
    #[test]
    fn the_decay_filter_is_timms_on_resnet18() {
        let vs = nn::VarStore::new(Device::Cpu);
        let _net = crate::model::ResNet::new(
            &vs.root(),
            &crate::model::ResNetConfig {
                num_classes: 10,
                ..crate::model::ResNetConfig::resnet18()
            },
        )
        .unwrap();
        let (params, decayed) = trainable(&vs, false);
        let mut plain: Vec<&String> = params.keys().filter(|n| !decayed.contains(*n)).collect();
        plain.sort();
        assert_eq!((plain.len(), params.len()), (41, 62));
        assert_eq!(plain[..3], ["bn1.bias", "bn1.weight", "fc.bias"]);
        assert_eq!(
            plain[38..],
            ["layer4.1.bn1.weight", "layer4.1.bn2.bias", "layer4.1.bn2.weight"]
        );
        assert_eq!(trainable(&vs, true).1.len(), 62, "decay on everything by default");
    }

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
            let loss = a.sum(Kind::Float)
                + if use_b { b.sum(Kind::Float) * 3.0 } else { Tensor::from(0f32) };
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
