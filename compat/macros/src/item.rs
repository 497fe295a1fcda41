//! The parts of the `async fn` the attribute is on.
//!
//! The grammar accepted is a subset of a function item, enough for a `main` or a test:
//!
//! ```text
//! (#[attr])* (pub | pub(...))? async fn NAME () (-> TYPE)? { BODY }
//! ```
//!
//! Generics, parameters, a `where` clause and the qualifiers `const`, `unsafe` and `extern`
//! are errors: neither `main` nor a `#[test]` can have them.

use proc_macro::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};

use crate::error::Error;
use crate::Kind;

/// A parsed `async fn`: every part keeps the user's tokens and spans.
#[derive(Debug)]
pub(crate) struct AsyncFn {
    /// The outer attributes, `#` and `[...]` each.
    pub(crate) attrs: Vec<TokenTree>,
    /// `pub`, `pub(crate)`, ... or nothing.
    pub(crate) vis: Vec<TokenTree>,
    pub(crate) fn_token: Ident,
    pub(crate) name: Ident,
    /// The tokens after `->`; empty for `()`.
    pub(crate) output: Vec<TokenTree>,
    pub(crate) body: Group,
}

fn is_punct(token: &TokenTree, c: char) -> bool {
    matches!(token, TokenTree::Punct(p) if p.as_char() == c)
}

pub(crate) fn is_ident(token: &TokenTree, name: &str) -> bool {
    matches!(token, TokenTree::Ident(i) if i.to_string() == name)
}

/// Whether an attribute's `[...]` is `[test]` (the attribute `#[taskio::test]` adds).
fn is_test_attr(group: &Group) -> bool {
    let inner: Vec<TokenTree> = group.stream().into_iter().collect();
    inner.len() == 1 && is_ident(&inner[0], "test")
}

pub(crate) fn parse(kind: Kind, item: TokenStream) -> Result<AsyncFn, Error> {
    let what = kind.attribute();
    let tokens: Vec<TokenTree> = item.into_iter().collect();
    let mut i = 0;

    let mut attrs = Vec::new();
    while i + 1 < tokens.len() && is_punct(&tokens[i], '#') {
        let TokenTree::Group(g) = &tokens[i + 1] else {
            break;
        };
        if g.delimiter() != Delimiter::Bracket {
            break;
        }
        if kind == Kind::Test && is_test_attr(g) {
            return Err(Error::new(
                g.span(),
                "`#[taskio::test]` already makes this a `#[test]`; remove this attribute",
            ));
        }
        attrs.extend_from_slice(&tokens[i..i + 2]);
        i += 2;
    }

    let mut vis = Vec::new();
    if tokens.get(i).is_some_and(|t| is_ident(t, "pub")) {
        vis.push(tokens[i].clone());
        i += 1;
        if let Some(TokenTree::Group(g)) = tokens.get(i) {
            if g.delimiter() == Delimiter::Parenthesis {
                vis.push(tokens[i].clone());
                i += 1;
            }
        }
    }

    let mut asyncness = false;
    let fn_token = loop {
        match tokens.get(i) {
            Some(TokenTree::Ident(id)) if id.to_string() == "fn" => break id.clone(),
            Some(t) if is_ident(t, "async") => asyncness = true,
            Some(t) if ["unsafe", "const", "extern"].iter().any(|q| is_ident(t, q)) => {
                return Err(Error::new(
                    t.span(),
                    format!("`{what}` does not take `{t}` functions"),
                ));
            }
            Some(t) => {
                return Err(Error::new(
                    t.span(),
                    format!("`{what}` goes on an `async fn`"),
                ));
            }
            None => {
                return Err(Error::new(
                    Span::call_site(),
                    format!("`{what}` goes on an `async fn`"),
                ));
            }
        }
        i += 1;
    };
    i += 1;
    if !asyncness {
        return Err(Error::new(
            fn_token.span(),
            format!("`{what}` goes on an `async fn`: add `async` before `fn`"),
        ));
    }

    let Some(TokenTree::Ident(name)) = tokens.get(i) else {
        return Err(Error::new(fn_token.span(), "expected the function's name"));
    };
    let name = name.clone();
    i += 1;

    match tokens.get(i) {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
            if !g.stream().is_empty() {
                let why = match kind {
                    Kind::Main => "`main` takes no arguments",
                    Kind::Test => "a test function takes no arguments",
                };
                return Err(Error::new(g.span(), why));
            }
        }
        Some(t) if is_punct(t, '<') => {
            return Err(Error::new(
                t.span(),
                format!("`{what}` does not take generic functions"),
            ));
        }
        other => {
            let span = other.map_or(name.span(), |t| t.span());
            return Err(Error::new(span, "expected `()` after the function's name"));
        }
    }
    i += 1;

    let Some(TokenTree::Group(body)) = tokens.last() else {
        return Err(Error::new(name.span(), "expected the function's body"));
    };
    if body.delimiter() != Delimiter::Brace || i >= tokens.len() {
        return Err(Error::new(body.span(), "expected the function's body"));
    }
    let between = &tokens[i..tokens.len() - 1];
    let output = match between {
        [] => Vec::new(),
        [dash, gt, output @ ..] if is_punct(dash, '-') && is_punct(gt, '>') => {
            if let Some(w) = output.iter().find(|t| is_ident(t, "where")) {
                return Err(Error::new(
                    w.span(),
                    format!("`{what}` does not take a `where` clause"),
                ));
            }
            if output.is_empty() {
                return Err(Error::new(gt.span(), "expected a return type after `->`"));
            }
            output.to_vec()
        }
        [t, ..] => {
            return Err(Error::new(t.span(), "expected `->` or the function's body"));
        }
    };

    Ok(AsyncFn {
        attrs,
        vis,
        fn_token,
        name,
        output,
        body: body.clone(),
    })
}
