//! Which files make up each split: ImageFolder and Tiny ImageNet layouts.
use super::{DataConfig, DataError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Extensions read as images (torchvision's `IMG_EXTENSIONS`, plus `gif`).
pub(crate) const IMAGE_EXTENSIONS: [&str; 10] = ["jpg", "jpeg", "png", "ppm", "pgm", "bmp", "tif", "tiff", "webp", "gif"];

/// A file left out of the dataset, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// One image: where it is, its name relative to the split, its label (−1: unlabelled).
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub path: PathBuf,
    pub rel: String,
    pub label: i64,
}

#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub classes: Vec<String>,
    pub train: Vec<Item>,
    pub val: Vec<Item>,
    pub test: Option<Vec<Item>>,
    pub skipped: Vec<Skipped>,
}

fn is_hidden(p: &Path) -> bool {
    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'))
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let rd = fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| DataError::io(dir, e))?;
        let p = entry.path();
        if !is_hidden(&p) {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

fn subdirs(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    Ok(read_dir_sorted(dir)?.into_iter().filter(|p| p.is_dir()).collect())
}

fn name_of(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn has_image_extension(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Image files under `dir` (recursively, sorted); other files are skipped with a reason.
fn image_files(dir: &Path, skipped: &mut Vec<Skipped>, strict: bool) -> Result<Vec<PathBuf>, DataError> {
    let mut out = Vec::new();
    for p in read_dir_sorted(dir)? {
        if p.is_dir() {
            out.extend(image_files(&p, skipped, strict)?);
        } else if has_image_extension(&p) {
            out.push(p);
        } else {
            let reason = format!("not an image file (expected one of: {})", IMAGE_EXTENSIONS.join(", "));
            if strict {
                return Err(DataError::BadImage { path: p, problem: reason });
            }
            skipped.push(Skipped { path: p, reason });
        }
    }
    Ok(out)
}

fn rel(path: &Path, base: &Path) -> String {
    path.strip_prefix(base).unwrap_or(path).to_string_lossy().into_owned()
}

/// Items of one class folder, at most `limit`; an empty folder is a warning (or an error when strict).
fn class_items(
    dir: &Path,
    split_dir: &Path,
    label: i64,
    limit: Option<usize>,
    l: &mut Listing,
    strict: bool,
) -> Result<Vec<Item>, DataError> {
    let files = image_files(dir, &mut l.skipped, strict)?;
    if files.is_empty() {
        let reason = "empty class folder: no image files".to_string();
        if strict {
            return Err(DataError::layout(dir, reason));
        }
        l.skipped.push(Skipped { path: dir.to_path_buf(), reason });
    }
    let n = limit.unwrap_or(usize::MAX);
    Ok(files.into_iter().take(n).map(|p| Item { rel: rel(&p, split_dir), path: p, label }).collect())
}

fn require_split(root: &Path, split: &str, hint: &str) -> Result<PathBuf, DataError> {
    let dir = root.join(split);
    if !dir.is_dir() {
        return Err(DataError::layout(&dir, format!("missing split `{split}`: expected {hint}")));
    }
    Ok(dir)
}

fn require_root(root: &Path) -> Result<(), DataError> {
    match fs::metadata(root) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(DataError::layout(root, "not a directory")),
        Err(e) => Err(DataError::io(root, e)),
    }
}

/// `root/train/<class>/*`, `root/val/<class>/*`, `root/test/[<class>/]*`.
pub(crate) fn image_folder(root: &Path, cfg: &DataConfig) -> Result<Listing, DataError> {
    require_root(root)?;
    let train_dir = require_split(root, "train", "train/<class>/<image>")?;
    let all_classes: Vec<String> = subdirs(&train_dir)?.iter().map(|p| name_of(p)).collect();
    if all_classes.is_empty() {
        return Err(DataError::layout(&train_dir, "no class folders (expected train/<class>/<image>)"));
    }
    let classes: Vec<String> = all_classes.iter().take(cfg.classes.unwrap_or(usize::MAX)).cloned().collect();
    let mut l = Listing { classes: classes.clone(), ..Default::default() };

    let val_dir = require_split(root, "val", "val/<class>/<image>, with the class folders of train")?;
    let val_classes: BTreeSet<String> = subdirs(&val_dir)?.iter().map(|p| name_of(p)).collect();
    let known: BTreeSet<&String> = all_classes.iter().collect();
    let unknown: Vec<&String> = val_classes.iter().filter(|c| !known.contains(c)).collect();
    if !unknown.is_empty() {
        let names: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
        return Err(DataError::layout(&val_dir, format!("classes not in train: {}", names.join(", "))));
    }
    if val_classes.is_empty() {
        return Err(DataError::layout(&val_dir, "no class folders (expected val/<class>/<image>)"));
    }
    for (label, class) in classes.iter().enumerate() {
        let items = class_items(&train_dir.join(class), &train_dir, label as i64, cfg.train_per_class, &mut l, cfg.strict)?;
        l.train.extend(items);
        let vdir = val_dir.join(class);
        if vdir.is_dir() {
            let items = class_items(&vdir, &val_dir, label as i64, cfg.val_per_class, &mut l, cfg.strict)?;
            l.val.extend(items);
        }
    }

    let test_dir = root.join("test");
    if test_dir.is_dir() {
        let dirs = subdirs(&test_dir)?;
        let mut test = Vec::new();
        if dirs.is_empty() {
            // Flat: unlabelled images.
            for p in image_files(&test_dir, &mut l.skipped, cfg.strict)? {
                test.push(Item { rel: rel(&p, &test_dir), path: p, label: -1 });
            }
        } else {
            let index: BTreeMap<&String, usize> = all_classes.iter().enumerate().map(|(i, c)| (c, i)).collect();
            for d in dirs {
                let class = name_of(&d);
                let Some(&label) = index.get(&class) else {
                    return Err(DataError::layout(&d, format!("test class `{class}` is not in train")));
                };
                if label < classes.len() {
                    test.extend(class_items(&d, &test_dir, label as i64, None, &mut l, cfg.strict)?);
                }
            }
        }
        test.truncate(cfg.test_limit.unwrap_or(usize::MAX));
        l.test = Some(test);
    }
    Ok(l)
}

fn read_text(path: &Path) -> Result<String, DataError> {
    fs::read_to_string(path).map_err(|e| DataError::io(path, e))
}

/// Tiny ImageNet as published (Stanford CS231n): classes are the sorted WordNet ids of `wnids.txt`.
pub(crate) fn tiny_imagenet(root: &Path, readable_names: bool, cfg: &DataConfig) -> Result<Listing, DataError> {
    require_root(root)?;
    let wnids_path = root.join("wnids.txt");
    let mut wnids: Vec<String> = read_text(&wnids_path)?.lines().map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
    if wnids.is_empty() {
        return Err(DataError::layout(&wnids_path, "no class ids"));
    }
    wnids.sort();
    wnids.truncate(cfg.classes.unwrap_or(usize::MAX));
    let index: BTreeMap<String, usize> = wnids.iter().enumerate().map(|(i, w)| (w.clone(), i)).collect();

    let classes = if readable_names {
        let words_path = root.join("words.txt");
        let words: BTreeMap<String, String> = read_text(&words_path)?
            .lines()
            .filter_map(|line| line.split_once('\t'))
            .map(|(w, names)| (w.trim().to_string(), names.split(',').next().unwrap_or("").trim().to_string()))
            .collect();
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for w in &wnids {
            let Some(name) = words.get(w).filter(|n| !n.is_empty()) else {
                return Err(DataError::layout(&words_path, format!("no name for class `{w}`")));
            };
            // Keep names unique: a repeated name gets its id appended.
            out.push(if seen.insert(name.clone()) { name.clone() } else { format!("{name} ({w})") });
        }
        out
    } else {
        wnids.clone()
    };
    let mut l = Listing { classes, ..Default::default() };

    let train_dir = require_split(root, "train", "train/<wnid>/images/<image>")?;
    for (label, w) in wnids.iter().enumerate() {
        let dir = train_dir.join(w).join("images");
        if !dir.is_dir() {
            return Err(DataError::layout(&dir, format!("missing training images of class `{w}`")));
        }
        let items = class_items(&dir, &train_dir, label as i64, cfg.train_per_class, &mut l, cfg.strict)?;
        l.train.extend(items);
    }

    let val_dir = require_split(root, "val", "val/images/ and val/val_annotations.txt")?;
    let ann_path = val_dir.join("val_annotations.txt");
    let mut per_class = vec![0usize; wnids.len()];
    let mut val = Vec::new();
    for (n, line) in read_text(&ann_path)?.lines().enumerate() {
        let mut fields = line.split('\t');
        let (Some(file), Some(wnid)) = (fields.next(), fields.next()) else {
            if line.trim().is_empty() {
                continue;
            }
            return Err(DataError::layout(&ann_path, format!("line {}: expected `<file>\\t<wnid>\\t…`", n + 1)));
        };
        let Some(&label) = index.get(wnid) else {
            if cfg.classes.is_none() {
                return Err(DataError::layout(&ann_path, format!("line {}: class `{wnid}` is not in wnids.txt", n + 1)));
            }
            continue; // a class left out by `classes`
        };
        if per_class[label] >= cfg.val_per_class.unwrap_or(usize::MAX) {
            continue;
        }
        let path = val_dir.join("images").join(file);
        if !path.is_file() {
            let reason = format!("listed in {} line {} but missing", ann_path.display(), n + 1);
            if cfg.strict {
                return Err(DataError::layout(&path, reason));
            }
            l.skipped.push(Skipped { path, reason });
            continue;
        }
        per_class[label] += 1;
        val.push(Item { rel: rel(&path, &val_dir), path, label: label as i64 });
    }
    val.sort_by(|a, b| a.rel.cmp(&b.rel));
    l.val = val;

    let test_dir = root.join("test").join("images");
    if test_dir.is_dir() {
        let mut test: Vec<Item> = image_files(&test_dir, &mut l.skipped, cfg.strict)?
            .into_iter()
            .map(|p| Item { rel: rel(&p, &root.join("test")), path: p, label: -1 })
            .collect();
        test.truncate(cfg.test_limit.unwrap_or(usize::MAX));
        l.test = Some(test);
    }
    Ok(l)
}
