//! The source stays legible: no two files import each other, directly or around a
//! circle (every `crate::…` and `super::…` path in non-test code is resolved to the
//! file that defines it; the files and their imports must form a graph without
//! cycles); the front ends use the job engine through its front door; no folder holds
//! more than 15 source files and no source file is longer than 500 lines.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn source_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") && path.file_name().is_some_and(|name| name != "tests.rs") {
            found.push(path);
        }
    }
}

/// `src/jobs/store/mod.rs` → `["jobs", "store"]`; `src/lib.rs` → `[]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|last| last == "mod" || last == "lib" || last == "main") {
        parts.pop();
    }
    parts
}

/// The file defining the longest prefix of `path` that is a module.
fn file_for(src: &Path, path: &[String]) -> Option<PathBuf> {
    for len in (0..=path.len()).rev() {
        let base = path[..len].iter().fold(src.to_path_buf(), |dir, part| dir.join(part));
        let candidates = if len == 0 { vec![src.join("lib.rs")] } else { vec![base.with_extension("rs"), base.join("mod.rs")] };
        if let Some(found) = candidates.into_iter().find(|candidate| candidate.is_file()) {
            return Some(found);
        }
    }
    None
}

/// Code without comments, string literals and the trailing `#[cfg(test)] mod tests { … }`.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests {") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut code = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for next in chars.by_ref() {
                    if next == '\n' {
                        code.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                let mut escaped = false;
                for next in chars.by_ref() {
                    match next {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => break,
                        _ => escaped = false,
                    }
                }
                code.push_str("\"\"");
            }
            _ => code.push(c),
        }
    }
    code
}

/// Child modules a file declares (`mod x;`, `pub mod x;`).
fn children_declared(code: &str) -> Vec<String> {
    code.lines()
        .filter_map(|line| {
            let line = line.trim().trim_start_matches("pub(crate) ").trim_start_matches("pub ");
            let name = line.strip_prefix("mod ")?.strip_suffix(';')?;
            Some(name.trim().to_owned())
        })
        .collect()
}

/// Every path that starts with `crate::`, `super::` or a declared child (`child::`),
/// braces expanded one item each. The flag says whether it starts from the crate root.
fn paths_in(code: &str, children: &[String]) -> Vec<(Start, Vec<String>)> {
    let mut found = Vec::new();
    for child in children {
        let mut rest = code;
        let prefix = format!("{child}::");
        while let Some(at) = rest.find(&prefix) {
            let preceded = rest[..at].chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
            rest = &rest[at + prefix.len()..];
            if !preceded {
                found.push((Start::Child, vec![child.clone()]));
            }
        }
    }
    for start in ["crate::", "super::"] {
        let mut rest = code;
        while let Some(at) = rest.find(start) {
            let preceded_by_ident = rest[..at].chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_');
            rest = &rest[at + start.len()..];
            if preceded_by_ident {
                continue;
            }
            let mut path = Vec::new();
            let mut tail = rest;
            while tail.starts_with("super::") {
                path.push("super".to_owned());
                tail = &tail["super::".len()..];
            }
            if tail.starts_with('{') {
                let group = &tail[1..tail.find('}').unwrap_or(tail.len())];
                for item in group.split(',') {
                    let first: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
                    let mut item_path = path.clone();
                    item_path.extend(first.split("::").filter(|part| !part.is_empty()).map(str::to_owned));
                    found.push((if start == "crate::" { Start::Crate } else { Start::Super }, item_path));
                }
                continue;
            }
            let segment: String = tail.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            path.extend(segment.split("::").filter(|part| !part.is_empty()).map(str::to_owned));
            found.push((if start == "crate::" { Start::Crate } else { Start::Super }, path));
        }
    }
    found
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Start {
    Crate,
    Super,
    Child,
}

#[test]
fn no_file_imports_its_way_back_to_itself() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        let targets = edges.entry(file.clone()).or_default();
        let children = children_declared(&code);
        for (start, path) in paths_in(&code, &children) {
            let mut absolute = match start {
                Start::Crate => Vec::new(),
                Start::Super => module[..module.len().saturating_sub(1)].to_vec(),
                Start::Child => module.clone(),
            };
            let mut relative = path.as_slice();
            while relative.first().is_some_and(|part| part == "super") {
                absolute.pop();
                relative = &relative[1..];
            }
            absolute.extend(relative.iter().cloned());
            if let Some(target) = file_for(&src, &absolute)
                && target != *file
                && !file.ends_with("main.rs")
            {
                targets.insert(target);
            }
        }
    }
    let cycles: Vec<String> = circles(&edges)
        .into_iter()
        .map(|circle| circle.iter().map(|file| file.strip_prefix(&src).unwrap().display().to_string()).collect::<Vec<_>>().join(", "))
        .collect();
    assert!(cycles.is_empty(), "files that import each other (around a circle):\n{}", cycles.join("\n"));
}

/// The strongly connected groups of more than one file (Tarjan's algorithm).
fn circles(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        on_stack: BTreeSet<&'a PathBuf>,
        found: Vec<Vec<PathBuf>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, node: &'a PathBuf) {
            let at = self.index.len();
            self.index.insert(node, at);
            self.low.insert(node, at);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.edges.get(node).into_iter().flatten() {
                let Some((next, _)) = self.edges.get_key_value(next) else { continue };
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut group = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    group.push(member.clone());
                    if member == node {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.found.push(group);
                }
            }
        }
    }
    let mut walk =
        Walk { edges, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), on_stack: BTreeSet::new(), found: Vec::new() };
    for node in edges.keys() {
        if !walk.index.contains_key(node) {
            walk.visit(node);
        }
    }
    walk.found
}

/// The front ends: clients of the job engine.
const FRONT_ENDS: [&str; 5] = ["tui", "mcp", "cli", "install", "demo"];
/// The most source files one folder holds.
const MAX_FILES_PER_FOLDER: usize = 15;
/// The most lines one source file holds.
const MAX_LINES_PER_FILE: usize = 500;

/// Every source file under `dir`, tests included.
fn every_source_file(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            every_source_file(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// A file of tests: `tests.rs`, or any file in a `tests/` folder of the source.
fn is_test_file(src: &Path, file: &Path) -> bool {
    file.file_name().is_some_and(|name| name == "tests.rs")
        || file.strip_prefix(src).unwrap().components().any(|part| part.as_os_str() == "tests")
}

/// The modules of the job engine a path may not name from outside: those `jobs/mod.rs` declares.
fn engine_modules(src: &Path) -> BTreeSet<String> {
    let code = code_of(&std::fs::read_to_string(src.join("jobs").join("mod.rs")).unwrap());
    children_declared(&code).into_iter().collect()
}

/// Each `jobs::<module>` a piece of code names, braces (one level) included: `jobs::output::…`,
/// `jobs::{JobId, output::…}`, `jobs::{tail}`.
fn engine_modules_named(code: &str, modules: &BTreeSet<String>) -> Vec<String> {
    let mut named = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("jobs::") {
        let preceded = rest[..at].chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "jobs::".len()..];
        if preceded {
            continue;
        }
        let items: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group[..group.find('}').unwrap_or(group.len())].split(',').collect(),
            None => vec![rest],
        };
        for item in items {
            let first: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if modules.contains(&first) {
                named.push(format!("jobs::{first}"));
            }
        }
    }
    named
}

#[test]
fn front_ends_use_the_engine_through_its_root() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = engine_modules(&src);
    let mut reaches = Vec::new();
    for front_end in FRONT_ENDS {
        let mut files = Vec::new();
        every_source_file(&src.join(front_end), &mut files);
        for file in files.iter().filter(|file| !is_test_file(&src, file)) {
            let code = code_of(&std::fs::read_to_string(file).unwrap());
            for path in engine_modules_named(&code, &modules) {
                reaches.push(format!("{}: {path}", file.strip_prefix(&src).unwrap().display()));
            }
        }
    }
    assert!(
        reaches.is_empty(),
        "front ends name modules of the job engine; use what `jobs` re-exports (or give Engine a method):\n{}",
        reaches.join("\n")
    );
}

#[test]
fn no_folder_holds_more_than_15_source_files() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    every_source_file(&src, &mut files);
    let mut per_folder: BTreeMap<&Path, usize> = BTreeMap::new();
    for file in &files {
        *per_folder.entry(file.parent().unwrap()).or_default() += 1;
    }
    let crowded: Vec<String> = per_folder
        .into_iter()
        .filter(|(_, count)| *count > MAX_FILES_PER_FOLDER)
        .map(|(folder, count)| format!("{}: {count} files", folder.strip_prefix(&src).unwrap().display()))
        .collect();
    assert!(crowded.is_empty(), "folders over {MAX_FILES_PER_FOLDER} source files (group them by concern):\n{}", crowded.join("\n"));
}

#[test]
fn no_source_file_is_longer_than_500_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    every_source_file(&src, &mut files);
    let long: Vec<String> = files
        .iter()
        .map(|file| (file, std::fs::read_to_string(file).unwrap().lines().count()))
        .filter(|(_, lines)| *lines > MAX_LINES_PER_FILE)
        .map(|(file, lines)| format!("{}: {lines} lines", file.strip_prefix(&src).unwrap().display()))
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES_PER_FILE} lines (split them along a seam):\n{}", long.join("\n"));
}
