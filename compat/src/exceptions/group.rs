//! Operations on exception groups: the leaves of a tree of groups and asyncio's
//! `ExceptionGroup.split`.

use super::{Error, ExceptionGroup, Repr};

impl Error {
    /// Every non-group error in this error, depth first (itself, if it is not a group).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio::Error;
    /// let g = Error::group("a", vec![Error::timeout(), Error::group("b", vec![Error::msg("x")])]);
    /// let leaves = g.leaves();
    /// assert_eq!(leaves.len(), 2);
    /// assert!(leaves[0].is_timeout());
    /// ```
    pub fn leaves(&self) -> Vec<&Error> {
        let mut out = Vec::new();
        self.collect_leaves(&mut out);
        out
    }

    fn collect_leaves<'a>(&'a self, out: &mut Vec<&'a Error>) {
        match self.as_group() {
            Some(g) => g.errors.iter().for_each(|e| e.collect_leaves(out)),
            None => out.push(self),
        }
    }

    /// `ExceptionGroup.split`: the part of this error whose leaves match `pred`, and the
    /// rest, keeping the group structure and messages. Either side is `None` when empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio::Error;
    /// let g = Error::group("g", vec![Error::timeout(), Error::msg("x"), Error::timeout()]);
    /// let (timeouts, rest) = g.split(|e| e.is_timeout());
    /// assert_eq!(timeouts.unwrap().leaves().len(), 2);
    /// assert_eq!(rest.unwrap().leaves().len(), 1);
    /// ```
    pub fn split<F>(&self, mut pred: F) -> (Option<Error>, Option<Error>)
    where
        F: FnMut(&Error) -> bool,
    {
        self.split_with(&mut pred)
    }

    fn split_with(&self, pred: &mut dyn FnMut(&Error) -> bool) -> (Option<Error>, Option<Error>) {
        let Repr::Group(ExceptionGroup { message, errors }) = &self.inner.repr else {
            return if pred(self) {
                (Some(self.clone()), None)
            } else {
                (None, Some(self.clone()))
            };
        };
        let (mut matched, mut rest) = (Vec::new(), Vec::new());
        for e in errors {
            let (m, r) = e.split_with(pred);
            matched.extend(m);
            rest.extend(r);
        }
        let rebuild = |part: Vec<Error>| {
            if part.is_empty() {
                None
            } else if part.len() == errors.len()
                && part.iter().zip(errors).all(|(p, e)| p.ptr_eq(e))
            {
                // Every child went to this side whole: the group itself did.
                Some(self.clone())
            } else {
                Some(Error::group(message.clone(), part))
            }
        };
        (rebuild(matched), rebuild(rest))
    }
}
