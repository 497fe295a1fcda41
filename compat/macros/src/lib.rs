//! `#[taskio::main]` and `#[taskio::test]`. Use them through the `taskio` crate, whose docs
//! describe them and their options; this crate only rewrites the function.
//!
//! Both turn `async fn NAME() -> R { BODY }` into
//!
//! ```text
//! fn NAME() -> R {
//!     ::taskio::__macros::run::<R, _>(::taskio::__macros::Config { .. }, async move {
//!         let out: R = { BODY };
//!         return out;
//!     })
//! }
//! ```
//!
//! (`#[test]` first, for the test attribute). `run` builds a `taskio::Runner` from the
//! config and runs the body as its main task. The tokens are handled by hand on
//! `proc_macro` (see `item` for the grammar accepted): the crate has no dependencies and
//! builds in about a second.

use proc_macro::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};

mod error;
mod item;
mod options;

use crate::options::{Flavor, Options};

/// Which attribute is being expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    fn attribute(self) -> &'static str {
        match self {
            Kind::Main => "#[taskio::main]",
            Kind::Test => "#[taskio::test]",
        }
    }
}

/// (Defined in the `taskio-macros` crate, re-exported by `taskio`.)
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Main, args, item)
}

/// (Defined in the `taskio-macros` crate, re-exported by `taskio`.)
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Test, args, item)
}

fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let f = match item::parse(kind, item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let mut out = e.to_compile_error();
            if kind == Kind::Main {
                // The item as written (but not `async`, which rustc refuses on `main`),
                // beside the error: else "`main` function not found" would follow it.
                out.extend(item.into_iter().filter(|t| !item::is_ident(t, "async")));
            }
            return out;
        }
    };
    match options::parse(kind, args) {
        Ok(options) => rewrite(kind, f, &options),
        Err(e) => {
            // Still rewritten (with the defaults), so that the only error is the option's.
            let mut out = e.to_compile_error();
            out.extend(rewrite(kind, f, &Options::defaults(kind)));
            out
        }
    }
}

fn parse(code: &str) -> TokenStream {
    code.parse().expect("the macro's own code parses")
}

fn rewrite(kind: Kind, f: item::AsyncFn, options: &Options) -> TokenStream {
    let mut out = TokenStream::new();
    if kind == Kind::Test {
        out.extend(parse("#[::core::prelude::v1::test]"));
    }
    out.extend(f.attrs);
    out.extend(f.vis);
    out.extend([
        TokenTree::Ident(f.fn_token),
        TokenTree::Ident(f.name),
        TokenTree::Group(Group::new(Delimiter::Parenthesis, TokenStream::new())),
    ]);
    let output: TokenStream = if f.output.is_empty() {
        parse("()")
    } else {
        out.extend(parse("->"));
        out.extend(f.output.iter().cloned());
        f.output.into_iter().collect()
    };

    let workers = match options.workers {
        Some(n) => format!("::core::option::Option::Some({n}usize)"),
        None => "::core::option::Option::None".to_owned(),
    };
    let config = format!(
        "::taskio::__macros::Config {{ current_thread: {}, workers: {workers}, \
         start_paused: {} }}, async move",
        options.flavor == Flavor::CurrentThread,
        options.start_paused,
    );
    // `async move { let out: R = { BODY }; return out; }`: the body is checked against `R`
    // itself, so a wrong value is reported at the user's expression, not at the attribute.
    // The `allow` is on the `return` alone (a body that diverges makes it unreachable), so
    // the user's code keeps every lint.
    let out_var = || TokenTree::Ident(Ident::new("_taskio_out", Span::mixed_site()));
    let mut block = parse("let");
    block.extend([out_var(), TokenTree::Punct(Punct::new(':', Spacing::Alone))]);
    block.extend(output.clone());
    block.extend([
        TokenTree::Punct(Punct::new('=', Spacing::Alone)),
        TokenTree::Group(f.body.clone()),
        TokenTree::Punct(Punct::new(';', Spacing::Alone)),
    ]);
    block.extend(parse(
        "#[allow(unreachable_code, clippy::needless_return)] return",
    ));
    block.extend([out_var(), TokenTree::Punct(Punct::new(';', Spacing::Alone))]);
    let mut args = parse(&config);
    args.extend([TokenTree::Group(Group::new(Delimiter::Brace, block))]);

    let mut call = parse("::taskio::__macros::run::<");
    call.extend(output);
    call.extend(parse(", _>"));
    call.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, args))]);
    let mut body = Group::new(Delimiter::Brace, call);
    body.set_span(f.body.span());
    out.extend([TokenTree::Group(body)]);
    out
}
