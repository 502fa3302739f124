//! Checkpoints: a network's weights (and, for `last.safetensors`, the optimizer's state) with a
//! few numbers (`meta.<key>`), in one safetensors file, written atomically.
use super::Optimizer;
use crate::io;
use crate::model::{ResNet, ResNetConfig};
use anyhow::Context;
use std::path::Path;
use tch::{Tensor, nn};

/// Write `vs`'s variables, `opt`'s state when given, and `meta` (`meta.<key>`, one f64 each) to
/// `path`, on the CPU, sorted by name.
pub(crate) fn save_checkpoint(
    path: &Path,
    vs: &nn::VarStore,
    opt: Option<&Optimizer>,
    meta: &[(&str, f64)],
) -> anyhow::Result<()> {
    let mut named: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .map(|(n, t)| (n, t.to_device(tch::Device::Cpu).contiguous()))
        .collect();
    if let Some(opt) = opt {
        named.extend(
            opt.state().into_iter().map(|(n, t)| (n, t.to_device(tch::Device::Cpu).contiguous())),
        );
    }
    for (k, v) in meta {
        named.push((format!("meta.{k}"), Tensor::from_slice(&[*v])));
    }
    named.sort_by(|a, b| a.0.cmp(&b.0));
    io::write_atomic(path, |tmp| Ok(Tensor::write_safetensors(&named, tmp)?))
}

/// Load a checkpoint's weights into `vs`; returns everything it holds (for optimizer state and
/// meta).
pub(crate) fn load_checkpoint(
    path: &Path,
    vs: &mut nn::VarStore,
) -> anyhow::Result<Vec<(String, Tensor)>> {
    let named = Tensor::read_safetensors(path)
        .with_context(|| format!("cannot read checkpoint {}", path.display()))?;
    tch::no_grad(|| -> anyhow::Result<()> {
        for (name, mut var) in vs.variables() {
            let (_, t) = named.iter().find(|(n, _)| *n == name).ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: no tensor `{name}` (a checkpoint of another model?)",
                    path.display()
                )
            })?;
            anyhow::ensure!(
                t.size() == var.size(),
                "{}: `{name}` has shape {:?}, the model {:?}",
                path.display(),
                t.size(),
                var.size()
            );
            var.copy_(t);
        }
        Ok(())
    })?;
    Ok(named)
}

/// The network of `model` on `device` with the weights of the checkpoint at `path`.
pub(crate) fn load_network(
    model: &ResNetConfig,
    path: &Path,
    device: tch::Device,
) -> anyhow::Result<(nn::VarStore, ResNet)> {
    let mut vs = nn::VarStore::new(device);
    let net = ResNet::new(&vs.root(), model)?;
    load_checkpoint(path, &mut vs)?;
    Ok((vs, net))
}

/// The number a checkpoint holds as `meta.<key>`.
pub(crate) fn meta(named: &[(String, Tensor)], key: &str) -> Option<f64> {
    named.iter().find(|(n, _)| n == &format!("meta.{key}")).map(|(_, t)| t.double_value(&[0]))
}
