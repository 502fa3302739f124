//! Batches on the training device: seeded shuffle, augmentation, normalisation.
use super::rng::Rng;
use super::{NormStats, Split};
use crate::device::upload;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// Random augmentation, applied on the device to whole batches, seeded.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Augment {
    /// Probability of flipping an image left–right (the study: 0.05, 0.1).
    pub hflip: f64,
    /// Probability of flipping an image upside down (the study: 0.05, 0.1).
    pub vflip: f64,
    /// Random crop back to the image size after zero-padding this many pixels per side (0 = off).
    pub crop_pad: i64,
}

impl Augment {
    /// Random horizontal and vertical flips, each with probability `p` — the study's augmentation.
    pub fn flips(p: f64) -> Self {
        Self { hflip: p, vflip: p, crop_pad: 0 }
    }
    pub fn is_identity(&self) -> bool {
        self.hflip == 0.0 && self.vflip == 0.0 && self.crop_pad == 0
    }
}

/// One batch: float images `[B,C,H,W]`, normalised, and labels `[B]`, on the device.
#[derive(Debug)]
pub struct Batch {
    pub images: Tensor,
    pub labels: Tensor,
}

/// Iterates a split in batches. Images stay uint8 until they reach the device,
/// where they are augmented, converted to float and normalised. On CUDA the
/// whole split is kept on the GPU when it is at most [`RESIDENT_LIMIT_BYTES`].
/// A split's uint8 images up to this size (8 GiB) are copied to the GPU once and
/// batched there; larger ones are copied batch by batch.
pub const RESIDENT_LIMIT_BYTES: i64 = 8 << 30;

#[derive(Debug)]
pub struct Loader {
    images: Tensor,
    labels: Tensor,
    len: usize,
    batch_size: usize,
    device: Device,
    mean: Tensor,
    std: Tensor,
    shuffle: Option<u64>,
    augment: Augment,
    drop_last: bool,
    channels_last: bool,
}

impl Loader {
    /// In order, no augmentation, the last partial batch kept.
    pub fn new(split: &Split, stats: &NormStats, batch_size: usize, device: Device) -> Self {
        assert!(batch_size > 0, "batch_size must be at least 1");
        let bytes = split.images.numel() as i64;
        let (images, labels) = if device.is_cuda() && bytes <= RESIDENT_LIMIT_BYTES {
            (split.images.to_device(device), split.labels.to_device(device))
        } else {
            (split.images.shallow_clone(), split.labels.shallow_clone())
        };
        let c = stats.mean.len() as i64;
        let stat = |v: &[f64]| {
            Tensor::from_slice(v).to_kind(Kind::Float).view([1, c, 1, 1]).to_device(device)
        };
        Self {
            images,
            labels,
            len: split.len(),
            batch_size,
            device,
            mean: stat(&stats.mean),
            std: stat(&stats.std),
            shuffle: None,
            augment: Augment::default(),
            drop_last: false,
            channels_last: false,
        }
    }

    /// Shuffle every epoch with a permutation drawn from (`seed`, epoch).
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.shuffle = Some(seed);
        self
    }
    /// Augment every batch (seeded by the shuffle seed, epoch and batch).
    pub fn augment(mut self, augment: Augment) -> Self {
        self.augment = augment;
        self
    }
    /// Drop the last batch when it is smaller than `batch_size`.
    pub fn drop_last(mut self, drop: bool) -> Self {
        self.drop_last = drop;
        self
    }
    /// Deliver images in channels-last memory format (faster convolutions on GPUs).
    pub fn channels_last(mut self, on: bool) -> Self {
        self.channels_last = on;
        self
    }

    /// The device batches are delivered on.
    pub fn device(&self) -> Device {
        self.device
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn num_batches(&self) -> usize {
        if self.drop_last { self.len / self.batch_size } else { self.len.div_ceil(self.batch_size) }
    }

    /// The order of one epoch: a seeded permutation, or 0..N.
    pub fn order(&self, epoch: usize) -> Vec<i64> {
        match self.shuffle {
            Some(seed) => Rng::derive(seed, &[epoch as u64]).permutation(self.len),
            None => (0..self.len as i64).collect(),
        }
    }

    /// The batches of one epoch.
    pub fn epoch(&self, epoch: usize) -> impl Iterator<Item = Batch> + '_ {
        // The epoch's order goes where the images are once; each batch is a slice of it.
        let order = upload(&Tensor::from_slice(&self.order(epoch)), self.images.device());
        let seed = self.shuffle.unwrap_or(0);
        (0..self.num_batches()).map(move |b| {
            let start = b * self.batch_size;
            let index = order.narrow(0, start as i64, self.batch_size.min(self.len - start) as i64);
            let mut rng = Rng::derive(seed ^ 0xA5A5, &[epoch as u64, b as u64]);
            self.batch(&index, &mut rng)
        })
    }

    fn batch(&self, index: &Tensor, rng: &mut Rng) -> Batch {
        // Already there when resident; otherwise copied without stalling the host.
        let images = upload(&self.images.index_select(0, index), self.device); // uint8 [B,C,H,W]
        let labels = upload(&self.labels.index_select(0, index), self.device);
        let images = augment(&images, &self.augment, rng);
        let mut images = (images.to_kind(Kind::Float) / 255.0 - &self.mean) / &self.std; // float [B,C,H,W]
        if self.channels_last {
            images = crate::device::to_channels_last(&images);
        }
        Batch { images, labels }
    }
}

/// Apply `a` to a batch `[B,C,H,W]` on its device; draws come from `rng`.
pub fn augment(images: &Tensor, a: &Augment, rng: &mut Rng) -> Tensor {
    let b = images.size()[0] as usize;
    let device = images.device();
    let mut x = images.shallow_clone();
    let mask = |p: f64, rng: &mut Rng| {
        let m: Vec<bool> = (0..b).map(|_| rng.uniform() < p).collect();
        (m.iter().any(|&v| v), upload(&Tensor::from_slice(&m), device).view([-1, 1, 1, 1]))
    };
    if a.hflip > 0.0 {
        let (any, m) = mask(a.hflip, rng);
        if any {
            x = x.flip([3]).where_self(&m, &x);
        }
    }
    if a.vflip > 0.0 {
        let (any, m) = mask(a.vflip, rng);
        if any {
            x = x.flip([2]).where_self(&m, &x);
        }
    }
    if a.crop_pad > 0 {
        x = random_crop(&x, a.crop_pad, rng);
    }
    x
}

/// Zero-pad by `pad` and crop each image back at its own random offset, with two gathers.
fn random_crop(x: &Tensor, pad: i64, rng: &mut Rng) -> Tensor {
    let [b, c, h, w] = x.size()[..] else {
        panic!("random_crop expects [B,C,H,W], got {:?}", x.size())
    };
    let device = x.device();
    let span = 2 * pad as u64 + 1;
    let dy: Vec<i64> = (0..b).map(|_| rng.below(span) as i64).collect();
    let dx: Vec<i64> = (0..b).map(|_| rng.below(span) as i64).collect();
    let padded = x.constant_pad_nd([pad, pad, pad, pad]); // [B,C,H+2p,W+2p]
    let opts = (Kind::Int64, device);
    let rows = (upload(&Tensor::from_slice(&dy), device).view([b, 1, 1, 1])
        + Tensor::arange(h, opts).view([1, 1, h, 1]))
    .expand([b, c, h, w + 2 * pad], false);
    let cols = (upload(&Tensor::from_slice(&dx), device).view([b, 1, 1, 1])
        + Tensor::arange(w, opts).view([1, 1, 1, w]))
    .expand([b, c, h, w], false);
    padded.gather(2, &rows, false).gather(3, &cols, false) // [B,C,H,W]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(n: i64) -> Split {
        let images = Tensor::arange(n * 2 * 4 * 4, (Kind::Int64, Device::Cpu))
            .remainder(251)
            .to_kind(Kind::Uint8)
            .view([n, 2, 4, 4]);
        Split {
            images,
            labels: Tensor::arange(n, (Kind::Int64, Device::Cpu)),
            files: (0..n).map(|i| i.to_string()).collect(),
        }
    }
    fn stats() -> NormStats {
        NormStats { mean: vec![0.5, 0.25], std: vec![0.5, 0.25] }
    }

    #[test]
    fn batches_cover_the_split_once_with_partial_last() {
        let s = split(10);
        let l = Loader::new(&s, &stats(), 4, Device::Cpu).shuffle(3);
        assert_eq!(l.num_batches(), 3);
        let mut seen: Vec<i64> =
            l.epoch(0).flat_map(|b| Vec::<i64>::try_from(&b.labels).unwrap()).collect();
        let sizes: Vec<i64> = l.epoch(0).map(|b| b.images.size()[0]).collect();
        assert_eq!(sizes, [4, 4, 2]);
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        assert_eq!(Loader::new(&s, &stats(), 4, Device::Cpu).drop_last(true).epoch(0).count(), 2);
    }

    #[test]
    fn shuffle_is_seeded_per_epoch() {
        let s = split(50);
        let a = Loader::new(&s, &stats(), 8, Device::Cpu).shuffle(1);
        let b = Loader::new(&s, &stats(), 8, Device::Cpu).shuffle(1);
        assert_eq!(a.order(0), b.order(0));
        assert_ne!(a.order(0), a.order(1));
        assert_ne!(a.order(0), Loader::new(&s, &stats(), 8, Device::Cpu).shuffle(2).order(0));
        assert_eq!(Loader::new(&s, &stats(), 8, Device::Cpu).order(5), (0..50).collect::<Vec<_>>());
        // Labels follow their images.
        for batch in a.epoch(2) {
            let first = batch.labels.int64_value(&[0]);
            let want = (s.images.get(first).to_kind(Kind::Float) / 255.0 - 0.5) / 0.5;
            assert!(batch.images.get(0).get(0).allclose(&want.get(0), 1e-6, 1e-6, false));
        }
    }

    #[test]
    fn normalises_per_channel() {
        let s = split(3);
        let b = Loader::new(&s, &stats(), 3, Device::Cpu).epoch(0).next().unwrap();
        let raw = s.images.to_kind(Kind::Float) / 255.0;
        let want_c1 = (raw.select(1, 1) - 0.25) / 0.25;
        assert!(b.images.select(1, 1).allclose(&want_c1, 1e-5, 1e-5, false));
        assert_eq!(b.images.kind(), Kind::Float);
    }

    #[test]
    fn flips_follow_their_probability_and_seed() {
        let x = Tensor::arange(64 * 16, (Kind::Int64, Device::Cpu))
            .to_kind(Kind::Uint8)
            .view([64, 1, 4, 4]);
        let none = augment(&x, &Augment::default(), &mut Rng::new(0));
        assert!(none.equal(&x));
        let all = augment(&x, &Augment { hflip: 1.0, ..Default::default() }, &mut Rng::new(0));
        assert!(all.equal(&x.flip([3])));
        let all_v = augment(&x, &Augment { vflip: 1.0, ..Default::default() }, &mut Rng::new(0));
        assert!(all_v.equal(&x.flip([2])));
        // p = 0.5: some but not all images flipped, the same ones for the same seed.
        let half =
            |seed| augment(&x, &Augment { hflip: 0.5, ..Default::default() }, &mut Rng::new(seed));
        let flipped: i64 = (0..64).map(|i| i64::from(!half(9).get(i).equal(&x.get(i)))).sum();
        assert!((16..=48).contains(&flipped), "{flipped} of 64 flipped");
        assert!(half(9).equal(&half(9)));
        assert!(!half(9).equal(&half(10)));
    }

    #[test]
    fn random_crop_shifts_within_padding() {
        let x = (Tensor::arange(16, (Kind::Int64, Device::Cpu)) + 1)
            .to_kind(Kind::Uint8)
            .view([1, 1, 4, 4])
            .repeat([32, 3, 1, 1]);
        let y = augment(&x, &Augment { crop_pad: 1, ..Default::default() }, &mut Rng::new(4));
        assert_eq!(y.size(), [32, 3, 4, 4]);
        let mut shifted = 0;
        for i in 0..32 {
            let img = y.get(i);
            // Every output is a shift of the input by at most 1 px, zeros where it left the frame.
            let ok = (-1..=1).any(|dy: i64| {
                (-1..=1).any(|dx: i64| {
                    let want = x.get(i).constant_pad_nd([1, 1, 1, 1]).narrow(1, 1 + dy, 4).narrow(
                        2,
                        1 + dx,
                        4,
                    );
                    img.equal(&want)
                })
            });
            assert!(ok, "image {i} is not a shifted crop");
            shifted += i64::from(!img.equal(&x.get(i)));
        }
        assert!(shifted > 16, "most crops move the image ({shifted}/32)");
    }
}
