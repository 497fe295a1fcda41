//! Prints one markdown table from criterion's results: workload | workers | taskio median |
//! tokio median | ratio (taskio / tokio), and, when any result is smol's (function id
//! `smol`), smol median | ratio (taskio / smol) (`—` on rows without a smol result).
//!
//! Run `bash benches/compare.sh` (runs the benches, then this). Alone:
//! `cargo run --release -p taskio-benches --bin compare [-- <criterion dir> [<substring>...]]`;
//! the default directory is `$CARGO_TARGET_DIR/criterion`, else
//! `<workspace>/target/criterion`. With substrings, only workloads whose name contains one of
//! them are printed (e.g. `time_ spawn_blocking`).
//!
//! Reads `<group>/<function>/new/{benchmark,estimates}.json` by hand (no serde in this
//! package): the group id from `"group_id":"..."` and the median from
//! `"median":{"confidence_interval":{...},"point_estimate":X`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::{env, fs};

use taskio_benches::{asyncio, current, multi};

/// `(group_id, function_id) -> median in ns`.
type Results = BTreeMap<(String, String), f64>;

fn criterion_dir() -> PathBuf {
    if let Some(dir) = env::args().nth(1) {
        return PathBuf::from(dir);
    }
    let target = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("criterion")
}

/// The string value of `"key":"value"` in `json`.
fn string_field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":\"");
    let start = json.find(&pat)? + pat.len();
    let len = json[start..].find('"')?;
    Some(&json[start..start + len])
}

/// The median's point estimate in criterion's `estimates.json`.
fn median(json: &str) -> Option<f64> {
    let at = json.find("\"median\":")?;
    let rest = &json[at..];
    // The confidence interval object holds no nested objects; its `}` ends it.
    let after_ci = rest.find('}')?;
    let rest = &rest[after_ci..];
    let pat = "\"point_estimate\":";
    let start = rest.find(pat)? + pat.len();
    let end = rest[start..].find([',', '}'])?;
    rest[start..start + end].trim().parse().ok()
}

fn collect(dir: &Path) -> Results {
    let mut out = Results::new();
    let Ok(groups) = fs::read_dir(dir) else {
        return out;
    };
    for group in groups.flatten() {
        let Ok(funcs) = fs::read_dir(group.path()) else {
            continue;
        };
        for func in funcs.flatten() {
            let new = func.path().join("new");
            let (Ok(bench), Ok(est)) = (
                fs::read_to_string(new.join("benchmark.json")),
                fs::read_to_string(new.join("estimates.json")),
            ) else {
                continue;
            };
            let (Some(g), Some(f), Some(m)) = (
                string_field(&bench, "group_id"),
                string_field(&bench, "function_id"),
                median(&est),
            ) else {
                continue;
            };
            out.insert((g.to_string(), f.to_string()), m);
        }
    }
    out
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

fn main() {
    let dir = criterion_dir();
    let results = collect(&dir);
    if results.is_empty() {
        eprintln!("no criterion results under {}", dir.display());
        std::process::exit(1);
    }
    let filters: Vec<String> = env::args().skip(2).collect();
    let mut rows: Vec<(String, String)> = Vec::new();
    for name in multi::WORKLOADS {
        for w in ["2w", "4w"] {
            rows.push((name.to_string(), w.to_string()));
        }
    }
    for name in current::WORKLOADS {
        rows.push((name.to_string(), "ct".to_string()));
    }
    for name in asyncio::PROGRAMS {
        rows.push((name.to_string(), "2w".to_string()));
    }
    // Any other group shaped `<workload>/<workers>` (benches added later) goes last.
    for (g, _) in results.keys() {
        if let Some((name, w)) = g.rsplit_once('/') {
            let row = (name.to_string(), w.to_string());
            if !rows.contains(&row) {
                rows.push(row);
            }
        }
    }

    let with_smol = results.keys().any(|(_, f)| f == "smol");
    if with_smol {
        println!(
            "| workload | workers | taskio median | tokio median | ratio (taskio/tokio) \
             | smol median | ratio (taskio/smol) |"
        );
        println!("|---|---|--:|--:|--:|--:|--:|");
    } else {
        println!("| workload | workers | taskio median | tokio median | ratio (taskio/tokio) |");
        println!("|---|---|--:|--:|--:|");
    }
    for (name, w) in rows {
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let group = format!("{name}/{w}");
        let get = |f: &str| results.get(&(group.clone(), f.to_string())).copied();
        // Variants: `tokio_<v>` is compared with `taskio`, `taskio_<v>` with `tokio`; each
        // gets its own row, labelled `<workload> [<function>]`, after the main one. smol's
        // median goes on the main row and on the `taskio_<v>` rows (compared with taskio's).
        let mut pairs = vec![(name.clone(), get("taskio"), get("tokio"), get("smol"))];
        for ((g, f), _) in results.iter() {
            if *g != group {
                continue;
            }
            if f.starts_with("tokio_") {
                pairs.push((format!("{name} [{f}]"), get("taskio"), get(f), None));
            } else if f.starts_with("taskio_") {
                pairs.push((format!("{name} [{f}]"), get(f), get("tokio"), get("smol")));
            }
        }
        for (label, t, k, m) in pairs {
            print_row(&label, &w, t, k, with_smol.then_some(m));
        }
    }
}

/// One row: taskio's median `t`, tokio's `k`; `smol` is `None` when the table has no smol
/// columns, else smol's median (if any).
fn print_row(name: &str, w: &str, t: Option<f64>, k: Option<f64>, smol: Option<Option<f64>>) {
    if t.is_none() && k.is_none() && smol.flatten().is_none() {
        return;
    }
    let cell = |v: Option<f64>| v.map_or("—".to_string(), fmt_ns);
    let ratio_of = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}", a / b),
        _ => "—".to_string(),
    };
    let ratio = ratio_of(t, k);
    let smol_cells = match smol {
        Some(m) => format!(" {} | {} |", cell(m), ratio_of(t, m)),
        None => String::new(),
    };
    let workers = if w == "ct" {
        "current_thread".to_string()
    } else {
        w.trim_end_matches('w').to_string()
    };
    println!(
        "| {name} | {workers} | {} | {} | {ratio} |{smol_cells}",
        cell(t),
        cell(k)
    );
}
