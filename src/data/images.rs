//! Image operations on whole uint8 splits: resizing and per-channel statistics.
use super::dataset::NormStats;
use tch::{Device, Kind, Tensor};

pub(crate) fn resize_u8(images: &Tensor, size: u32, channels: u8) -> Tensor {
    let s = images.size();
    let mut out = images.shallow_clone();
    if size > 0 && (s[2] != size as i64 || s[3] != size as i64) {
        out = out
            .to_kind(Kind::Float)
            .internal_upsample_bilinear2d_aa([size as i64, size as i64], false, None, None)
            .round()
            .clamp(0.0, 255.0)
            .to_kind(Kind::Uint8);
    }
    if channels == 3 && s[1] == 1 {
        out = out.repeat([1, 3, 1, 1]);
    }
    out.contiguous()
}

/// Per-channel mean and std over a uint8 `[N,C,H,W]` tensor, in [0,1] units (chunked, f64 sums).
pub(crate) fn norm_stats(images: &Tensor) -> NormStats {
    let c = images.size()[1];
    let n = images.size()[0];
    let mut sum = Tensor::zeros([c], (Kind::Double, Device::Cpu));
    let mut sq = Tensor::zeros([c], (Kind::Double, Device::Cpu));
    let chunk = 2048;
    let mut start = 0;
    while start < n {
        let len = chunk.min(n - start);
        let x = images.narrow(0, start, len).to_kind(Kind::Double) / 255.0;
        sum += x.sum_dim_intlist([0, 2, 3].as_slice(), false, Kind::Double);
        sq += (&x * &x).sum_dim_intlist([0, 2, 3].as_slice(), false, Kind::Double);
        start += len;
    }
    let count = (n * images.size()[2] * images.size()[3]).max(1) as f64;
    let mean = &sum / count;
    let var = (&sq / count - &mean * &mean).clamp_min(0.0);
    let std = var.sqrt().clamp_min(1e-6);
    NormStats {
        mean: Vec::<f64>::try_from(&mean).unwrap(),
        std: Vec::<f64>::try_from(&std).unwrap(),
    }
}
