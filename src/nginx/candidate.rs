//! The edited configuration as nginx will read it, for `nginx -t`, before anything live changes.
//!
//! nginx resolves relative paths against the directory of its main file (the conf prefix), so
//! the candidate main file sits beside the live one, under a dot name no `include` glob loads.
//! Every other file that is edited, or that includes (at any depth) an edited file, gets a
//! candidate copy in a private temporary directory; in those copies each `include` that leads
//! to a candidate is rewritten, on its own line so nginx's line numbers stay those of the new
//! files, into one `include` per file it matches: the candidate copy, or the live file when that
//! file is untouched. No live file ever includes a candidate. Everything is removed on drop.

use super::fix::{splice, Edit};
use super::parser::{Config, Directive};
use crate::Error;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

/// The candidate files on disk; removed when dropped, whatever happened.
#[derive(Debug)]
pub struct Candidate {
    main: tempfile::NamedTempFile,
    _private: tempfile::TempDir,
    /// (candidate path, live path), longest candidate path first.
    names: Vec<(String, String)>,
}

impl Candidate {
    /// The candidate main file, for `nginx -t -c`.
    pub fn main(&self) -> &Path {
        self.main.path()
    }

    /// `text` (nginx's words about the candidate) with every candidate file named by the live
    /// file it becomes.
    pub fn live_names(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (candidate, live) in &self.names {
            out = out.replace(candidate.as_str(), live);
        }
        out
    }
}

/// Every `include` in `directives`, at any depth.
pub fn includes<'a>(directives: &'a [Directive], out: &mut Vec<&'a Directive>) {
    for d in directives {
        if d.includes.is_some() {
            out.push(d);
        }
        includes(d.children(), out);
    }
}

/// Write the candidate of `config` with `edits` applied. `config.files[0]` is the main file and
/// every path in `config` is absolute.
pub fn build(config: &Config, edits: &[Edit]) -> Result<Candidate, Error> {
    let files = &config.files;
    let per_file: Vec<Vec<&Directive>> = files
        .iter()
        .map(|f| {
            let mut v = Vec::new();
            includes(&f.directives, &mut v);
            v
        })
        .collect();
    // Edited files, then every file that includes one of them, up to the main file.
    let mut dirty: BTreeSet<usize> = edits.iter().map(|e| e.file).collect();
    loop {
        let before = dirty.len();
        for (i, incs) in per_file.iter().enumerate() {
            if incs
                .iter()
                .any(|d| d.includes.iter().flatten().any(|j| dirty.contains(j)))
            {
                dirty.insert(i);
            }
        }
        if dirty.len() == before {
            break;
        }
    }
    dirty.insert(0);

    let main_live = Path::new(&files[0].path);
    let main_dir = main_live.parent().unwrap_or(Path::new("/"));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let main = tempfile::Builder::new()
        .prefix(".wspath-candidate-")
        .suffix(".conf")
        .tempfile_in(main_dir)
        .map_err(io(main_dir))?;
    let private = tempfile::Builder::new()
        .prefix("wspath-candidate-")
        .tempdir()
        .map_err(io(&std::env::temp_dir()))?;
    let candidate_path = |i: usize| -> String {
        if i == 0 {
            return main.path().to_string_lossy().into_owned();
        }
        let base = Path::new(&files[i].path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        private
            .path()
            .join(format!("{i}-{base}"))
            .to_string_lossy()
            .into_owned()
    };

    let mut names = Vec::new();
    for &i in &dirty {
        let mut file_edits: Vec<Edit> = edits.iter().filter(|e| e.file == i).cloned().collect();
        for d in &per_file[i] {
            let targets = d.includes.as_deref().unwrap_or_default();
            if !targets.iter().any(|j| dirty.contains(j)) {
                continue;
            }
            let text: Vec<String> = targets
                .iter()
                .map(|&j| {
                    let path = if dirty.contains(&j) {
                        candidate_path(j)
                    } else {
                        files[j].path.clone()
                    };
                    format!("include {};", quote(&path))
                })
                .collect();
            file_edits.push(Edit {
                file: i,
                start: d.start,
                end: d.end,
                text: text.join(" "),
                summary: String::new(),
            });
        }
        let contents = splice(&files[i].source, file_edits.iter().collect());
        let path = candidate_path(i);
        if i == 0 {
            let mut f = main.as_file();
            f.write_all(contents.as_bytes()).map_err(io(main.path()))?;
            f.flush().map_err(io(main.path()))?;
        } else {
            std::fs::write(&path, contents).map_err(io(Path::new(&path)))?;
        }
        names.push((path, files[i].path.clone()));
    }
    names.sort_by_key(|(c, _)| std::cmp::Reverse(c.len()));
    Ok(Candidate {
        main,
        _private: private,
        names,
    })
}

/// A path as one nginx argument: double-quoted, with `"` and `\` escaped.
fn quote(path: &str) -> String {
    format!("\"{}\"", path.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_candidates_include_candidates_and_lines_stay_put() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("conf.d")).unwrap();
        std::fs::write(d.join("conf.d/a.conf"), "# a\nserver_tokens off;\n").unwrap();
        std::fs::write(d.join("conf.d/b.conf"), "# b\n").unwrap();
        let main = "events {}\nhttp {\n    include conf.d/*.conf;\n}\n";
        std::fs::write(d.join("nginx.conf"), main).unwrap();
        let config = super::super::parse(&d.join("nginx.conf")).unwrap();
        let b = config
            .files
            .iter()
            .position(|f| f.path.ends_with("b.conf"))
            .unwrap();
        let edit = Edit {
            file: b,
            start: 4,
            end: 4,
            text: "server_tokens on;\n".into(),
            summary: String::new(),
        };
        let c = build(&config, &[edit]).unwrap();
        let text = std::fs::read_to_string(c.main()).unwrap();
        assert_eq!(text.lines().count(), main.lines().count());
        assert!(text.contains(&format!("include \"{}/conf.d/a.conf\";", d.display())));
        assert!(!text.contains(&format!("{}/conf.d/b.conf", d.display())));
        assert_eq!(std::fs::read_to_string(d.join("nginx.conf")).unwrap(), main);
        let main_path = c.main().to_path_buf();
        assert_eq!(
            c.live_names(&format!("x in {}:3", main_path.display())),
            format!("x in {}/nginx.conf:3", d.display())
        );
        drop(c);
        assert!(!main_path.exists());
    }
}
