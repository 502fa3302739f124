//! What a source holds, without decoding it: the layout recognised, classes and images per
//! split and class (the test split included), the sizes and colour types found (a
//! histogram, never an error), whether the test split is labelled, and the files a load
//! would skip. Every file's header is read (in parallel), no pixel is decoded: seconds on a
//! 100,000-image tree.
use super::layout::{Layout, TestSplit};
use super::listing::{self, Item, Skipped};
use super::{DataConfig, DataError, Dataset, Source, decode};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::time::Instant;

/// Images of one class in each split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClassCounts {
    pub train: usize,
    pub val: usize,
    /// Labelled test images (0 when the test split is unlabelled or absent).
    pub test: usize,
}

/// What a source holds ([`inspect`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    pub source: Source,
    pub layout: Layout,
    /// The classes kept (every class unless `classes` or `class_list` chose some), in label order.
    pub classes: Vec<String>,
    /// Images per class, by label, in every split; no per-split cap applied.
    pub counts: Vec<ClassCounts>,
    /// Images in the test split (labelled or not); `None`: there is none.
    pub test: Option<usize>,
    /// Images by (width, height), over every split.
    pub sizes: BTreeMap<(u32, u32), usize>,
    /// Images by colour type (`RGB`, `gray`, `RGBA`, `gray+alpha`, `RGB 16-bit`, …).
    pub colours: BTreeMap<String, usize>,
    /// Files a load would leave out, and why (what a header shows; a full decode may find more).
    pub skipped: Vec<Skipped>,
    /// The hold-out validation came from, when it came from `train/`.
    pub holdout: Option<super::Holdout>,
    pub seconds: f64,
}

impl Inspection {
    /// Training images over every class.
    pub fn train(&self) -> usize {
        self.counts.iter().map(|c| c.train).sum()
    }

    /// Validation images over every class.
    pub fn val(&self) -> usize {
        self.counts.iter().map(|c| c.val).sum()
    }

    /// Whether every test image has a class.
    pub fn test_labelled(&self) -> bool {
        self.layout.test == TestSplit::Labelled
    }
}

/// A colour type as a person names it.
fn colour_name(c: image::ColorType) -> String {
    use image::ColorType::*;
    match c {
        L8 => "gray".into(),
        La8 => "gray+alpha".into(),
        Rgb8 => "RGB".into(),
        Rgba8 => "RGBA".into(),
        L16 => "gray 16-bit".into(),
        La16 => "gray+alpha 16-bit".into(),
        Rgb16 => "RGB 16-bit".into(),
        Rgba16 => "RGBA 16-bit".into(),
        Rgb32F => "RGB float".into(),
        Rgba32F => "RGBA float".into(),
        other => format!("{other:?}"),
    }
}

/// `cfg`'s source described ([`Inspection`]); per-split caps are not applied, so it says what
/// there is; the class choice and a hold-out are (they decide the classes and what validation is).
pub fn inspect(cfg: &DataConfig) -> Result<Inspection, DataError> {
    let start = Instant::now();
    let cfg = DataConfig {
        train_per_class: None,
        val_per_class: None,
        test_limit: None,
        strict: false,
        ..cfg.resolved()
    };
    cfg.validate()?;
    let mut out = match &cfg.source {
        Source::FashionMnist { .. } => fashion_mnist(&cfg)?,
        Source::ImageFolder { root } => of_listing(&cfg, listing::image_folder(root, &cfg)?),
        Source::TinyImageNet { root, readable_names } => {
            of_listing(&cfg, listing::tiny_imagenet(root, *readable_names, &cfg)?)
        }
    };
    out.seconds = start.elapsed().as_secs_f64();
    Ok(out)
}

fn of_listing(cfg: &DataConfig, mut l: listing::Listing) -> Inspection {
    let limits = cfg.limits();
    let k = l.classes.len();
    let mut counts = vec![ClassCounts::default(); k];
    let mut sizes = BTreeMap::new();
    let mut colours = BTreeMap::new();
    let mut skipped = std::mem::take(&mut l.skipped);
    let has_test = l.test.is_some();
    let mut test_read = 0;
    let none = Vec::new();
    let splits: [(&str, &Vec<Item>); 3] =
        [("train", &l.train), ("val", &l.val), ("test", l.test.as_ref().unwrap_or(&none))];
    for (name, items) in splits {
        let headers: Vec<_> = items.par_iter().map(|i| decode::header(&i.path, &limits)).collect();
        for (item, h) in items.iter().zip(headers) {
            match h {
                Ok(((hh, ww), colour)) => {
                    *sizes.entry((ww, hh)).or_insert(0) += 1;
                    *colours.entry(colour_name(colour)).or_insert(0) += 1;
                    if name == "test" {
                        test_read += 1;
                    }
                    if item.label >= 0 && (item.label as usize) < k {
                        let c = &mut counts[item.label as usize];
                        match name {
                            "train" => c.train += 1,
                            "val" => c.val += 1,
                            _ => c.test += 1,
                        }
                    }
                }
                Err(reason) => skipped.push(Skipped { path: item.path.clone(), reason }),
            }
        }
    }
    let test = has_test.then_some(test_read);
    Inspection {
        source: cfg.source.clone(),
        layout: l.layout,
        classes: l.classes,
        counts,
        test,
        sizes,
        colours,
        skipped,
        holdout: cfg.holdout,
        seconds: 0.0,
    }
}

/// Fashion-MNIST's IDX files, read whole (70,000 small images: well under a second).
fn fashion_mnist(cfg: &DataConfig) -> Result<Inspection, DataError> {
    let ds = Dataset::load(cfg)?;
    let k = ds.num_classes();
    let (train, val) = (ds.train.class_counts(k), ds.val.class_counts(k));
    let test = ds.test.as_ref().map(|t| t.class_counts(k)).unwrap_or_else(|| vec![0; k]);
    let counts = (0..k)
        .map(|i| ClassCounts {
            train: train[i] as usize,
            val: val[i] as usize,
            test: test[i] as usize,
        })
        .collect();
    let n = ds.train.len() + ds.val.len() + ds.test.as_ref().map_or(0, |t| t.len());
    let [_, h, w] = ds.shape();
    Ok(Inspection {
        source: cfg.source.clone(),
        layout: ds.layout.clone(),
        classes: ds.classes.clone(),
        counts,
        test: ds.test.as_ref().map(|t| t.len()),
        sizes: BTreeMap::from([((w as u32, h as u32), n)]),
        colours: BTreeMap::from([("gray".to_string(), n)]),
        skipped: vec![],
        holdout: None,
        seconds: 0.0,
    })
}
