//! Data end to end: real files written by the tests, decoded, cached, invalidated, batched.
mod common;
use convlab::data::{
    DataConfig, DataError, Dataset, Holdout, Source, SynthConfig, TestSplit, ValSource, synthetic,
};
use std::fs;
use std::path::{Path, PathBuf};
use tch::Kind;

use common::{image_folder as cfg, write_idx};

fn synth(root: &Path, classes: usize) -> SynthConfig {
    let s = SynthConfig {
        classes,
        train_per_class: 6,
        val_per_class: 3,
        test: 5,
        size: 12,
        seed: 1,
        mixed_formats: true,
        ..Default::default()
    };
    synthetic::write_image_folder(root, &s).unwrap();
    s
}

#[test]
fn image_folder_decodes_caches_and_invalidates() {
    let tmp = tempfile::tempdir().unwrap();
    let (root, cache) = (tmp.path().join("tree"), tmp.path().join("cache"));
    synth(&root, 3);
    let c = cfg(&root, &cache);
    let a = Dataset::load(&c).unwrap();
    assert!(!a.from_cache);
    assert_eq!(a.classes, ["class00", "class01", "class02"]);
    assert_eq!(a.train.images.size(), [18, 3, 12, 12]);
    assert_eq!(a.train.images.kind(), Kind::Uint8);
    assert_eq!(a.val.len(), 9);
    assert_eq!(a.train.class_counts(3), [6, 6, 6]);
    let test = a.test.as_ref().unwrap();
    assert_eq!(test.len(), 5);
    assert!(!test.is_labelled());
    assert!(test.files[0].starts_with("img0000."), "{:?}", test.files);
    assert_eq!(a.train.files[1], "class00/img0001.jpg");
    assert!(a.skipped.is_empty());

    // Second load: from the cache, identical.
    let b = Dataset::load(&c).unwrap();
    assert!(b.from_cache);
    assert!(b.train.images.equal(&a.train.images) && b.val.labels.equal(&a.val.labels));
    assert_eq!(b.train.files, a.train.files);
    assert_eq!(b.stats, a.stats);

    // A changed file invalidates it.
    let victim = root.join("train/class01/img0000.png");
    let other = root.join("train/class02/img0000.png");
    fs::copy(&other, &victim).unwrap();
    let d = Dataset::load(&c).unwrap();
    assert!(!d.from_cache, "a changed source must be decoded again");
    assert!(!d.train.images.equal(&a.train.images));
    // A new class folder too (and the listing shows it).
    fs::create_dir_all(root.join("train/class03")).unwrap();
    fs::copy(&other, root.join("train/class03/x.png")).unwrap();
    let e = Dataset::load(&c).unwrap();
    assert!(!e.from_cache);
    assert_eq!(e.num_classes(), 4);
    // Another setting, another cache entry; the first is still valid.
    let small = Dataset::load(&DataConfig { image_size: 8, ..c.clone() }).unwrap();
    assert_eq!(small.shape(), [3, 8, 8]);
    assert!(Dataset::load(&c).unwrap().from_cache);
}

#[test]
fn subsets_classes_and_images_per_class_and_grayscale() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    synth(&root, 4);
    let c = DataConfig {
        classes: Some(2),
        train_per_class: Some(4),
        val_per_class: Some(1),
        test_limit: Some(2),
        channels: Some(1),
        image_size: 20,
        ..cfg(&root, &tmp.path().join("cache"))
    };
    let ds = Dataset::load(&c).unwrap();
    assert_eq!(ds.classes, ["class00", "class01"]);
    assert_eq!(ds.train.images.size(), [8, 1, 20, 20]);
    assert_eq!(ds.train.class_counts(2), [4, 4]);
    assert_eq!(ds.val.len(), 2);
    assert_eq!(ds.test.unwrap().len(), 2);
    assert_eq!(ds.stats.mean.len(), 1);
}

#[test]
fn normalisation_stats_match_the_train_split() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    synth(&root, 2);
    let ds = Dataset::load(&cfg(&root, &tmp.path().join("cache"))).unwrap();
    let x = ds.train.images.to_kind(Kind::Double) / 255.0;
    for c in 0..3 {
        let ch = x.select(1, c);
        let mean = ch.mean(Kind::Double).double_value(&[]);
        let std = ch.std(false).double_value(&[]);
        assert!((ds.stats.mean[c as usize] - mean).abs() < 1e-9);
        assert!((ds.stats.std[c as usize] - std).abs() < 1e-6);
    }
}

#[test]
fn converts_modes_and_resizes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    let (tr, va) = (root.join("train/a"), root.join("val/a"));
    fs::create_dir_all(&tr).unwrap();
    fs::create_dir_all(&va).unwrap();
    let gray = image::GrayImage::from_pixel(10, 10, image::Luma([200]));
    gray.save(tr.join("gray.png")).unwrap();
    let rgba = image::RgbaImage::from_pixel(10, 10, image::Rgba([10, 20, 30, 0]));
    rgba.save(tr.join("rgba.png")).unwrap();
    let deep: image::ImageBuffer<image::Rgb<u16>, Vec<u16>> =
        image::ImageBuffer::from_pixel(10, 10, image::Rgb([65535, 0, 32896]));
    deep.save(tr.join("deep16.png")).unwrap();
    let big = image::RgbImage::from_pixel(37, 23, image::Rgb([1, 2, 3]));
    big.save(tr.join("big.bmp")).unwrap();
    // A palette PNG, written by hand-built bytes through the png encoder.
    let pal = tr.join("palette.png");
    {
        let w = std::io::BufWriter::new(fs::File::create(&pal).unwrap());
        let mut enc = png::Encoder::new(w, 10, 10);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_palette(vec![0u8, 0, 0, 9, 99, 199]);
        let mut writer = enc.write_header().unwrap();
        writer.write_image_data(&[1u8; 100]).unwrap();
    }
    gray.save(va.join("v.png")).unwrap();
    let ds = Dataset::load(&DataConfig { image_size: 10, ..cfg(&root, &tmp.path().join("cache")) })
        .unwrap();
    assert!(ds.skipped.is_empty(), "{:?}", ds.skipped);
    let px = |name: &str| {
        let i = ds.train.files.iter().position(|f| f.ends_with(name)).unwrap() as i64;
        let v: Vec<i64> =
            Vec::try_from(ds.train.images.get(i).select(1, 5).select(1, 5).to_kind(Kind::Int64))
                .unwrap();
        v
    };
    assert_eq!(px("gray.png"), [200, 200, 200]);
    assert_eq!(px("rgba.png"), [10, 20, 30]);
    assert_eq!(px("deep16.png"), [255, 0, 128]);
    assert_eq!(px("big.bmp"), [1, 2, 3]);
    assert_eq!(px("palette.png"), [9, 99, 199]);
    assert_eq!(ds.shape(), [3, 10, 10]);
}

/// A tree with one of each kind of bad file.
fn bad_tree(root: &Path) -> Vec<PathBuf> {
    synth(root, 3);
    let d = root.join("train/class00");
    let png = fs::read(d.join("img0000.png")).unwrap();
    let bad = vec![
        d.join("corrupt.png"),
        d.join("truncated.png"),
        d.join("empty.jpg"),
        d.join("notes.txt"),
        d.join("text-named.jpg"),
        root.join("train/class02"),
    ];
    fs::write(&bad[0], [0x89, b'P', b'N', b'G', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).unwrap();
    fs::write(&bad[1], &png[..png.len() / 2]).unwrap();
    fs::write(&bad[2], b"").unwrap();
    fs::write(&bad[3], b"a note").unwrap();
    fs::write(&bad[4], b"this is text, not a JPEG").unwrap();
    // An empty class folder.
    fs::remove_dir_all(&bad[5]).unwrap();
    fs::create_dir_all(&bad[5]).unwrap();
    bad
}

#[test]
fn bad_files_are_skipped_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    let bad = bad_tree(&root);
    let ds = Dataset::load(&cfg(&root, &tmp.path().join("cache"))).unwrap();
    let skipped: Vec<&PathBuf> = ds.skipped.iter().map(|s| &s.path).collect();
    for b in &bad {
        assert!(skipped.contains(&b), "{} not reported; skipped: {skipped:?}", b.display());
    }
    let reason =
        |name: &str| ds.skipped.iter().find(|s| s.path.ends_with(name)).unwrap().reason.clone();
    assert!(reason("empty.jpg").contains("empty file"));
    assert!(reason("notes.txt").contains("not an image file"));
    assert!(reason("class02").contains("empty class folder"));
    assert!(
        reason("truncated.png").starts_with("truncated PNG: the file ends early"),
        "{}",
        reason("truncated.png")
    );
    assert_eq!(ds.train.class_counts(3), [6, 6, 0]);
    assert_eq!(ds.classes.len(), 3, "the empty class keeps its label");
    // The skip list survives a reload from the cache.
    let again = Dataset::load(&cfg(&root, &tmp.path().join("cache"))).unwrap();
    assert!(again.from_cache);
    assert_eq!(again.skipped, ds.skipped);
}

#[test]
fn strict_mode_names_the_first_bad_file() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    let bad = bad_tree(&root);
    let c = DataConfig { strict: true, ..cfg(&root, &tmp.path().join("cache")) };
    let err = Dataset::load(&c).unwrap_err().to_string();
    assert!(bad.iter().any(|b| err.contains(&b.display().to_string())), "{err}");
    // Each kind alone, strictly.
    for (i, b) in bad.iter().enumerate() {
        let tmp2 = tempfile::tempdir().unwrap();
        let root2 = tmp2.path().join("tree");
        synth(&root2, 3);
        let target = root2.join(b.strip_prefix(&root).unwrap());
        if b.is_dir() {
            fs::remove_dir_all(&target).unwrap();
            fs::create_dir_all(&target).unwrap();
        } else {
            fs::copy(b, &target).unwrap();
        }
        let err =
            Dataset::load(&DataConfig { strict: true, ..cfg(&root2, &tmp2.path().join("c")) })
                .unwrap_err();
        assert!(err.to_string().contains(&target.display().to_string()), "case {i}: {err}");
    }
}

#[test]
fn layout_errors_are_clear() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    synth(&root, 2);
    let cache = tmp.path().join("cache");
    let msg = |r: &Path| Dataset::load(&cfg(r, &cache)).unwrap_err().to_string();

    let missing = tmp.path().join("nope");
    assert!(msg(&missing).contains("nope"));

    // val with a class train does not have.
    fs::create_dir_all(root.join("val/zebra")).unwrap();
    let m = msg(&root);
    assert!(m.contains("val") && m.contains("classes not in train: zebra"), "{m}");
    fs::remove_dir_all(root.join("val/zebra")).unwrap();

    // Missing train split; a missing val split is a hold-out (below), not an error.
    fs::rename(root.join("train"), root.join("training")).unwrap();
    let m = msg(&root);
    assert!(
        m.contains("missing split `train`")
            && m.contains(&root.join("train").display().to_string()),
        "{m}"
    );
    fs::rename(root.join("training"), root.join("train")).unwrap();

    // An unreadable directory (a symlink loop: unreadable even for root).
    let looped = tmp.path().join("loop");
    std::os::unix::fs::symlink(&looped, &looped).unwrap();
    let m = msg(&looped);
    assert!(m.contains("loop") && m.to_lowercase().contains("symbolic links"), "{m}");

    // Not a directory at all.
    let file = tmp.path().join("file");
    fs::write(&file, "x").unwrap();
    assert!(msg(&file).contains("not a directory"));

    // Bad config values.
    let e = Dataset::load(&DataConfig { channels: Some(2), ..cfg(&root, &cache) }).unwrap_err();
    assert!(matches!(e, DataError::Config(_)) && e.to_string().contains("channels = 2"));
}

#[test]
fn tiny_imagenet_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tiny");
    let wnids = ["n02", "n01", "n03"];
    fs::create_dir_all(root.join("val/images")).unwrap();
    fs::create_dir_all(root.join("test/images")).unwrap();
    fs::write(root.join("wnids.txt"), wnids.join("\n")).unwrap();
    fs::write(
        root.join("words.txt"),
        "n01\tgoldfish, Carassius auratus\nn02\tgoose\nn03\tgoldfish, again\nn99\tother\n",
    )
    .unwrap();
    let mut rng = convlab::data::Rng::new(0);
    let sc = SynthConfig { classes: 3, size: 8, ..Default::default() };
    let mut ann = String::new();
    for (k, w) in ["n01", "n02", "n03"].iter().enumerate() {
        let d = root.join("train").join(w).join("images");
        fs::create_dir_all(&d).unwrap();
        for i in 0..3 {
            synthetic::image(&sc, k, &mut rng).save(d.join(format!("{w}_{i}.JPEG"))).unwrap();
        }
        for i in 0..2 {
            let f = format!("val_{k}{i}.JPEG");
            synthetic::image(&sc, k, &mut rng).save(root.join("val/images").join(&f)).unwrap();
            ann.push_str(&format!("{f}\t{w}\t0\t0\t8\t8\n"));
        }
    }
    fs::write(root.join("val/val_annotations.txt"), ann).unwrap();
    synthetic::image(&sc, 0, &mut rng).save(root.join("test/images/test_0.JPEG")).unwrap();

    let c = DataConfig {
        cache_dir: Some(tmp.path().join("cache")),
        classes: Some(2),
        ..DataConfig::new(Source::TinyImageNet { root: root.clone(), readable_names: false })
    };
    let ds = Dataset::load(&c).unwrap();
    assert_eq!(ds.classes, ["n01", "n02"]);
    assert_eq!(ds.train.len(), 6);
    assert_eq!(ds.val.len(), 4);
    assert_eq!(ds.val.class_counts(2), [2, 2]);
    assert_eq!(ds.train.files[0], "n01/images/n01_0.JPEG");
    assert_eq!(ds.test.as_ref().unwrap().files, ["images/test_0.JPEG"]);

    let named = Dataset::load(&DataConfig {
        classes: None,
        source: Source::TinyImageNet { root: root.clone(), readable_names: true },
        ..c.clone()
    })
    .unwrap();
    assert_eq!(named.classes, ["goldfish", "goose", "goldfish (n03)"]);

    // An annotation naming an unknown class is an error that names the line.
    fs::write(root.join("val/val_annotations.txt"), "val_00.JPEG\tn77\t0\t0\t8\t8\n").unwrap();
    let err = Dataset::load(&DataConfig { classes: None, ..c }).unwrap_err().to_string();
    assert!(
        err.contains("val_annotations.txt") && err.contains("line 1") && err.contains("n77"),
        "{err}"
    );
}

/// Fashion-MNIST's four IDX files in `dir`, small: 60 training images (50 train + 10 val), 20
/// test; label i % 10, every pixel label·20. The training labels.
fn small_fashion_mnist(dir: &Path) -> Vec<u8> {
    let labels: Vec<u8> = (0..60).map(|i| (i % 10) as u8).collect();
    let images: Vec<u8> = labels.iter().flat_map(|&l| vec![l * 20; 28 * 28]).collect();
    write_idx(&dir.join("train-images-idx3-ubyte"), &[60, 28, 28], &images);
    write_idx(&dir.join("train-labels-idx1-ubyte"), &[60], &labels);
    write_idx(&dir.join("t10k-images-idx3-ubyte"), &[20, 28, 28], &images[..20 * 784]);
    write_idx(&dir.join("t10k-labels-idx1-ubyte"), &[20], &labels[..20]);
    labels
}

#[test]
fn fashion_mnist_idx_split_subset_resize() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fm");
    fs::create_dir_all(&dir).unwrap();
    let labels = small_fashion_mnist(&dir);
    let c = DataConfig {
        cache_dir: Some(tmp.path().join("cache")),
        train_per_class: Some(2),
        image_size: 32,
        channels: Some(3),
        ..DataConfig::new(Source::FashionMnist { dir: dir.clone() })
    };
    let ds = Dataset::load(&c).unwrap();
    assert_eq!(ds.classes.len(), 10);
    assert_eq!(ds.classes[9], "Ankle boot");
    assert_eq!(ds.train.images.size(), [20, 3, 32, 32]);
    assert_eq!(ds.val.len(), 10);
    assert_eq!(ds.test.as_ref().unwrap().len(), 20);
    // Labels still match pixels after selection and resizing.
    for i in 0..20 {
        let l = ds.train.labels.int64_value(&[i]);
        assert_eq!(ds.train.images.int64_value(&[i, 2, 16, 16]), l * 20);
    }
    assert!(Dataset::load(&c).unwrap().from_cache);
    // A truncated label file is named.
    write_idx(&dir.join("train-labels-idx1-ubyte"), &[59], &labels[..59]);
    let err = Dataset::load(&c).unwrap_err().to_string();
    assert!(err.contains("train-labels-idx1-ubyte") && err.contains("59"), "{err}");
}

/// The embedded real dataset (Debian's dataset-fashion-mnist, installed by make setup).
#[test]
fn real_fashion_mnist() {
    let src = Source::fashion_mnist();
    let Source::FashionMnist { dir } = &src else { unreachable!() };
    if !dir.join("train-images-idx3-ubyte.gz").exists() {
        panic!("{} missing: run `make setup`", dir.display());
    }
    let tmp = tempfile::tempdir().unwrap();
    let c = DataConfig {
        cache_dir: Some(tmp.path().to_path_buf()),
        train_per_class: Some(100),
        ..DataConfig::new(src)
    };
    let ds = Dataset::load(&c).unwrap();
    assert_eq!(ds.train.images.size(), [1000, 1, 28, 28]);
    assert_eq!(ds.train.class_counts(10), [100; 10]);
    assert_eq!(ds.val.len(), 10_000);
    assert_eq!(ds.test.as_ref().unwrap().len(), 10_000);
    // Fashion-MNIST's published training mean/std are ≈ 0.286 / 0.353.
    assert!((ds.stats.mean[0] - 0.286).abs() < 0.03, "{:?}", ds.stats);
    assert!((ds.stats.std[0] - 0.353).abs() < 0.03, "{:?}", ds.stats);
}

#[test]
fn export_writes_a_tree_that_loads_back_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    synth(&root, 3);
    let a = Dataset::load(&cfg(&root, &tmp.path().join("cache"))).unwrap();
    let out = tmp.path().join("exported");
    let n = convlab::data::export_image_folder(&a, &out).unwrap();
    assert_eq!(n, a.train.len() + a.val.len());
    let b = Dataset::load(&cfg(&out, &tmp.path().join("cache"))).unwrap();
    assert_eq!(b.classes, a.classes);
    assert_eq!(b.train.class_counts(3), a.train.class_counts(3));
    // PNG is lossless: the same pixels per class (file order may differ within a class).
    let sum =
        |s: &convlab::data::Split| s.images.to_kind(Kind::Int64).sum(Kind::Int64).int64_value(&[]);
    assert_eq!(sum(&b.train), sum(&a.train));
    assert_eq!(sum(&b.val), sum(&a.val));
}

/// A tree without `val/` validates on a share of each class held out of `train/`: stratified,
/// the same files every time, none of them trained on, recorded in the dataset's config.
#[test]
fn a_tree_without_val_holds_out_a_stratified_seeded_share() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    let s = SynthConfig {
        classes: 3,
        train_per_class: 20,
        val_per_class: 0,
        test: 0,
        size: 8,
        seed: 4,
        mixed_formats: false,
        ..Default::default()
    };
    synthetic::write_image_folder(&root, &s).unwrap();
    assert!(!root.join("val").exists());
    let load = |c: DataConfig| Dataset::load(&c).unwrap();
    let ds = load(cfg(&root, &tmp.path().join("c1")));
    assert_eq!(
        ds.config.holdout,
        Some(Holdout { fraction: 0.1, seed: 0 }),
        "the hold-out is recorded"
    );
    assert_eq!(ds.layout.val, ValSource::HeldOut { fraction: 0.1, seed: 0 });
    assert_eq!(ds.val.class_counts(3), [2, 2, 2], "round(20 × 0.1) per class");
    assert_eq!(ds.train.class_counts(3), [18, 18, 18]);
    for f in &ds.val.files {
        assert!(root.join("train").join(f).is_file(), "{f} is a training file");
        assert!(!ds.train.files.contains(f), "{f} is both trained on and validated on");
    }
    // The same tree, fraction and seed: the same files, in another cache too.
    assert_eq!(load(cfg(&root, &tmp.path().join("c2"))).val.files, ds.val.files);
    // Not the first files by name: a seeded permutation picks them.
    let firsts: Vec<String> =
        (0..3).flat_map(|c| (0..2).map(move |i| format!("class{c:02}/img{i:04}.png"))).collect();
    assert_ne!(ds.val.files, firsts);
    // Another share; and a tree with val/ replaces it only when asked.
    let quarter =
        load(DataConfig { holdout: Some(Holdout::of(0.25)), ..cfg(&root, &tmp.path().join("c1")) });
    assert_eq!(quarter.val.class_counts(3), [5, 5, 5]);
    let with_val = tmp.path().join("with-val");
    synthetic::write_image_folder(&with_val, &SynthConfig { val_per_class: 3, ..s.clone() })
        .unwrap();
    let own = load(cfg(&with_val, &tmp.path().join("c1")));
    assert_eq!((own.config.holdout, own.val.len(), own.layout.val), (None, 9, ValSource::Folders));
    let asked = load(DataConfig {
        holdout: Some(Holdout::of(0.1)),
        ..cfg(&with_val, &tmp.path().join("c1"))
    });
    assert!(
        asked.val.files.iter().all(|f| with_val.join("train").join(f).is_file()),
        "asked for: val/ is not used"
    );
    // Caps apply after the hold-out: the held-out files are the same with fewer training images
    // kept.
    let capped =
        load(DataConfig { train_per_class: Some(5), ..cfg(&root, &tmp.path().join("c1")) });
    assert_eq!((capped.train.len(), capped.val.files.clone()), (15, ds.val.files.clone()));
    // How many a class gives: never all of it, none of a class of one.
    let h = Holdout::of(0.1);
    assert_eq!([1, 2, 3, 10, 14, 15, 500].map(|n| h.count(n)), [0, 1, 1, 1, 1, 2, 50]);
    assert_eq!(Holdout::of(0.9).count(3), 2);
    assert!(
        Dataset::load(&DataConfig {
            holdout: Some(Holdout::of(1.0)),
            ..cfg(&root, &tmp.path().join("c1"))
        })
        .unwrap_err()
        .to_string()
        .contains("between 0 and 1")
    );
}

/// A class list keeps the classes it names, in the tree's order, labelled as in the whole tree's
/// order.
#[test]
fn class_lists_choose_classes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    synth(&root, 4);
    let c = DataConfig {
        class_list: Some(vec!["class03".into(), "class01".into()]),
        ..cfg(&root, &tmp.path().join("cache"))
    };
    let ds = Dataset::load(&c).unwrap();
    assert_eq!(ds.classes, ["class01", "class03"]);
    assert_eq!(ds.train.class_counts(2), [6, 6]);
    assert!(
        ds.train.files.iter().take(6).all(|f| f.starts_with("class01/"))
            && ds.train.files[6].starts_with("class03/")
    );
    assert_eq!(ds.layout.source_classes, 4);
    // Then the first N of them.
    let first = Dataset::load(&DataConfig { classes: Some(1), ..c.clone() }).unwrap();
    assert_eq!(first.classes, ["class01"]);
    // A class the tree does not have is named.
    let err = Dataset::load(&DataConfig {
        class_list: Some(vec!["class01".into(), "zebra".into()]),
        ..c.clone()
    })
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("zebra") && err.contains("does not have") && err.contains("train"),
        "{err}"
    );
    let err = Dataset::load(&DataConfig {
        class_list: Some(vec!["class01".into(), "class01".into()]),
        ..c
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("twice"), "{err}");
}

/// Fashion-MNIST's classes by name: labels renumbered in class order, pixels still theirs.
#[test]
fn fashion_mnist_class_lists_renumber_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fm");
    fs::create_dir_all(&dir).unwrap();
    small_fashion_mnist(&dir);
    let c = DataConfig {
        cache_dir: Some(tmp.path().join("cache")),
        class_list: Some(vec!["Bag".into(), "Trouser".into()]),
        ..DataConfig::new(Source::FashionMnist { dir: dir.clone() })
    };
    let ds = Dataset::load(&c).unwrap();
    assert_eq!(ds.classes, ["Trouser", "Bag"]);
    for split in [&ds.train, &ds.val, ds.test.as_ref().unwrap()] {
        for i in 0..split.len() as i64 {
            let (l, px) = (split.labels.int64_value(&[i]), split.images.int64_value(&[i, 0, 0, 0]));
            assert_eq!(px, [20, 160][l as usize], "Trouser (1) is 0, Bag (8) is 1");
        }
    }
    assert_eq!(ds.train.len(), 10);
    assert_eq!(ds.layout.test, TestSplit::Labelled);
    let err = Dataset::load(&DataConfig { holdout: Some(Holdout::of(0.1)), ..c })
        .unwrap_err()
        .to_string();
    assert!(err.contains("holdout") && err.contains("Fashion-MNIST"), "{err}");
}

/// A tree from the wild described without decoding: sizes and colours as a histogram, the
/// test split's kind, skipped files and why; nothing stops at mixed sizes.
#[test]
fn inspect_describes_mixed_trees_without_decoding() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("mixed");
    let s = SynthConfig {
        classes: 3,
        train_per_class: 6,
        val_per_class: 0,
        test: 4,
        size: 16,
        seed: 2,
        mixed_formats: true,
        mixed: true,
        ..Default::default()
    };
    synthetic::write(&root, &s).unwrap();
    fs::write(root.join("train/class01/broken.png"), b"not a png at all").unwrap();
    let i = convlab::data::inspect(&cfg(&root, &tmp.path().join("cache"))).unwrap();
    assert_eq!(i.layout.test, TestSplit::Unlabelled);
    assert_eq!(i.test, Some(4));
    assert_eq!(i.holdout, Some(Holdout::default()), "no val/: a hold-out");
    let sizes: Vec<(u32, u32)> = i.sizes.keys().copied().collect();
    assert_eq!(sizes, [(12, 12), (16, 16), (20, 20)]);
    assert_eq!(i.sizes.values().sum::<usize>(), 18 + 4);
    assert_eq!(i.colours.keys().collect::<Vec<_>>(), ["RGB", "gray"]);
    assert_eq!(i.colours["gray"], 22 / 3, "every third image is gray");
    assert_eq!(i.skipped.len(), 1);
    assert!(i.skipped[0].path.ends_with("broken.png") && !i.skipped[0].reason.is_empty());
    assert_eq!(i.train() + i.val(), 18);
    assert!(!tmp.path().join("cache").exists(), "nothing decoded, nothing cached");
    // Decoding the same tree needs a size; its error says how to give one.
    let err = Dataset::load(&cfg(&root, &tmp.path().join("cache"))).unwrap_err().to_string();
    assert!(err.contains("3 different sizes") && err.contains("--size N"), "{err}");
}

/// Tiny ImageNet's published layout as `synthetic::write` gives it loads as Tiny ImageNet:
/// sorted WordNet ids, validation from the annotations, an unlabelled test split; the record
/// names the class list by CRC-32 (zlib's, pinned below).
#[test]
fn a_synthetic_tiny_imagenet_loads_and_is_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tiny");
    let s = SynthConfig {
        classes: 6,
        train_per_class: 4,
        val_per_class: 2,
        test: 3,
        size: 16,
        layout: synthetic::SynthLayout::TinyImagenet,
        ..Default::default()
    };
    synthetic::write(&root, &s).unwrap();
    for f in [
        "wnids.txt",
        "words.txt",
        "train/n90000000/images/n90000000_0.JPEG",
        "train/n90000000/n90000000_boxes.txt",
        "val/val_annotations.txt",
        "test/images/test_0.JPEG",
    ] {
        assert!(root.join(f).is_file(), "{f}");
    }
    let ds = Dataset::load(&DataConfig {
        cache_dir: Some(tmp.path().join("cache")),
        ..DataConfig::new(Source::TinyImageNet { root: root.clone(), readable_names: false })
    })
    .unwrap();
    let r = ds.record();
    assert_eq!(r.classes[0], "n90000000");
    assert_eq!((r.train, r.val, r.test, r.test_labelled), (24, 12, Some(3), false));
    assert_eq!(ds.val.class_counts(6), [2; 6]);
    // python3 -c "import zlib; print('%08x' % zlib.crc32('\n'.join('n%08d' % (90000000 + k) for k
    // in range(6)).encode()))"
    assert_eq!(r.classes_crc32, "288d41f9");
    assert!(
        r.layout.starts_with("Tiny ImageNet") && r.layout.contains("test/images/ (unlabelled)"),
        "{}",
        r.layout
    );
    // Another subset is told apart by its record.
    let five =
        Dataset::load(&DataConfig { classes: Some(5), ..ds.config.clone() }).unwrap().record();
    assert!(
        five.differs_from(&r).unwrap().contains("classes 6 (288d41f9) → 5"),
        "{:?}",
        five.differs_from(&r)
    );
    assert_eq!(r.differs_from(&r), None);
}
