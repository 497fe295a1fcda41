//! The attribute's options: `flavor = "..."`, `workers = N`, `start_paused = bool`.

use proc_macro::{Delimiter, Span, TokenStream, TokenTree};

use crate::error::Error;
use crate::Kind;

/// Which scheduler the runner uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// One thread, one FIFO ready queue (`RunnerBuilder::current_thread`).
    CurrentThread,
    /// The work-stealing scheduler.
    MultiThread,
}

/// The options, resolved: every one has its value.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) flavor: Flavor,
    /// `None`: the runtime's default, one worker per core.
    pub(crate) workers: Option<usize>,
    pub(crate) start_paused: bool,
}

impl Options {
    /// What a bare attribute means: `main` runs as `taskio::run` does (multi-thread);
    /// `test` runs on the deterministic current-thread runner.
    pub(crate) fn defaults(kind: Kind) -> Options {
        Options {
            flavor: match kind {
                Kind::Main => Flavor::MultiThread,
                Kind::Test => Flavor::CurrentThread,
            },
            workers: None,
            start_paused: false,
        }
    }
}

const KNOWN: &str = "`flavor`, `workers`, `start_paused`";

/// Parses `name = value, ...` (a trailing comma is fine).
pub(crate) fn parse(kind: Kind, args: TokenStream) -> Result<Options, Error> {
    let mut tokens = flatten(args).into_iter().peekable();
    let mut flavor: Option<(Flavor, Span)> = None;
    let mut workers: Option<(usize, Span)> = None;
    let mut start_paused: Option<bool> = None;
    while let Some(token) = tokens.next() {
        let TokenTree::Ident(name) = token else {
            return Err(Error::new(
                token.span(),
                format!("expected an option `name = value`; the options are {KNOWN}"),
            ));
        };
        let key = name.to_string();
        match tokens.next() {
            Some(TokenTree::Punct(p)) if p.as_char() == '=' => {}
            other => {
                let span = other.map_or(name.span(), |t| t.span());
                return Err(Error::new(span, format!("expected `=` after `{key}`")));
            }
        }
        let Some(value) = tokens.next() else {
            return Err(Error::new(
                name.span(),
                format!("expected a value for `{key}`"),
            ));
        };
        let span = value.span();
        let duplicate = match key.as_str() {
            "flavor" => flavor.replace((parse_flavor(&value)?, span)).is_some(),
            "workers" => workers.replace((parse_workers(&value)?, span)).is_some(),
            "start_paused" => start_paused.replace(parse_bool(&key, &value)?).is_some(),
            _ => {
                let what = match kind {
                    Kind::Main => "#[taskio::main]",
                    Kind::Test => "#[taskio::test]",
                };
                return Err(Error::new(
                    name.span(),
                    format!("unknown option `{key}` of `{what}`; the options are {KNOWN}"),
                ));
            }
        };
        if duplicate {
            return Err(Error::new(name.span(), format!("`{key}` is given twice")));
        }
        match tokens.next() {
            None => break,
            Some(TokenTree::Punct(p)) if p.as_char() == ',' => {}
            Some(other) => {
                return Err(Error::new(other.span(), "expected `,` between options"));
            }
        }
    }
    let mut options = Options::defaults(kind);
    if let Some((n, span)) = workers {
        if let Some((Flavor::CurrentThread, _)) = flavor {
            return Err(Error::new(
                span,
                "`workers` is for the multi-thread flavor; the current-thread runner has one \
                 thread",
            ));
        }
        options.flavor = Flavor::MultiThread;
        options.workers = Some(n);
    }
    if let Some((f, _)) = flavor {
        options.flavor = f;
    }
    options.start_paused = start_paused.unwrap_or(false);
    Ok(options)
}

/// The tokens with invisible groups opened (a `macro_rules!` passing `$v:literal` wraps it in
/// one).
fn flatten(stream: TokenStream) -> Vec<TokenTree> {
    let mut out = Vec::new();
    for token in stream {
        match token {
            TokenTree::Group(g) if g.delimiter() == Delimiter::None => {
                out.extend(flatten(g.stream()))
            }
            t => out.push(t),
        }
    }
    out
}

fn parse_flavor(value: &TokenTree) -> Result<Flavor, Error> {
    let text = value.to_string();
    match text.as_str() {
        "\"current_thread\"" => Ok(Flavor::CurrentThread),
        "\"multi_thread\"" => Ok(Flavor::MultiThread),
        _ => Err(Error::new(
            value.span(),
            format!("`flavor` is \"current_thread\" or \"multi_thread\", not {text}"),
        )),
    }
}

fn parse_workers(value: &TokenTree) -> Result<usize, Error> {
    let bad = |why: &str| Error::new(value.span(), format!("`workers` {why}, e.g. `workers = 4`"));
    let TokenTree::Literal(lit) = value else {
        return Err(bad("takes an integer literal"));
    };
    let text = lit.to_string();
    let digits = ["usize", "u8", "u16", "u32", "u64", "u128"]
        .iter()
        .find_map(|suffix| text.strip_suffix(suffix))
        .unwrap_or(&text);
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad("takes an integer literal"));
    }
    match digits.parse::<usize>() {
        Ok(0) => Err(bad("must be at least 1")),
        Ok(n) => Ok(n),
        Err(_) => Err(bad("is too large")),
    }
}

fn parse_bool(key: &str, value: &TokenTree) -> Result<bool, Error> {
    match value {
        TokenTree::Ident(i) if i.to_string() == "true" => Ok(true),
        TokenTree::Ident(i) if i.to_string() == "false" => Ok(false),
        _ => Err(Error::new(
            value.span(),
            format!("`{key}` takes `true` or `false`, not {value}"),
        )),
    }
}
