//! One image file to `C×H×W` bytes at the configured size and channels — safely:
//! only regular files are opened (and never blocked on), decoders run with pixel
//! and allocation limits, a file that ends early is refused as Pillow refuses it,
//! and a decoder that panics on a malformed file is an error for that file.
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, imageops::FilterType};
use std::io::{Cursor, Read};
use std::path::Path;

/// Pillow's `Image.MAX_IMAGE_PIXELS` (89,478,485) × 2: the size above which Pillow
/// refuses an image as a decompression bomb. convlab skips such images.
pub const DEFAULT_MAX_IMAGE_PIXELS: u64 = 2 * 89_478_485;

/// Bounds every decode runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Width × height above which an image is refused before it is decoded.
    pub max_pixels: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self { max_pixels: DEFAULT_MAX_IMAGE_PIXELS }
    }
}

impl DecodeLimits {
    /// The decoder's own limits: no side over `max_pixels`, and at most 8 bytes
    /// (16-bit RGBA) per allowed pixel allocated.
    fn image_limits(&self) -> Limits {
        let side = u32::try_from(self.max_pixels).unwrap_or(u32::MAX);
        let mut l = Limits::default();
        l.max_image_width = Some(side);
        l.max_image_height = Some(side);
        l.max_alloc = Some(self.max_pixels.saturating_mul(8).max(1 << 20));
        l
    }

    fn check(&self, (h, w): (u32, u32)) -> Result<(), String> {
        let pixels = h as u64 * w as u64;
        if pixels > self.max_pixels {
            return Err(format!(
                "{w}×{h} = {pixels} pixels, over the limit of {} (a decompression bomb, or raise \
                    --max-image-pixels)",
                self.max_pixels
            ));
        }
        if pixels == 0 {
            return Err(format!("{w}×{h}: an image without pixels"));
        }
        Ok(())
    }
}

/// What kind of file system object a path is, for messages ("a FIFO").
pub(crate) fn kind_of(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_dir() {
        "a directory"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// The bytes of a regular file. It is opened without blocking (a FIFO that
/// replaced the file since it was listed cannot hang the load) and checked to be
/// a regular file before anything is read.
pub(crate) fn read_regular(path: &Path) -> Result<Vec<u8>, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot read: {e}"))?;
    let meta = f.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{}, not an image file", kind_of(&meta.file_type())));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    f.read_to_end(&mut bytes).map_err(|e| format!("cannot read: {e}"))?;
    if bytes.is_empty() {
        return Err("empty file (0 bytes)".into());
    }
    Ok(bytes)
}

/// Where a JPEG's structure says the file ended early: an entropy-coded scan
/// that runs into the end of the file (cut mid-scan, or only the end-of-image
/// marker missing) or a marker segment longer than what is left. Pillow refuses
/// both ("image file is truncated"); the decoder alone would fill the missing
/// part and return an image.
fn jpeg_ends_early(b: &[u8]) -> Option<&'static str> {
    if b.len() < 4 || b[0] != 0xFF || b[1] != 0xD8 {
        return None; // not a JPEG's start: the decoder judges
    }
    let mut i = 2;
    let mut scans = 0;
    loop {
        // A marker: 0xFF (any number of fill 0xFF bytes), then its code.
        if i >= b.len() {
            return Some("the file ends before its end-of-image marker");
        }
        if b[i] != 0xFF {
            return None; // garbage where a marker belongs: corrupt, the decoder judges
        }
        while i < b.len() && b[i] == 0xFF {
            i += 1;
        }
        let Some(&code) = b.get(i) else { return Some("the file ends inside a marker") };
        i += 1;
        match code {
            0xD9 => return (scans == 0).then_some("end-of-image marker before any image data"),
            0xD0..=0xD7 | 0x01 => continue, // standalone markers
            _ => {}
        }
        let Some(len) = b.get(i..i + 2).map(|l| u16::from_be_bytes([l[0], l[1]]) as usize) else {
            return Some("the file ends inside a marker segment");
        };
        if len < 2 || i + len > b.len() {
            return Some("the file ends inside a marker segment");
        }
        i += len;
        if code == 0xDA {
            // Entropy-coded data: 0xFF is followed by 0x00 (a stuffed byte), a restart
            // marker, or fill; any other code is the next marker.
            scans += 1;
            loop {
                if i + 1 >= b.len() {
                    return Some(
                        "the file ends inside the image data (cut mid-scan, or its end-of-image \
                            marker is missing)",
                    );
                }
                if b[i] == 0xFF && !matches!(b[i + 1], 0x00 | 0xD0..=0xD7 | 0xFF) {
                    break;
                }
                i += if b[i] == 0xFF && b[i + 1] != 0xFF { 2 } else { 1 };
            }
        }
    }
}

/// A WebP's RIFF header gives the file's length; a shorter file ended early
/// (Pillow refuses it; the decoder may still return an image).
fn webp_ends_early(b: &[u8]) -> Option<&'static str> {
    if b.len() < 12 || &b[0..4] != b"RIFF" || &b[8..12] != b"WEBP" {
        return None;
    }
    let declared = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as u64 + 8;
    (declared > b.len() as u64).then_some("the file is shorter than its RIFF header says")
}

fn format_name(f: ImageFormat) -> String {
    match f {
        ImageFormat::Jpeg => "JPEG".into(),
        ImageFormat::Png => "PNG".into(),
        ImageFormat::WebP => "WebP".into(),
        ImageFormat::Gif => "GIF".into(),
        ImageFormat::Tiff => "TIFF".into(),
        ImageFormat::Bmp => "BMP".into(),
        ImageFormat::Pnm => "PNM".into(),
        other => format!("{other:?}"),
    }
}

/// A decoder's error, said as what it means for the file: most formats report a
/// file that ends early as an I/O end-of-file.
fn decode_error(e: image::ImageError, bytes: &[u8], doing: &str) -> String {
    let text = e.to_string();
    let lower = text.to_lowercase();
    if lower.contains("fill whole buffer")
        || lower.contains("end of file")
        || lower.contains("unexpected eof")
    {
        let format = image::guess_format(bytes).map(format_name).unwrap_or_else(|_| "image".into());
        return format!("truncated {format}: the file ends early ({text})");
    }
    format!("{doing}: {text}")
}

fn reader<'a>(
    bytes: &'a [u8],
    limits: &DecodeLimits,
) -> Result<ImageReader<Cursor<&'a [u8]>>, String> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("cannot read: {e}"))?;
    let Some(format) = reader.format() else { return Err("not a recognised image format".into()) };
    let early = match format {
        ImageFormat::Jpeg => jpeg_ends_early(bytes),
        ImageFormat::WebP => webp_ends_early(bytes),
        _ => None,
    };
    if let Some(why) = early {
        return Err(format!("truncated {}: {why}", format_name(format)));
    }
    reader.limits(limits.image_limits());
    Ok(reader)
}

/// A decoder bug must not take the whole load down: a panic is this file's error.
fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(format!("the image decoder failed on this file ({what})"))
    })
}

/// A decoder of `bytes` with its header read: refused when the file ends early or
/// the image is over the limits.
fn decoder<'a>(bytes: &'a [u8], limits: &DecodeLimits) -> Result<impl ImageDecoder + 'a, String> {
    let decoder = reader(bytes, limits)?
        .into_decoder()
        .map_err(|e| decode_error(e, bytes, "cannot read size"))?;
    let (w, h) = decoder.dimensions();
    limits.check((h, w))?;
    Ok(decoder)
}

/// Height and width from the header, within the limits (no full decode).
pub fn dimensions_of(bytes: &[u8], limits: &DecodeLimits) -> Result<(u32, u32), String> {
    guarded(|| {
        let (w, h) = decoder(bytes, limits)?.dimensions();
        Ok((h, w))
    })
}

/// Decode an image file's bytes within the limits, refusing one that ends early.
/// The header is parsed once: an image over the limits is refused from it, never decoded.
pub fn decode_image(bytes: &[u8], limits: &DecodeLimits) -> Result<DynamicImage, String> {
    guarded(|| {
        let mut decoder = decoder(bytes, limits)?;
        // As `ImageReader::decode`: the output buffer counts against the allocation limit.
        let mut budget = limits.image_limits();
        budget
            .reserve(decoder.total_bytes())
            .and_then(|()| decoder.set_limits(budget))
            .map_err(|e| decode_error(e, bytes, "cannot decode"))?;
        DynamicImage::from_decoder(decoder).map_err(|e| decode_error(e, bytes, "cannot decode"))
    })
}

/// Height, width and colour type of an image file, from its header (no full decode).
pub(crate) fn header(
    path: &Path,
    limits: &DecodeLimits,
) -> Result<((u32, u32), image::ColorType), String> {
    let bytes = read_regular(path)?;
    guarded(|| {
        let d = decoder(&bytes, limits)?;
        let (w, h) = d.dimensions();
        Ok(((h, w), d.color_type()))
    })
}

/// Height and width of an image file from its header.
pub(crate) fn dimensions(path: &Path, limits: &DecodeLimits) -> Result<(u32, u32), String> {
    dimensions_of(&read_regular(path)?, limits)
}

/// Decode `path` into `out` (`channels·h·w` bytes, CHW). Grayscale, palette,
/// 16-bit and alpha images are converted (alpha dropped, as PIL's `convert("RGB")`);
/// other sizes are resized with a bilinear filter. The error says what is wrong.
pub(crate) fn decode_into(
    path: &Path,
    (h, w): (u32, u32),
    channels: u8,
    limits: &DecodeLimits,
    out: &mut [u8],
) -> Result<(), String> {
    let img = decode_image(&read_regular(path)?, limits)?;
    let img = if img.width() != w || img.height() != h {
        img.resize_exact(w, h, FilterType::Triangle)
    } else {
        img
    };
    let hw = h as usize * w as usize;
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
