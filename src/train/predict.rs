//! Predictions for a split, and `test.txt`: `<file>\t<class>` per line, sorted by file name.
use super::TrainConfig;
use crate::data::{Loader, NormStats, Split};
use crate::model::ResNet;
use std::path::Path;
use tch::nn::ModuleT;

/// Predicted class index of every image of `split`, in split order.
pub fn predict(
    net: &ResNet,
    split: &Split,
    stats: &NormStats,
    cfg: &TrainConfig,
    device: tch::Device,
) -> Result<Vec<i64>, tch::TchError> {
    let _guard = tch::no_grad_guard();
    let loader = Loader::new(split, stats, cfg.eval_batch_size(), device);
    let mut out = Vec::with_capacity(split.len());
    for batch in loader.epoch(0) {
        let logits = net.forward_t(&batch.images, false);
        out.extend(Vec::<i64>::try_from(logits.argmax(-1, false).to_device(tch::Device::Cpu))?);
    }
    Ok(out)
}

/// The pooled features (the input of `fc`, [`ResNet::forward_features`] in evaluation mode)
/// of every image of `split`, in split order: `[N, C]`, f64, on the CPU.
pub fn pooled_features(
    net: &ResNet,
    split: &Split,
    stats: &NormStats,
    cfg: &TrainConfig,
    device: tch::Device,
) -> Result<tch::Tensor, tch::TchError> {
    let _guard = tch::no_grad_guard();
    let loader = Loader::new(split, stats, cfg.eval_batch_size(), device);
    let parts: Vec<tch::Tensor> = loader
        .epoch(0)
        .map(|b| {
            net.forward_features(&b.images, false)
                .to_kind(tch::Kind::Double)
                .to_device(tch::Device::Cpu)
        })
        .collect();
    tch::Tensor::f_cat(&parts, 0)
}

/// Write `path` (atomically): one line per image, `<relative file>\t<class name>`, sorted by file
/// name.
pub fn write_predictions(
    path: &Path,
    files: &[String],
    predicted: &[i64],
    classes: &[String],
) -> anyhow::Result<()> {
    anyhow::ensure!(
        files.len() == predicted.len(),
        "{} files but {} predictions",
        files.len(),
        predicted.len()
    );
    let mut rows: Vec<(&str, &str)> = Vec::with_capacity(files.len());
    for (f, &p) in files.iter().zip(predicted) {
        let class = classes
            .get(p as usize)
            .ok_or_else(|| anyhow::anyhow!("prediction {p} for {f} is not a class index"))?;
        rows.push((f, class));
    }
    rows.sort();
    let mut text = String::new();
    for (f, c) in rows {
        text.push_str(f);
        text.push('\t');
        text.push_str(c);
        text.push('\n');
    }
    crate::io::write_bytes(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_txt_is_sorted_tab_separated() {
        let dir = tempfile::tempdir().unwrap();
        let p = crate::train::RunDir::new(dir.path()).predictions();
        let files = vec!["b.jpg".to_string(), "a.jpg".into(), "c/d.png".into()];
        let classes = vec!["cat".to_string(), "dog".into()];
        write_predictions(&p, &files, &[1, 0, 1], &classes).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "a.jpg\tcat\nb.jpg\tdog\nc/d.png\tdog\n");
        let err = write_predictions(&p, &files, &[1, 0, 7], &classes).unwrap_err().to_string();
        assert!(err.contains("prediction 7 for c/d.png"), "{err}");
    }
}
