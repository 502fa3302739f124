//! A loaded dataset back to an ImageFolder tree of PNG files.
use super::{Dataset, Split};
use std::path::Path;

fn safe(name: &str) -> String {
    name.chars().map(|c| if c == '/' || c == '\\' || c == '\0' { '-' } else { c }).collect()
}

fn write_split(split: &Split, classes: &[String], dir: &Path) -> anyhow::Result<usize> {
    let n = split.len();
    let [_, c, h, w] = split.images.size()[..] else { anyhow::bail!("images are not [N,C,H,W]") };
    let labels: Vec<i64> = Vec::try_from(&split.labels)?;
    for (i, &label) in labels.iter().enumerate().take(n) {
        anyhow::ensure!(label >= 0, "unlabelled images cannot go into class folders");
        let class_dir = dir.join(safe(&classes[label as usize]));
        std::fs::create_dir_all(&class_dir)?;
        let img = split.images.get(i as i64).permute([1, 2, 0]).contiguous(); // [H,W,C]
        let bytes: Vec<u8> = Vec::try_from(img.flatten(0, -1))?;
        let file = class_dir.join(format!("{}.png", safe(&split.files[i]).replace(['.'], "_")));
        match c {
            1 => image::GrayImage::from_raw(w as u32, h as u32, bytes).map(|im| im.save(&file)),
            _ => image::RgbImage::from_raw(w as u32, h as u32, bytes).map(|im| im.save(&file)),
        }
        .ok_or_else(|| anyhow::anyhow!("image {i} has the wrong size"))??;
    }
    Ok(n)
}

/// Write `out/train/<class>/*.png` and `out/val/<class>/*.png`; returns the number of images.
pub fn export_image_folder(ds: &Dataset, out: &Path) -> anyhow::Result<usize> {
    Ok(write_split(&ds.train, &ds.classes, &out.join("train"))?
        + write_split(&ds.val, &ds.classes, &out.join("val"))?)
}
