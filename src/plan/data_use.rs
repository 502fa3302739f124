//! What a study takes from its data and how it scores it — said before anything trains
//! (the start of every study, `convlab study --list`, a notebook's set-up cell), checked
//! before anything trains ([`check_scorable`]), and named in the write-up.
use super::profile::{Profile, Score};
use crate::data::{DataConfig, DataRecord, Dataset, Inspection, Split, TestSplit};
use crate::device::MemoryFormat;
use crate::paths::PathStyle;

/// The data of a study as it will be used: the record of what loaded, the caps the profile
/// and the settings put on it, the score, and which variants train NCHW.
#[derive(Debug, Clone, PartialEq)]
pub struct DataUse {
    pub profile: String,
    pub record: DataRecord,
    /// The data config it loaded with (caps, size, hold-out).
    pub config: DataConfig,
    /// Images of the smallest and largest class, per split (train, val).
    pub per_class: [(i64, i64); 2],
    pub score: Score,
    pub memory_format: MemoryFormat,
    /// Variants that train NCHW under `auto`, with the convolution channels-last would crash on.
    pub nchw: Vec<(String, String)>,
}

fn range_of(split: &Split, classes: usize) -> (i64, i64) {
    let counts = split.class_counts(classes);
    (counts.iter().copied().min().unwrap_or(0), counts.iter().copied().max().unwrap_or(0))
}

impl DataUse {
    /// `data` under `profile`; `nchw` as [`super::Setup::nchw_variants`] gives it.
    pub fn of(profile: &Profile, data: &Dataset, nchw: Vec<(String, String)>) -> DataUse {
        let k = data.num_classes();
        DataUse {
            profile: profile.name.as_str().to_string(),
            record: data.record(),
            config: data.config.clone(),
            per_class: [range_of(&data.train, k), range_of(&data.val, k)],
            score: profile.score,
            memory_format: profile.memory_format,
            nchw,
        }
    }

    /// How the classes were chosen: `every class`, `the first 100 in sorted order`, `those of a
    /// class list (100 names), then the first 50`.
    pub fn selection(&self) -> String {
        let first = |n: usize| {
            if n < self.record.source_classes {
                Some(format!("the first {n} in sorted order"))
            } else {
                None
            }
        };
        match (&self.config.class_list, self.config.classes) {
            (None, None) => "every class".into(),
            (None, Some(n)) => first(n).unwrap_or_else(|| "every class".into()),
            (Some(l), None) => format!("those of a class list ({} names)", l.len()),
            (Some(l), Some(n)) => {
                format!("those of a class list ({} names), then the first {n}", l.len())
            }
        }
    }

    /// `T-shirt/top, Trouser, …` — every class up to 12, else the first and last five.
    pub fn classes_shown(&self) -> String {
        let c = &self.record.classes;
        if c.len() <= 12 {
            c.join(", ")
        } else {
            format!(
                "{} … {} ({} more)",
                c[..5].join(", "),
                c[c.len() - 5..].join(", "),
                c.len() - 10
            )
        }
    }

    fn count(n: usize, per_class: (i64, i64), cap: Option<usize>) -> String {
        let spread = if per_class.0 == per_class.1 {
            format!("{} per class", per_class.0)
        } else {
            format!("{}–{} per class", per_class.0, per_class.1)
        };
        let cap = cap.map_or(String::new(), |c| format!(", at most {c} per class"));
        format!("{n} ({spread}{cap})")
    }

    /// The test split in words: `5000, labelled (the first 5000)`, `10000, unlabelled`, `none`.
    fn test(&self) -> String {
        match self.record.test {
            None => "none".into(),
            Some(n) => {
                let kind = if self.record.test_labelled { "labelled" } else { "unlabelled" };
                let cap =
                    self.config.test_limit.map_or(String::new(), |c| format!(", at most {c}"));
                format!("{n}, {kind}{cap}")
            }
        }
    }

    /// The images' size in words: `3×64×64 (as stored)`, `3×64×64 (every image resized to 64×64)`.
    fn images(&self) -> String {
        let [c, h, w] = self.record.shape;
        let how = if self.config.image_size == 0 {
            "as stored".to_string()
        } else {
            format!("every image brought to {h}×{w}, resized where it differs")
        };
        let colour = if c == 1 { "grayscale" } else { "RGB" };
        format!("{c}×{h}×{w}, {colour} ({how})")
    }

    /// The memory format in words: `auto: channels-last, NCHW for xknet18-half (…)`.
    fn layout(&self) -> String {
        match (self.memory_format, self.nchw.is_empty()) {
            (MemoryFormat::Auto, true) => "auto: channels-last for every variant".into(),
            (MemoryFormat::Auto, false) => {
                let names: Vec<&str> = self.nchw.iter().map(|(v, _)| v.as_str()).collect();
                format!(
                    "auto: channels-last, NCHW for {} (channels-last on the CPU would crash \
                        libtorch here: {})",
                    names.join(", "),
                    self.nchw[0].1
                )
            }
            (f, _) => format!("{} for every variant", f.as_str()),
        }
    }

    /// What the start of a study prints, one line each (paths in `paths`' style).
    pub fn lines(&self, paths: &PathStyle) -> Vec<String> {
        let r = &self.record;
        let val = match r.holdout {
            Some(h) => format!(
                "{}, held out of train/ ({} of each class, seed {})",
                Self::count(r.val, self.per_class[1], self.config.val_per_class),
                h.fraction,
                h.seed
            ),
            None => Self::count(r.val, self.per_class[1], self.config.val_per_class),
        };
        vec![
            format!(
                "data ({} profile): {} at {} — {}",
                self.profile,
                r.source,
                paths.show(&r.path),
                r.layout
            ),
            format!(
                "  classes: {} of {}, {} (CRC-32 {}): {}",
                r.classes.len(),
                r.source_classes,
                self.selection(),
                r.classes_crc32,
                self.classes_shown()
            ),
            format!(
                "  train {}; val {}; test {}",
                Self::count(r.train, self.per_class[0], self.config.train_per_class),
                val,
                self.test()
            ),
            format!("  images: {}; {} skipped", self.images(), r.skipped),
            format!("  score: {}; memory format {}", self.score.sentence(), self.layout()),
        ]
    }

    /// The write-up's data paragraph (Markdown).
    pub fn paragraph(&self, paths: &PathStyle) -> String {
        let r = &self.record;
        let held = r.holdout.map_or(String::new(), |h| {
            format!(
                " Validation is held out of `train/`: {} of each class's images, chosen by a \
                permutation seeded with {} (the same files every time).",
                h.fraction, h.seed
            )
        });
        format!(
            "**Data.** {} at `{}` ({}). {} of its {} classes, {} (CRC-32 of the class list `{}`; \
                every class in `tables/classes.csv`): {}. Train {}; validation {}; test {}. \
                Images {}; {} files skipped.{held} Memory format {}. The statistics compare the \
                {}.",
            r.source,
            paths.show(&r.path),
            r.layout,
            r.classes.len(),
            r.source_classes,
            self.selection(),
            r.classes_crc32,
            self.classes_shown(),
            Self::count(r.train, self.per_class[0], self.config.train_per_class),
            Self::count(r.val, self.per_class[1], self.config.val_per_class),
            self.test(),
            self.images(),
            r.skipped,
            self.layout(),
            self.score.sentence(),
        )
    }
}

/// The settings that change the score, as one line says how to set it.
fn score_fix() -> &'static str {
    "score on validation with --score best-val (CONVLAB_SCORE=best-val, or score = \"best-val\" \
        in convlab.toml)"
}

/// What decides whether a study can score its data: the test split, and each class's
/// training and validation images.
struct Scorable<'a> {
    /// `tiny-imagenet at /data/tiny`.
    source: String,
    test: TestSplit,
    test_images: usize,
    classes: &'a [String],
    train: Vec<usize>,
    val: Vec<usize>,
    held_out: bool,
}

impl Scorable<'_> {
    /// Why `profile` could not score this data, with the fix, in one line; `None` when it can.
    fn refusal(&self, profile: &Profile) -> Option<String> {
        let source = &self.source;
        let name = profile.name.as_str();
        if profile.score == Score::TestAtBest {
            match (self.test, self.test_images) {
                (TestSplit::Absent, _) | (_, 0) => {
                    return Some(format!(
                        "the {name} profile scores the test accuracy of the best epoch, but \
                            {source} has no test split: {}",
                        score_fix()
                    ));
                }
                (TestSplit::Unlabelled, n) => {
                    return Some(format!(
                        "the {name} profile scores the test accuracy of the best epoch, but the \
                            test split of {source} is unlabelled ({n} images without classes): {}",
                        score_fix()
                    ));
                }
                (TestSplit::Labelled, _) => {}
            }
        }
        if let Some(i) = (0..self.classes.len()).find(|&i| self.train[i] == 0) {
            return Some(format!(
                "class `{}` of {source} has no training images: remove it from the tree, or leave \
                    it out with a class list (--class-list FILE)",
                self.classes[i]
            ));
        }
        if let Some(i) = (0..self.classes.len()).find(|&i| self.val[i] == 0) {
            let fix = if self.held_out {
                "it has too few training images to hold one out; add images, or leave it out with \
                    --class-list FILE"
            } else {
                "validate on a share of train/ instead with --holdout 0.1 (CONVLAB_HOLDOUT, \
                    holdout = 0.1 in convlab.toml), or add its val/ folder"
            };
            return Some(format!(
                "class `{}` of {source} has no validation images: {fix}",
                self.classes[i]
            ));
        }
        None
    }
}

/// Refuse, before anything trains, a study that could not score what it trains: a
/// test-based score without a labelled test split, a class without training or validation
/// images. The error is one line with the fix.
pub fn check_scorable(profile: &Profile, data: &Dataset) -> anyhow::Result<()> {
    let k = data.num_classes();
    let counts = |s: &Split| s.class_counts(k).into_iter().map(|n| n as usize).collect::<Vec<_>>();
    let s = Scorable {
        source: format!("{} at {}", data.config.source.kind(), data.config.source.path().display()),
        test: data.layout.test,
        test_images: data.test.as_ref().map_or(0, Split::len),
        classes: &data.classes,
        train: counts(&data.train),
        val: counts(&data.val),
        held_out: data.config.holdout.is_some(),
    };
    match s.refusal(profile) {
        Some(why) => anyhow::bail!(why),
        None => Ok(()),
    }
}

/// How a profile would size the images it takes.
#[derive(Debug, Clone, PartialEq)]
pub enum Sizing {
    /// Every image already has this (width, height): kept.
    Kept(u32, u32),
    /// Every image resized to N×N.
    Resized(u32),
    /// The images have several sizes and the profile keeps the source's: refused until a size is
    /// given.
    Refused(usize),
}

/// How colour is converted to `channels` (1 or 3) for images of `colours` (a histogram by
/// colour type), when it is: `grayscale images repeated into 3 channels; alpha dropped`.
fn conversion(channels: u8, colours: &std::collections::BTreeMap<String, usize>) -> Option<String> {
    let mut notes = Vec::new();
    match channels {
        1 if colours.keys().any(|c| !c.starts_with("gray")) => {
            notes.push("colour images converted to grayscale (luma)")
        }
        3 if colours.keys().any(|c| c.starts_with("gray")) => {
            notes.push("grayscale images repeated into 3 channels")
        }
        _ => {}
    }
    if colours.keys().any(|c| c.contains("alpha") || c.starts_with("RGBA")) {
        notes.push("alpha dropped");
    }
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// The paper's variants and probes that `profile` trains NCHW at `side`×`side` (memory
/// format `auto`), with the convolution channels-last would crash on.
fn paper_nchw(profile: &Profile, side: i64) -> anyhow::Result<Vec<(String, String)>> {
    let plan = super::paper_plan();
    let mut out = Vec::new();
    for v in plan.variants().into_iter().chain(plan.probes()) {
        let r = profile.mapped(&plan.resolve(&v.key)?, side)?;
        if let (false, Some(conv)) = profile.channels_last_for(&r.model, side) {
            out.push((v.key.clone(), conv));
        }
    }
    Ok(out)
}

/// What a profile would take from an inspected source ([`Inspection`]) and how it would score
/// it — `convlab data inspect --profile`.
#[derive(Debug, Clone, PartialEq)]
pub struct Intake {
    pub profile: String,
    /// Images taken of each split (train, val, test), after the profile's caps.
    pub taken: [usize; 3],
    /// The caps (train and val per class, test in all).
    pub caps: [Option<usize>; 3],
    pub sizing: Sizing,
    /// The channels the images become (1 or 3), and how colour is converted when it is.
    pub channels: u8,
    pub conversion: Option<String>,
    pub score: Score,
    /// The paper's variants that would train NCHW under `auto`, with the convolution.
    pub nchw: Vec<(String, String)>,
    /// Why a study on this profile would be refused before training (one line with the fix).
    pub refusal: Option<String>,
}

impl Intake {
    /// `profile`'s take of `inspection` (the paper's plan for the memory formats).
    pub fn of(profile: &Profile, inspection: &Inspection) -> anyhow::Result<Intake> {
        let d = &profile.data;
        let caps = [d.train_per_class, d.val_per_class, d.test_limit];
        let take = |n: usize, cap: Option<usize>| n.min(cap.unwrap_or(usize::MAX));
        let taken = [
            inspection.counts.iter().map(|c| take(c.train, caps[0])).sum(),
            inspection.counts.iter().map(|c| take(c.val, caps[1])).sum(),
            inspection.test.map_or(0, |n| take(n, caps[2])),
        ];
        let sizing = match (d.image_size, inspection.sizes.len()) {
            (0, 1) => {
                let (w, h) = *inspection.sizes.keys().next().expect("one size");
                Sizing::Kept(w, h)
            }
            (0, n) => Sizing::Refused(n),
            (s, _) => Sizing::Resized(s),
        };
        let channels = d.channels.unwrap_or_else(|| d.source.default_channels());
        let conversion = conversion(channels, &inspection.colours);
        let side = match sizing {
            Sizing::Kept(_, h) => Some(h as i64),
            Sizing::Resized(s) => Some(s as i64),
            Sizing::Refused(_) => None,
        };
        let nchw = side.map(|side| paper_nchw(profile, side)).transpose()?.unwrap_or_default();
        let scorable = Scorable {
            source: format!(
                "{} at {}",
                inspection.source.kind(),
                inspection.source.path().display()
            ),
            test: inspection.layout.test,
            test_images: inspection.test.unwrap_or(0),
            classes: &inspection.classes,
            train: inspection.counts.iter().map(|c| take(c.train, caps[0])).collect(),
            val: inspection.counts.iter().map(|c| take(c.val, caps[1])).collect(),
            held_out: inspection.holdout.is_some(),
        };
        let refusal = match sizing {
            Sizing::Refused(n) => Some(format!(
                "the images have {n} different sizes and the {} profile keeps the source's size: \
                    resize them with --size N (CONVLAB_SIZE=N, or size = N in convlab.toml), e.g. \
                    --size 64",
                profile.name.as_str()
            )),
            _ => scorable.refusal(profile),
        };
        Ok(Intake {
            profile: profile.name.as_str().into(),
            taken,
            caps,
            sizing,
            channels,
            conversion,
            score: profile.score,
            nchw,
            refusal,
        })
    }

    /// The lines `convlab data inspect --profile` prints.
    pub fn lines(&self) -> Vec<String> {
        let cap = |c: Option<usize>, what: &str| {
            c.map_or("all".to_string(), |n| format!("at most {n} {what}"))
        };
        let size = match self.sizing {
            Sizing::Kept(w, h) => format!("{w}×{h}, as stored"),
            Sizing::Resized(s) => format!("every image resized to {s}×{s}"),
            Sizing::Refused(n) => format!("refused: {n} sizes and no --size"),
        };
        let colour = if self.channels == 1 { "grayscale" } else { "RGB" };
        let mut out = vec![
            format!("the {} profile would take:", self.profile),
            format!(
                "  train {} ({}), val {} ({}), test {} ({})",
                self.taken[0],
                cap(self.caps[0], "per class"),
                self.taken[1],
                cap(self.caps[1], "per class"),
                self.taken[2],
                cap(self.caps[2], "images")
            ),
            format!(
                "  images: {size}, {colour}{}",
                self.conversion.as_ref().map_or(String::new(), |c| format!(" ({c})"))
            ),
            format!("  score: {}", self.score.sentence()),
        ];
        if !self.nchw.is_empty() {
            let names: Vec<&str> = self.nchw.iter().map(|(v, _)| v.as_str()).collect();
            out.push(format!(
                "  memory format auto: NCHW for {} on the CPU ({}), channels-last for the rest",
                names.join(", "),
                self.nchw[0].1
            ));
        }
        out.push(match &self.refusal {
            Some(why) => format!("  a study would be refused before training: {why}"),
            None => "  a study can train and score it".to_string(),
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scorable<'a>(
        classes: &'a [String],
        test: TestSplit,
        test_images: usize,
        train: Vec<usize>,
        val: Vec<usize>,
    ) -> Scorable<'a> {
        Scorable {
            source: "imagefolder at /t".into(),
            test,
            test_images,
            classes,
            train,
            val,
            held_out: false,
        }
    }

    #[test]
    fn a_study_that_could_not_score_its_data_is_refused_in_one_line_with_the_fix() {
        let classes = vec!["cat".to_string(), "dog".to_string()];
        let quick = Profile::quick();
        let best_val = Profile { score: Score::BestVal, ..Profile::quick() };
        let ok = scorable(&classes, TestSplit::Labelled, 10, vec![5, 5], vec![2, 2]);
        assert_eq!(ok.refusal(&quick), None);
        let unlabelled = scorable(&classes, TestSplit::Unlabelled, 10, vec![5, 5], vec![2, 2]);
        let why = unlabelled.refusal(&quick).unwrap();
        assert!(
            why.contains("test split of imagefolder at /t is unlabelled (10 images")
                && why.contains("--score best-val")
                && !why.contains('\n'),
            "{why}"
        );
        assert_eq!(unlabelled.refusal(&best_val), None, "best-val needs no test labels");
        let none = scorable(&classes, TestSplit::Absent, 0, vec![5, 5], vec![2, 2])
            .refusal(&quick)
            .unwrap();
        assert!(none.contains("has no test split") && none.contains("--score best-val"), "{none}");
        let no_val = scorable(&classes, TestSplit::Labelled, 10, vec![5, 5], vec![2, 0])
            .refusal(&quick)
            .unwrap();
        assert!(no_val.contains("class `dog`") && no_val.contains("--holdout 0.1"), "{no_val}");
        let held = Scorable {
            held_out: true,
            ..scorable(&classes, TestSplit::Labelled, 10, vec![5, 1], vec![1, 0])
        }
        .refusal(&best_val)
        .unwrap();
        assert!(held.contains("too few training images to hold one out"), "{held}");
        let no_train = scorable(&classes, TestSplit::Labelled, 10, vec![0, 5], vec![2, 2])
            .refusal(&best_val)
            .unwrap();
        assert!(
            no_train.contains("class `cat`") && no_train.contains("no training images"),
            "{no_train}"
        );
    }

    fn data_use(source_classes: usize, kept: usize, config: DataConfig) -> DataUse {
        let classes: Vec<String> = (0..kept).map(|k| format!("n{k:08}")).collect();
        let record = DataRecord {
            source: "tiny-imagenet".into(),
            path: "/data/tiny".into(),
            layout: "Tiny ImageNet: …".into(),
            source_classes,
            classes_crc32: crate::data::classes_crc32(&classes),
            classes,
            train: 500 * kept,
            val: 50 * kept,
            test: Some(10_000),
            test_labelled: false,
            shape: [3, 64, 64],
            holdout: None,
            skipped: 0,
        };
        DataUse {
            profile: "full".into(),
            record,
            config,
            per_class: [(500, 500), (50, 50)],
            score: Score::BestVal,
            memory_format: MemoryFormat::Auto,
            nchw: vec![],
        }
    }

    #[test]
    fn the_write_up_names_how_the_classes_were_chosen() {
        let src =
            crate::data::Source::TinyImageNet { root: "/data/tiny".into(), readable_names: false };
        let first = data_use(
            200,
            100,
            DataConfig { classes: Some(100), image_size: 64, ..DataConfig::new(src.clone()) },
        );
        assert_eq!(first.selection(), "the first 100 in sorted order");
        assert_eq!(
            first.classes_shown(),
            "n00000000, n00000001, n00000002, n00000003, n00000004 … n00000095, n00000096, \
                n00000097, n00000098, n00000099 (90 more)"
        );
        let p = first.paragraph(&PathStyle::new(None, None));
        assert!(
            p.starts_with(
                "**Data.** tiny-imagenet at `/data/tiny` (Tiny ImageNet: …). 100 of \
            its 200 classes, the first 100 in sorted order (CRC-32 of the class list `"
            ),
            "{p}"
        );
        assert!(
            p.contains(
                "Train 50000 (500 per class); validation 5000 (50 per class); test \
            10000, unlabelled."
            ),
            "{p}"
        );
        assert!(
            p.contains(
                "Images 3×64×64, RGB (every image brought to 64×64, resized where it differs)"
            ),
            "{p}"
        );
        assert_eq!(data_use(200, 200, DataConfig::new(src.clone())).selection(), "every class");
        let listed = data_use(
            200,
            3,
            DataConfig {
                class_list: Some(vec!["a".into(), "b".into(), "c".into()]),
                ..DataConfig::new(src)
            },
        );
        assert_eq!(listed.selection(), "those of a class list (3 names)");
    }
}
