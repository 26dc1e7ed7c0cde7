//! A unified-style line diff (`-` expected, `+` actual, three lines of
//! context, `@@` hunk headers), for showing why a fixture failed.
//!
//! Longest common subsequence by dynamic programming: the documents are
//! pretty-printed JSON of one fixture's outcome, a few hundred lines at most.
//! Past [`MAX_CELLS`] the diff degrades to printing both sides whole rather
//! than using quadratic memory.

use std::fmt::Write as _;

/// Lines of unchanged context around each change.
const CONTEXT: usize = 3;
/// The largest `expected × actual` line product diffed line by line.
const MAX_CELLS: usize = 4_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same,
    Removed,
    Added,
}

/// The diff of `expected` against `actual`, empty if they are equal.
pub(crate) fn unified(expected: &str, actual: &str) -> String {
    if expected == actual {
        return String::new();
    }
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    if a.len().saturating_mul(b.len()) > MAX_CELLS {
        let mut out = String::from("--- expected\n+++ actual\n");
        a.iter()
            .for_each(|l| writeln!(out, "-{l}").unwrap_or_default());
        b.iter()
            .for_each(|l| writeln!(out, "+{l}").unwrap_or_default());
        return out;
    }
    let script = edit_script(&a, &b);
    render(&script)
}

/// Each line of both documents tagged same, removed or added, in order.
fn edit_script<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<(Op, &'a str)> {
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: length of the LCS of a[i..] and b[j..].
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[at(i, j)] = if a[i] == b[j] {
                lcs[at(i + 1, j + 1)] + 1
            } else {
                lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(n + m);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push((Op::Same, a[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[at(i + 1, j)] >= lcs[at(i, j + 1)]) {
            // Removals before additions, as `diff -u` prints them.
            out.push((Op::Removed, a[i]));
            i += 1;
        } else {
            out.push((Op::Added, b[j]));
            j += 1;
        }
    }
    out
}

/// Group changes into hunks with context, numbered like `diff -u`.
fn render(script: &[(Op, &str)]) -> String {
    let changed: Vec<usize> = script
        .iter()
        .enumerate()
        .filter(|(_, (op, _))| *op != Op::Same)
        .map(|(i, _)| i)
        .collect();
    let mut out = String::from("--- expected\n+++ actual\n");
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(CONTEXT);
        let mut end = changed[k];
        // Extend the hunk while the next change is within twice the context.
        while k + 1 < changed.len() && changed[k + 1] <= end + 2 * CONTEXT + 1 {
            k += 1;
            end = changed[k];
        }
        let end = (end + CONTEXT + 1).min(script.len());
        let line_of = |op_filter: Op| {
            script[..start]
                .iter()
                .filter(|(op, _)| *op == Op::Same || *op == op_filter)
                .count()
                + 1
        };
        let count = |op_filter: Op| {
            script[start..end]
                .iter()
                .filter(|(op, _)| *op == Op::Same || *op == op_filter)
                .count()
        };
        let _ = writeln!(
            out,
            "@@ -{},{} +{},{} @@",
            line_of(Op::Removed),
            count(Op::Removed),
            line_of(Op::Added),
            count(Op::Added)
        );
        for (op, line) in &script[start..end] {
            let sign = match op {
                Op::Same => ' ',
                Op::Removed => '-',
                Op::Added => '+',
            };
            let _ = writeln!(out, "{sign}{line}");
        }
        k += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_documents_have_no_diff() {
        assert_eq!(unified("a\nb\n", "a\nb\n"), "");
    }

    #[test]
    fn a_changed_line_is_shown_with_context() {
        let expected = "1\n2\n3\n4\n5\nold\n7\n8\n9\n10\n11\n";
        let actual = "1\n2\n3\n4\n5\nnew\n7\n8\n9\n10\n11\n";
        assert_eq!(
            unified(expected, actual),
            "--- expected\n+++ actual\n@@ -3,7 +3,7 @@\n 3\n 4\n 5\n-old\n+new\n 7\n 8\n 9\n"
        );
    }

    #[test]
    fn far_apart_changes_make_two_hunks_and_insertions_count() {
        let expected: String = (1..=20).map(|i| format!("l{i}\n")).collect();
        let actual = expected
            .replace("l2\n", "two\n")
            .replace("l18\n", "l18\nextra\n");
        let d = unified(&expected, &actual);
        assert_eq!(d.matches("@@ ").count(), 2, "{d}");
        assert!(d.contains("-l2\n+two\n"), "{d}");
        assert!(d.contains(" l18\n+extra\n l19\n"), "{d}");
        assert!(d.contains("@@ -16,5 +16,6 @@"), "{d}");
    }

    #[test]
    fn one_side_empty() {
        assert_eq!(
            unified("", "x\n"),
            "--- expected\n+++ actual\n@@ -1,0 +1,1 @@\n+x\n"
        );
    }
}
