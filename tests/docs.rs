//! The book (`docs/`) is true: every block marked `<!-- runnable -->` runs as written (its
//! `convlab` commands, under the smoke profile, in a project of its own holding the files the
//! pages tell the reader to write after `<!-- file: PATH -->`); on "Your own ablations"
//! (`docs/extending/ablations.md`), every error line shown is what the binary prints for that
//! mistake, and every key a profile scales is in its table.
use std::path::Path;

mod common;
use common::{convlab_cmd, text};

/// The page's fenced blocks: (info string, the comment line before it, content).
fn blocks(md: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let lines: Vec<&str> = md.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        if let Some(info) = lines[i].strip_prefix("```") {
            let before = if i > 0 { lines[i - 1].trim().to_string() } else { String::new() };
            let end = (i + 1..lines.len())
                .find(|&j| lines[j].starts_with("```"))
                .expect("a closed block");
            out.push((info.trim().to_string(), before, lines[i + 1..end].join("\n") + "\n"));
            i = end;
        }
        i += 1;
    }
    out
}

fn page() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/extending/ablations.md"),
    )
    .unwrap()
}

/// Every page of the book, in path order.
fn book() -> Vec<(String, String)> {
    let pages = common::files_under(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs"));
    pages
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).unwrap()))
        .collect()
}

/// Split a command line into words (no quoting is used on the page).
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

#[test]
fn every_runnable_block_of_the_book_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let runs = root.join("runs");
    let all: Vec<(String, String, String)> = book().iter().flat_map(|(_, md)| blocks(md)).collect();
    // The files it asks the reader to write, and the plans it names that ship with convlab.
    std::fs::create_dir_all(root.join("studies")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("studies/regularization.toml"),
        root.join("studies/regularization.toml"),
    )
    .unwrap();
    for (_, before, content) in &all {
        if let Some(file) = before.strip_prefix("<!-- file: ").and_then(|s| s.strip_suffix(" -->"))
        {
            std::fs::write(root.join(file), content).unwrap();
        }
    }
    let commands: Vec<&str> = all
        .iter()
        .filter(|(_, before, _)| before == "<!-- runnable -->")
        .flat_map(|(_, _, c)| c.lines())
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(commands.len() >= 7, "{commands:?}");
    for line in &commands {
        let w = words(line);
        assert_eq!(w[0], "convlab", "a runnable block holds convlab commands only: {line}");
        let o = convlab_cmd(root, &runs)
            .env("CONVLAB_PROFILE", "smoke")
            .args(&w[1..])
            .output()
            .unwrap();
        assert!(o.status.success(), "`{line}` failed:\n{}", text(&o));
    }
    // What the page says they leave behind.
    for f in [
        "figures/smoke/sweep-weight_decay/writeup.md",
        "figures/smoke/sweep-weight_decay/sweep-weight_decay-effects.png",
        "figures/smoke/weight-decay/writeup.md",
        "notebooks/weight-decay/01_weight_decay.ipynb",
        "notebooks/weight-decay/03_summary.ipynb",
    ] {
        assert!(root.join(f).is_file(), "{f}");
    }
    // The sweep's 5e-4 and the plan's wd-5e-4 are one set of runs; weight decay 0 is xknet18's.
    let mut dirs: Vec<String> = std::fs::read_dir(runs.join("smoke"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !["grids", "logs"].contains(&n.as_str()))
        .collect();
    dirs.sort();
    assert_eq!(
        dirs,
        ["xknet18", "xknet18+weight_decay=1e-4", "xknet18+weight_decay=5e-4"],
        "shared by config"
    );
}

#[test]
fn the_error_lines_on_the_ablation_page_are_the_binarys() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let md = page();
    let all = blocks(&md);
    let plan =
        &all.iter().find(|(_, b, _)| b.contains("file: studies/weight-decay.toml")).unwrap().2;
    let shown: Vec<&str> = all
        .iter()
        .find(|(info, _, c)| info == "text" && c.contains("error: "))
        .unwrap()
        .2
        .lines()
        .collect();
    // Each mistake, made in the page's own plan (or on the command line), and the line it gives.
    let mistakes: Vec<(String, Vec<&str>)> = vec![
        (plan.replacen("train.weight_decay=5e-4\"]", "train.wieght_decay=5e-4\"]", 1), vec![]),
        (plan.replacen("train.weight_decay=5e-4\"]", "train.weight_decay=lots\"]", 1), vec![]),
        (plan.replacen("reference = \"xknet18\"", "reference = \"resnet18\"", 1), vec![]),
        (
            plan.replace("wd-5e-4", "dropout-0.1").replacen(
                "train.weight_decay=5e-4\"]",
                "model.dropout=0.1\"]",
                1,
            ),
            vec![],
        ),
        (String::new(), vec!["sweep", "train.weight_decay=5e-4"]),
    ];
    assert_eq!(mistakes.len(), shown.len());
    std::fs::create_dir_all(root.join("studies")).unwrap();
    for ((text_of_plan, args), want) in mistakes.iter().zip(&shown) {
        let mut cmd = convlab_cmd(root, &root.join("runs"));
        if args.is_empty() {
            std::fs::write(root.join("studies/weight-decay.toml"), text_of_plan).unwrap();
            cmd.args(["study", "--plan", "studies/weight-decay.toml", "--profile", "smoke"]);
        } else {
            cmd.args(args).args(["--profile", "smoke"]);
        }
        let o = cmd.output().unwrap();
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&o.stderr).trim_end().lines().last(),
            Some(*want),
            "{}",
            text(&o)
        );
    }
}

#[test]
fn the_ablation_page_lists_every_scaled_key() {
    let md = page();
    for (key, _) in
        convlab::plan::recipe::SCALED.iter().filter(|(k, _)| k.matches('.').count() == 1)
    {
        assert!(
            md.contains(&format!("| `{key}` |")),
            "{key} is scaled but not in the page's table"
        );
    }
}

/// Every `convlab …` command line a page shows — in a fenced block or an inline code span —
/// with its subcommand and the flags it passes.
fn command_lines(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        // A block's comment lines and trailing comments are prose, not commands.
        let code = line.split(" # ").next().unwrap_or("");
        let spans: Vec<&str> = if !fenced {
            line.split('`').skip(1).step_by(2).collect()
        } else if code.trim_start().starts_with('#') {
            vec![]
        } else {
            vec![code]
        };
        for span in spans {
            let mut rest = span;
            while let Some(i) = rest.find("convlab ") {
                // `convlab` as a word: not `…/convlab`, `convlab::`, `target/release/convlab`'s
                // path, or a kernel name.
                let before = rest[..i].chars().last();
                let tail = &rest[i + "convlab ".len()..];
                if before.is_none_or(|c| c == ' ' || c == '(' || c == '$')
                    && tail.starts_with(|c: char| c.is_ascii_lowercase())
                {
                    let end = tail.find(['|', ';', '#', '>', '`']).unwrap_or(tail.len());
                    let end = tail.find("&&").map_or(end, |a| a.min(end));
                    out.push(tail[..end].trim().to_string());
                }
                rest = tail;
            }
        }
    }
    out
}

#[test]
fn every_command_the_book_and_readme_show_exists_with_its_flags() {
    let help = |args: &[&str]| {
        let o = common::scrubbed_convlab().args(args).arg("--help").output().unwrap();
        (o.status.success(), String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let (_, top) = help(&[]);
    let mut pages = book();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for f in ["README.md", "data/README.md"] {
        pages.push((f.to_string(), std::fs::read_to_string(root.join(f)).unwrap()));
    }
    let mut checked = 0;
    let mut problems = Vec::new();
    let mut helps: std::collections::HashMap<String, (bool, String)> = Default::default();
    for (page, md) in &pages {
        for line in command_lines(md) {
            let w = words(&line);
            // The subcommand: one word, or two for `data …` (its own subcommands).
            let sub: Vec<&str> = if w[0] == "data" && w.len() > 1 && !w[1].starts_with('-') {
                w[..2].to_vec()
            } else {
                w[..1].to_vec()
            };
            // Hidden subcommands (a grid's workers) are not listed, but take --help.
            let (ok, text) = helps.entry(sub.join(" ")).or_insert_with(|| help(&sub)).clone();
            if !ok
                || !(top.contains(&format!(" {} ", sub[0]))
                    || text.contains(&format!("convlab {}", sub.join(" "))))
            {
                problems.push(format!(
                    "{page}: `convlab {line}`: no subcommand `convlab {}`",
                    sub.join(" ")
                ));
                continue;
            }
            for flag in
                w.iter().filter(|t| t.starts_with("--")).map(|t| t.split('=').next().unwrap())
            {
                let flag = flag.trim_end_matches([',', '.', ')']);
                if flag != "--help"
                    && !text.contains(&format!("{flag} "))
                    && !text.contains(&format!("{flag}\n"))
                    && !text.contains(&format!("{flag}="))
                    && !text.contains(&format!("{flag} <"))
                {
                    problems.push(format!(
                        "{page}: `convlab {line}`: `{}` has no flag {flag}",
                        sub.join(" ")
                    ));
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} command lines found");
    assert!(
        problems.is_empty(),
        "{} command line(s) the binary does not take:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn command_lines_are_found_in_blocks_and_code_spans() {
    let md = "Run `convlab study --status` or `make x`.\n```console\nconvlab data inspect \
        --profile quick   # a comment on convlab train\n# wait until convlab itself exits\n$ \
        convlab keys | head\n```\nsee `convlab::study` and `convlab.toml`\n";
    assert_eq!(command_lines(md), ["study --status", "data inspect --profile quick", "keys"]);
}
