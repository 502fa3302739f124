//! Paths as a user reads them in log lines and notebook outputs: inside the
//! project relative to its root (`runs/quick`), under the home directory as
//! `~/…`, anything else as it is (`/usr/share/datasets/fashion-mnist`).
//! Committed notebook outputs then carry no machine's absolute paths. The
//! home directory comes from the settings (`Settings::path_style`).
use std::path::{Path, PathBuf};

/// How to show paths; the default shows them as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PathStyle {
    /// Paths under this directory are shown relative to it.
    pub base: Option<PathBuf>,
    /// Paths under this directory (not under `base`) are shown as `~/…`.
    pub home: Option<PathBuf>,
}

impl PathStyle {
    pub fn new(base: Option<PathBuf>, home: Option<PathBuf>) -> Self {
        Self { base, home }
    }

    pub fn show(&self, path: &Path) -> String {
        if let Some(rest) = self.base.as_deref().and_then(|b| path.strip_prefix(b).ok()) {
            return if rest.as_os_str().is_empty() {
                ".".into()
            } else {
                rest.display().to_string()
            };
        }
        if let Some(rest) = self
            .home
            .as_deref()
            .filter(|h| h.has_root() && h.parent().is_some())
            .and_then(|h| path.strip_prefix(h).ok())
        {
            return if rest.as_os_str().is_empty() {
                "~".into()
            } else {
                format!("~/{}", rest.display())
            };
        }
        path.display().to_string()
    }
}

/// `to` relative to the directory `from` (both absolute), with `/` separators.
pub fn relative(from: &Path, to: &Path) -> String {
    let (f, t): (Vec<_>, Vec<_>) = (from.components().collect(), to.components().collect());
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".into(); f.len() - common];
    parts.extend(t[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    if parts.is_empty() { ".".into() } else { parts.join("/") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_relative_to_a_directory() {
        assert_eq!(
            relative(Path::new("/a/figures/quick"), Path::new("/a/figures/quick/x.png")),
            "x.png"
        );
        assert_eq!(
            relative(Path::new("/a/out"), Path::new("/a/figures/quick/x.png")),
            "../figures/quick/x.png"
        );
        assert_eq!(relative(Path::new("/a/notebooks/wd"), Path::new("/a")), "../..");
        assert_eq!(relative(Path::new("/a"), Path::new("/a")), ".");
    }

    #[test]
    fn project_then_home_then_as_is() {
        let style = PathStyle::new(Some("/home/ada/convlab".into()), Some("/home/ada".into()));
        assert_eq!(style.show(Path::new("/home/ada/convlab/runs/quick")), "runs/quick");
        assert_eq!(style.show(Path::new("/home/ada/convlab")), ".");
        assert_eq!(
            style.show(Path::new("/home/ada/.cache/convlab/smoke-tree")),
            "~/.cache/convlab/smoke-tree"
        );
        assert_eq!(style.show(Path::new("/home/ada")), "~");
        assert_eq!(
            style.show(Path::new("/home/adam/x")),
            "/home/adam/x",
            "a sibling of home is not under it"
        );
        assert_eq!(
            style.show(Path::new("/usr/share/datasets/fashion-mnist")),
            "/usr/share/datasets/fashion-mnist"
        );
        assert_eq!(style.show(Path::new("data/tree")), "data/tree");
        assert_eq!(
            PathStyle::default().show(Path::new("/home/ada/convlab/runs")),
            "/home/ada/convlab/runs"
        );
        // A root of `/` (HOME=/ in some containers) must not turn every path into `~/…`.
        let root_home = PathStyle::new(None, Some("/".into()));
        assert_eq!(root_home.show(Path::new("/usr/share")), "/usr/share");
    }
}
