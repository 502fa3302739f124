//! One image file to `C×H×W` bytes at the configured size and channels.
use image::{DynamicImage, ImageReader, imageops::FilterType};
use std::io::Cursor;
use std::path::Path;

/// Decode `path` into `out` (`channels·h·w` bytes, CHW). Grayscale, palette,
/// 16-bit and alpha images are converted (alpha dropped, as PIL's `convert("RGB")`);
/// other sizes are resized with a bilinear filter. The error says what is wrong.
pub(crate) fn decode_into(path: &Path, (h, w): (u32, u32), channels: u8, out: &mut [u8]) -> Result<(), String> {
    let img = open(path)?;
    let img = if img.width() != w || img.height() != h { img.resize_exact(w, h, FilterType::Triangle) } else { img };
    let hw = (h * w) as usize;
    debug_assert_eq!(out.len(), channels as usize * hw);
    match channels {
        1 => out.copy_from_slice(img.to_luma8().as_raw()),
        _ => {
            let rgb = img.to_rgb8();
            for (i, px) in rgb.as_raw().chunks_exact(3).enumerate() {
                out[i] = px[0];
                out[hw + i] = px[1];
                out[2 * hw + i] = px[2];
            }
        }
    }
    Ok(())
}

/// Read and decode, with the reason when it cannot be.
pub(crate) fn open(path: &Path) -> Result<DynamicImage, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    if bytes.is_empty() {
        return Err("empty file (0 bytes)".into());
    }
    let reader = ImageReader::new(Cursor::new(&bytes)).with_guessed_format().map_err(|e| format!("cannot read: {e}"))?;
    if reader.format().is_none() {
        return Err("not a recognised image format".into());
    }
    reader.decode().map_err(|e| format!("cannot decode: {e}"))
}

/// Height and width of an image from its header (no full decode).
pub(crate) fn dimensions(path: &Path) -> Result<(u32, u32), String> {
    image::image_dimensions(path).map(|(w, h)| (h, w)).map_err(|e| format!("cannot read size: {e}"))
}
