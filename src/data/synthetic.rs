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
    /// The tree's layout: an ImageFolder tree (`val_per_class = 0`: no `val/`), or Tiny
    /// ImageNet's published one.
    pub layout: SynthLayout,
    /// Test images in class folders (`test/<class>/`, labelled) instead of a flat `test/`.
    pub labelled_test: bool,
    /// Mixed sizes (¾, 1 and 1¼ of `size`) and every third image grayscale: a tree from the wild.
    pub mixed: bool,
}

/// The layout [`write()`] gives a synthetic tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum SynthLayout {
    /// `train/<class>/`, `val/<class>/`, `test/` (flat or with class folders).
    #[default]
    ImageFolder,
    /// Tiny ImageNet as published: `wnids.txt`, `words.txt`, `train/<wnid>/images/` (with
    /// `<wnid>_boxes.txt` beside), `val/images/` + `val/val_annotations.txt`, an unlabelled
    /// `test/images/`; `.JPEG` files.
    TinyImagenet,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            classes: 4,
            train_per_class: 32,
            val_per_class: 8,
            test: 8,
            size: 16,
            seed: 0,
            mixed_formats: true,
            layout: SynthLayout::ImageFolder,
            labelled_test: false,
            mixed: false,
        }
    }
}

/// Write the tree `cfg` describes at `root` (its layout: [`SynthConfig::layout`]).
pub fn write(root: &Path, cfg: &SynthConfig) -> Result<(), DataError> {
    match cfg.layout {
        SynthLayout::ImageFolder => write_image_folder(root, cfg),
        SynthLayout::TinyImagenet => write_tiny_imagenet(root, cfg),
    }
}

/// The side of the `n`-th image: `size`, or under `mixed` ¾, 1 or 1¼ of it in turn.
fn side_of(cfg: &SynthConfig, n: usize) -> u32 {
    if !cfg.mixed {
        return cfg.size;
    }
    match n % 3 {
        0 => cfg.size,
        1 => (cfg.size * 3 / 4).max(1),
        _ => cfg.size * 5 / 4,
    }
}

/// One image of `class`, the `n`-th written: at its side, grayscale every third under `mixed`.
fn image_n(cfg: &SynthConfig, class: usize, n: usize, rng: &mut Rng) -> image::DynamicImage {
    let img = image(&SynthConfig { size: side_of(cfg, n), ..cfg.clone() }, class, rng);
    if cfg.mixed && n % 3 == 2 {
        image::DynamicImage::ImageLuma8(image::DynamicImage::ImageRgb8(img).to_luma8())
    } else {
        image::DynamicImage::ImageRgb8(img)
    }
}

fn save(img: &image::DynamicImage, path: &Path, format: ImageFormat) -> Result<(), DataError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    }
    img.save_with_format(path, format).map_err(|e| DataError::Cache {
        path: path.to_path_buf(),
        problem: format!("cannot write image: {e}"),
    })
}

fn write_text(path: &Path, text: &str) -> Result<(), DataError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    }
    std::fs::write(path, text).map_err(|e| DataError::io(path, e))
}

/// Tiny ImageNet's layout ([`SynthLayout::TinyImagenet`]): class `k` is WordNet id
/// `n9000000k` (sorted as the classes), named `synthetic class k` in `words.txt`.
pub fn write_tiny_imagenet(root: &Path, cfg: &SynthConfig) -> Result<(), DataError> {
    let mut rng = Rng::new(cfg.seed);
    let wnid = |k: usize| format!("n{:08}", 90_000_000 + k);
    let mut n = 0usize;
    // wnids.txt lists the ids unsorted, as the published file does.
    let ids: Vec<String> = (0..cfg.classes).rev().map(wnid).collect();
    write_text(&root.join("wnids.txt"), &(ids.join("\n") + "\n"))?;
    let words: String = (0..cfg.classes)
        .map(|k| format!("{}\tsynthetic class {k}, stripes {k}\n", wnid(k)))
        .collect();
    write_text(&root.join("words.txt"), &words)?;
    for k in 0..cfg.classes {
        let dir = root.join("train").join(wnid(k));
        let mut boxes = String::new();
        for i in 0..cfg.train_per_class {
            let name = format!("{}_{i}.JPEG", wnid(k));
            save(
                &image_n(cfg, k, n, &mut rng),
                &dir.join("images").join(&name),
                ImageFormat::Jpeg,
            )?;
            boxes += &format!("{name}\t0\t0\t{s}\t{s}\n", s = cfg.size - 1);
            n += 1;
        }
        write_text(&dir.join(format!("{}_boxes.txt", wnid(k))), &boxes)?;
    }
    let mut annotations = String::new();
    for i in 0..cfg.val_per_class * cfg.classes {
        let k = i % cfg.classes;
        let name = format!("val_{i}.JPEG");
        save(
            &image_n(cfg, k, n, &mut rng),
            &root.join("val").join("images").join(&name),
            ImageFormat::Jpeg,
        )?;
        annotations += &format!("{name}\t{}\t0\t0\t{s}\t{s}\n", wnid(k), s = cfg.size - 1);
        n += 1;
    }
    write_text(&root.join("val").join("val_annotations.txt"), &annotations)?;
    for i in 0..cfg.test {
        let k = rng.below(cfg.classes.max(1) as u64) as usize;
        save(
            &image_n(cfg, k, n, &mut rng),
            &root.join("test").join("images").join(format!("test_{i}.JPEG")),
            ImageFormat::Jpeg,
        )?;
        n += 1;
    }
    Ok(())
}

/// Pixels of one image of class `class`.
pub fn image(cfg: &SynthConfig, class: usize, rng: &mut Rng) -> RgbImage {
    let k = cfg.classes.max(1) as f64;
    let angle = std::f64::consts::PI * class as f64 / k + 0.08 * rng.normal();
    let (sin, cos) = angle.sin_cos();
    let freq = std::f64::consts::TAU / (3.0 + (class % 3) as f64);
    let phase = rng.uniform() * std::f64::consts::TAU;
    let hue = class as f64 / k;
    let color = [
        0.5 + 0.5 * (std::f64::consts::TAU * hue).cos(),
        0.5 + 0.5 * (std::f64::consts::TAU * (hue + 1.0 / 3.0)).cos(),
        0.5 + 0.5 * (std::f64::consts::TAU * (hue + 2.0 / 3.0)).cos(),
    ];
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

/// Write `root/{train,val}/classNN/imgNNNN.{png,jpg}` (no `val/` when `val_per_class` is 0)
/// and `root/test/imgNNNN.*` (flat), or `root/test/classNN/…` with `labelled_test`.
pub fn write_image_folder(root: &Path, cfg: &SynthConfig) -> Result<(), DataError> {
    let mut rng = Rng::new(cfg.seed);
    let mut counter = 0usize;
    let mut write =
        |dir: &Path, name: &str, class: usize, rng: &mut Rng| -> Result<(), DataError> {
            let jpeg = cfg.mixed_formats && counter % 2 == 1;
            let img = image_n(cfg, class, counter, rng);
            counter += 1;
            let path = dir.join(format!("{name}.{}", if jpeg { "jpg" } else { "png" }));
            save(&img, &path, if jpeg { ImageFormat::Jpeg } else { ImageFormat::Png })
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
            let dir =
                if cfg.labelled_test { dir.join(format!("class{class:02}")) } else { dir.clone() };
            write(&dir, &format!("img{i:04}"), class, &mut rng)?;
        }
    }
    Ok(())
}
