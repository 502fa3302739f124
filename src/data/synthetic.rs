//! A seeded generator of small ImageFolder trees of real image files, for tests
//! and smoke runs. Class `k` of `K` is a striped texture at angle πk/K with its
//! own colour; every image has a random phase, angle jitter, brightness and noise,
//! so a small CNN must learn orientation and colour, and cannot memorise pixels.
use super::DataError;
use super::rng::Rng;
use image::{ImageFormat, RgbImage};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SynthConfig {
    /// Number of classes (folders `class00`, `class01`, …).
    pub classes: usize,
    /// Training images per class.
    pub train_per_class: usize,
    /// Validation images per class.
    pub val_per_class: usize,
    /// Unlabelled images in a flat `test/` folder (0 = no test split).
    pub test: usize,
    /// Image side in pixels.
    pub size: u32,
    /// Seed: the same seed writes the same pixels.
    pub seed: u64,
    /// Write every other image as JPEG (quality 90) instead of PNG.
    pub mixed_formats: bool,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self { classes: 4, train_per_class: 32, val_per_class: 8, test: 8, size: 16, seed: 0, mixed_formats: true }
    }
}

/// Pixels of one image of class `class`.
pub fn image(cfg: &SynthConfig, class: usize, rng: &mut Rng) -> RgbImage {
    let k = cfg.classes.max(1) as f64;
    let angle = std::f64::consts::PI * class as f64 / k + 0.08 * rng.normal();
    let (sin, cos) = angle.sin_cos();
    let freq = std::f64::consts::TAU / (3.0 + (class % 3) as f64);
    let phase = rng.uniform() * std::f64::consts::TAU;
    let hue = class as f64 / k;
    let color = [0.5 + 0.5 * (std::f64::consts::TAU * hue).cos(), 0.5 + 0.5 * (std::f64::consts::TAU * (hue + 1.0 / 3.0)).cos(), 0.5 + 0.5 * (std::f64::consts::TAU * (hue + 2.0 / 3.0)).cos()];
    let brightness = 0.8 + 0.4 * rng.uniform();
    RgbImage::from_fn(cfg.size, cfg.size, |x, y| {
        let t = (x as f64 * cos + y as f64 * sin) * freq + phase;
        let v = 0.5 + 0.5 * t.sin();
        let px = |c: usize, rng: &mut Rng| {
            let value = 255.0 * brightness * (0.25 + 0.6 * v * color[c]) + 18.0 * rng.normal();
            value.round().clamp(0.0, 255.0) as u8
        };
        image::Rgb([px(0, rng), px(1, rng), px(2, rng)])
    })
}

/// Write `root/{train,val}/classNN/imgNNNN.{png,jpg}` and `root/test/imgNNNN.*` (flat).
pub fn write_image_folder(root: &Path, cfg: &SynthConfig) -> Result<(), DataError> {
    let mut rng = Rng::new(cfg.seed);
    let mut counter = 0usize;
    let mut write = |dir: &Path, name: &str, class: usize, rng: &mut Rng| -> Result<(), DataError> {
        std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
        let jpeg = cfg.mixed_formats && counter % 2 == 1;
        counter += 1;
        let path = dir.join(format!("{name}.{}", if jpeg { "jpg" } else { "png" }));
        let img = image(cfg, class, rng);
        img.save_with_format(&path, if jpeg { ImageFormat::Jpeg } else { ImageFormat::Png })
            .map_err(|e| DataError::Cache { path: path.clone(), problem: format!("cannot write image: {e}") })
    };
    for (split, n) in [("train", cfg.train_per_class), ("val", cfg.val_per_class)] {
        for class in 0..cfg.classes {
            let dir = root.join(split).join(format!("class{class:02}"));
            for i in 0..n {
                write(&dir, &format!("img{i:04}"), class, &mut rng)?;
            }
        }
    }
    if cfg.test > 0 {
        let dir = root.join("test");
        for i in 0..cfg.test {
            let class = rng.below(cfg.classes as u64) as usize;
            write(&dir, &format!("img{i:04}"), class, &mut rng)?;
        }
    }
    Ok(())
}
