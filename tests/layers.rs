//! The crate's layers, read from its own source: no cycle between modules.
//!
//! Every path a file names in code (`use` lines, `crate::…`, `super::…`, `convlab::…` in the
//! binary; comments and doc links do not count) is an edge from that file's module to the module
//! it names. Two graphs are checked: the top-level modules (`data`, `model`, `study`, …) and,
//! inside each directory, its sibling files (`data/cache` and `data/idx`). An item named through
//! a parent's re-export (`super::Batch`, `crate::data::Batch`) counts for the sibling file that
//! defines it. Either graph with a cycle fails, naming the edges that close it.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

mod common;

/// One source file: its module path (`["data", "cache"]`; `[]` for lib.rs) and its code.
struct Source {
    module: Vec<String>,
    file: String,
    code: Vec<String>,
}

/// The code of a line without its comment (`//` outside a string literal).
fn code_of(line: &str) -> String {
    let (mut in_str, mut prev) = (false, ' ');
    for (i, c) in line.char_indices() {
        if c == '"' && prev != '\\' {
            in_str = !in_str;
        }
        if !in_str && c == '/' && prev == '/' {
            return line[..i - 1].to_string();
        }
        prev = c;
    }
    line.to_string()
}

/// Each `use` statement that rustfmt spread over several lines, joined onto its first line
/// (the others left empty, so that line numbers stay the file's).
fn join_uses(mut lines: Vec<String>) -> Vec<String> {
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim_start();
        let is_use = ["use ", "pub use ", "pub(crate) use ", "pub(super) use "]
            .iter()
            .any(|p| t.starts_with(p));
        let mut j = i;
        while is_use && !lines[i].trim_end().ends_with(';') && j + 1 < lines.len() {
            j += 1;
            let next = std::mem::take(&mut lines[j]);
            lines[i].push_str(next.trim());
        }
        i = j + 1;
    }
    lines
}

fn sources(src: &Path) -> Vec<Source> {
    common::files_under(src)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| {
            let rel = p.strip_prefix(src).unwrap().with_extension("");
            let mut module: Vec<String> =
                rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                module.pop();
            }
            let lines = std::fs::read_to_string(&p).unwrap().lines().map(code_of).collect();
            Source { module, file: format!("src/{}", rel.display()), code: join_uses(lines) }
        })
        .collect()
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every path a line names from `root` (`crate`, `super`, `convlab`), with `use` braces expanded.
fn paths_in(line: &str, root: &str) -> Vec<Vec<String>> {
    let mut out = vec![];
    let mut from = 0;
    while let Some(i) = line[from..].find(&format!("{root}::")).map(|i| i + from) {
        from = i + root.len() + 2;
        if i > 0 && line[..i].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        expand(&line[from..], vec![root.to_string()], &mut out);
    }
    out
}

/// Paths from `prefix` followed by `rest` (`a::b::{c, d::e}` → `prefix::a::b::c`,
/// `prefix::a::b::d::e`).
fn expand(rest: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    let mut s = rest.trim_start();
    loop {
        if let Some(inner) = s.strip_prefix('{') {
            let (mut depth, mut start) = (0, 0);
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        expand(&inner[start..i], path.clone(), out);
                        return;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(&inner[start..i], path.clone(), out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            return;
        }
        let end = s.find(|c: char| !is_ident(c)).unwrap_or(s.len());
        if end == 0 {
            break;
        }
        path.push(s[..end].to_string());
        s = &s[end..];
        match s.strip_prefix("::") {
            Some(r) => s = r.trim_start(),
            None => break,
        }
    }
    out.push(path);
}

/// The module path `path` names, seen from `module` (`super` and `crate` resolved).
fn absolute(module: &[String], path: &[String]) -> Vec<String> {
    let mut base: Vec<String> = match path[0].as_str() {
        "crate" | "convlab" => vec![],
        _ => module.to_vec(),
    };
    let mut rest = &path[1..];
    if path[0] == "super" {
        // A file's module path already ends in its own name (`data/mod.rs` is `data`,
        // `data/cache.rs` is `data::cache`), so `super` drops one segment either way.
        base.pop();
        while rest.first().is_some_and(|s| s == "super") {
            base.pop();
            rest = &rest[1..];
        }
    }
    base.extend(rest.iter().cloned());
    base
}

/// Which sibling file under `dir` defines `item` (`pub struct Batch` in `data/loader.rs`).
fn definer(srcs: &[Source], dir: &[String], item: &str) -> Option<String> {
    let kinds = ["struct", "enum", "fn", "const", "trait", "type", "static", "mod"];
    srcs.iter()
        .filter(|s| s.module.len() == dir.len() + 1 && s.module.starts_with(dir))
        .find(|s| {
            s.code.iter().any(|l| {
                let t = l.trim_start();
                let t =
                    t.strip_prefix("pub(crate) ").or_else(|| t.strip_prefix("pub ")).unwrap_or("");
                kinds.iter().any(|k| {
                    t.strip_prefix(k).and_then(|r| r.strip_prefix(' ')).is_some_and(|r| {
                        r.starts_with(item) && !r[item.len()..].starts_with(is_ident)
                    })
                })
            })
        })
        .map(|s| s.module.last().unwrap().clone())
}

type Graph = BTreeMap<String, BTreeMap<String, String>>;

fn add(g: &mut Graph, from: &str, to: &str, at: String) {
    if from != to {
        g.entry(from.to_string()).or_default().entry(to.to_string()).or_insert(at);
        g.entry(to.to_string()).or_default();
    }
}

/// The top-level graph and, per directory, the sibling graph.
fn graphs(srcs: &[Source]) -> BTreeMap<String, Graph> {
    let mut gs: BTreeMap<String, Graph> = BTreeMap::new();
    let dirs: BTreeSet<Vec<String>> =
        srcs.iter().filter(|s| s.file.ends_with("/mod")).map(|s| s.module.clone()).collect();
    let tops: BTreeSet<String> = srcs.iter().filter_map(|s| s.module.first().cloned()).collect();
    for s in srcs {
        let is_main = s.file == "src/main";
        let from_top = if is_main {
            "main".to_string()
        } else {
            s.module.first().cloned().unwrap_or_default()
        };
        let roots: &[&str] = if is_main { &["convlab"] } else { &["crate", "super"] };
        for (n, line) in s.code.iter().enumerate() {
            let at = format!("{}.rs:{}", s.file, n + 1);
            for root in roots {
                for p in paths_in(line, root) {
                    let target = absolute(&s.module, &p);
                    let Some(top) = target.first() else { continue };
                    // Only real top-level modules: `super::super::X` from a file's inline
                    // `mod tests` resolves one level too high and names no module.
                    if !from_top.is_empty() && tops.contains(top) {
                        add(gs.entry(String::new()).or_default(), &from_top, top, at.clone());
                    }
                    // Sibling edges: both files in the same directory `dir`.
                    if s.module.len() < 2 || !dirs.contains(&s.module[..s.module.len() - 1]) {
                        continue;
                    }
                    let dir = &s.module[..s.module.len() - 1];
                    if target.len() <= dir.len() || !target.starts_with(dir) {
                        continue;
                    }
                    let name = &target[dir.len()];
                    let sibling = if srcs.iter().any(|o| {
                        o.module.len() == dir.len() + 1
                            && o.module.starts_with(dir)
                            && &o.module[dir.len()] == name
                    }) {
                        Some(name.clone())
                    } else {
                        definer(srcs, dir, name)
                    };
                    if let Some(sib) = sibling {
                        add(
                            gs.entry(dir.join("/")).or_default(),
                            s.module.last().unwrap(),
                            &sib,
                            at.clone(),
                        );
                    }
                }
            }
        }
    }
    gs
}

/// The strongly connected components with more than one node (Tarjan).
fn cycles(g: &Graph) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let i = t.index.len();
        t.index.insert(v, i);
        t.low.insert(v, i);
        t.stack.push(v);
        t.on.insert(v);
        for w in t.g[v].keys() {
            if !t.index.contains_key(w.as_str()) {
                visit(t, w);
                let l = t.low[v].min(t.low[w.as_str()]);
                t.low.insert(v, l);
            } else if t.on.contains(w.as_str()) {
                let l = t.low[v].min(t.index[w.as_str()]);
                t.low.insert(v, l);
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = vec![];
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                scc.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                t.out.push(scc);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: vec![],
        on: BTreeSet::new(),
        out: vec![],
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

/// Each cycle as the edges inside it, with the line that makes each.
fn describe(gs: &BTreeMap<String, Graph>) -> Vec<String> {
    let mut found = vec![];
    for (dir, g) in gs {
        for scc in cycles(g) {
            let mut edges = vec![];
            for a in &scc {
                for (b, at) in &g[a] {
                    if scc.contains(b) {
                        edges.push(format!("{a} → {b} ({at})"));
                    }
                }
            }
            let scope = if dir.is_empty() { "crate".to_string() } else { format!("src/{dir}/") };
            found.push(format!("cycle in {scope}: {}", edges.join("; ")));
        }
    }
    found
}

/// The crate's layers, bottom to top (docs/development/architecture.md): a module may name
/// modules of its own layer or below, never above. `lib` (the crate root) and `prelude`
/// (re-exports for notebooks) sit over every layer.
const LAYERS: &[&[&str]] = &[
    &["io", "paths", "signals", "device", "overrides", "table", "looks"],
    &["model", "data"],
    &["train"],
    &["plot", "bench", "doctor"],
    &["settings"],
    // The pipeline: a study defined, scheduled, analysed, written up.
    &["plan"],
    &["grid"],
    &["analysis"],
    &["writeup"],
    // The paper's own questions, over the engine that does not name them.
    &["paper"],
    &["study"],
    &["cli", "prelude"],
    &["main"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// Every edge of the top-level graph that points up the layer table, or names a module the
/// table does not list.
fn upward_edges(top: &Graph) -> Vec<String> {
    let mut out = vec![];
    for (a, edges) in top {
        for (b, at) in edges {
            match (layer_of(a), layer_of(b)) {
                (Some(la), Some(lb)) if lb > la => {
                    out.push(format!("{a} (layer {}) names {b} (layer {}) at {at}", la + 1, lb + 1))
                }
                (None, _) => out.push(format!("module {a} is not in the layer table ({at})")),
                (_, None) => out.push(format!("module {b} is not in the layer table ({at})")),
                _ => {}
            }
        }
    }
    out
}

#[test]
fn no_cycle_between_modules_and_layers_point_one_way() {
    let srcs = sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let gs = graphs(&srcs);
    // The check sees the layers it is meant to see (a parser that found nothing would pass).
    let top = &gs[""];
    for (a, b) in [
        ("plan", "train"),
        ("grid", "plan"),
        ("analysis", "grid"),
        ("writeup", "analysis"),
        ("paper", "writeup"),
        ("study", "paper"),
        ("train", "model"),
        ("main", "cli"),
        ("plot", "io"),
    ] {
        assert!(
            top.get(a).is_some_and(|e| e.contains_key(b)),
            "expected an edge {a} → {b}; the parser missed it"
        );
    }
    for dir in ["plan", "grid", "analysis", "paper", "data", "train"] {
        assert!(
            gs.get(dir).is_some_and(|g| !g.is_empty()),
            "the sibling graph of src/{dir}/ is missing"
        );
    }
    let found = describe(&gs);
    assert!(found.is_empty(), "{}", found.join("\n"));
    let up = upward_edges(top);
    assert!(up.is_empty(), "{}", up.join("\n"));
}

#[test]
fn an_edge_up_the_table_is_found() {
    let mut top = Graph::new();
    add(&mut top, "plan", "writeup", "src/plan/mod.rs:3".into());
    add(&mut top, "writeup", "plan", "src/writeup/mod.rs:9".into());
    add(&mut top, "grid", "nowhere", "src/grid/mod.rs:1".into());
    assert_eq!(
        upward_edges(&top),
        [
            "module nowhere is not in the layer table (src/grid/mod.rs:1)",
            "plan (layer 6) names writeup (layer 9) at src/plan/mod.rs:3",
        ]
    );
}

#[test]
fn the_check_sees_a_cycle() {
    let srcs = vec![
        Source {
            module: vec!["a".into()],
            file: "src/a/mod".into(),
            code: vec!["use crate::b::X;".into()],
        },
        Source {
            module: vec!["a".into(), "x".into()],
            file: "src/a/x".into(),
            code: join_uses(vec![
                "use super::{".into(),
                "    y::Z,".into(),
                "    W,".into(),
                "};".into(),
            ]),
        },
        Source {
            module: vec!["a".into(), "y".into()],
            file: "src/a/y".into(),
            code: vec![code_of("pub struct Z; fn f() { super::x::g() } // crate::c::h")],
        },
        Source {
            module: vec!["a".into(), "w".into()],
            file: "src/a/w".into(),
            code: vec!["pub struct W;".into()],
        },
        Source {
            module: vec!["b".into()],
            file: "src/b".into(),
            code: vec!["fn f() { crate::a::x::g(); }".into()],
        },
    ];
    let gs = graphs(&srcs);
    assert!(gs[""]["a"].contains_key("b") && gs[""]["b"].contains_key("a"));
    assert!(!gs[""].contains_key("c"), "a comment counted as code");
    assert_eq!(
        gs["a"]["x"].keys().collect::<Vec<_>>(),
        ["w", "y"],
        "W resolved through the parent's re-export to w.rs"
    );
    let found = describe(&gs);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("cycle in crate: a → b (src/a/mod.rs:1); b → a (src/b.rs:1)"),
        "{found:?}"
    );
    assert!(found[1].contains("x → y") && found[1].contains("y → x (src/a/y.rs:1)"), "{found:?}");
}
