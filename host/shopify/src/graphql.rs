//! Just enough GraphQL to read the one-root-field documents this crate
//! sends: the operation kind, the variable definitions, the root field with
//! its arguments and directives, and nested field arguments by name. It is
//! not a GraphQL engine and does not look at selection sets beyond that.
//!
//! The emulator dispatches on it; the client uses [`estimate_cost`] (the
//! same rule the emulator charges by) to pace a request before Shopify has
//! told it what the request costs.

use std::collections::BTreeMap;

use serde_json::Value;

/// `query` or `mutation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// `query`.
    Query,
    /// `mutation`.
    Mutation,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    Name(&'a str),
    Var(&'a str),
    Str(String),
    Num(&'a str),
    Punct(char),
    Spread,
    At,
}

/// A type in a variable definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeRef {
    /// `Name` or `Name!`.
    Named {
        /// The type's name.
        name: String,
        /// Ends with `!`.
        non_null: bool,
    },
    /// `[Of]` or `[Of]!`.
    List {
        /// The element type.
        of: Box<TypeRef>,
        /// Ends with `!`.
        non_null: bool,
    },
}

impl TypeRef {
    fn non_null(&self) -> bool {
        match self {
            TypeRef::Named { non_null, .. } | TypeRef::List { non_null, .. } => *non_null,
        }
    }
}

impl std::fmt::Display for TypeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bang = if self.non_null() { "!" } else { "" };
        match self {
            TypeRef::Named { name, .. } => write!(f, "{name}{bang}"),
            TypeRef::List { of, .. } => write!(f, "[{of}]{bang}"),
        }
    }
}

/// An argument value: a variable reference or a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// `$name`.
    Var(String),
    /// A literal value.
    Literal(Value),
}

/// A parsed document with one operation and one root field.
#[derive(Debug)]
pub struct Document<'a> {
    /// Query or mutation.
    pub kind: OpKind,
    /// The variable definitions: name, type, default.
    pub var_defs: Vec<(String, TypeRef, Option<Value>)>,
    /// The one root field.
    pub root_field: &'a str,
    /// The root field's arguments.
    pub root_args: BTreeMap<String, Arg>,
    /// The root field's directives and their arguments (`@idempotent(key:)`).
    pub directives: BTreeMap<String, BTreeMap<String, Arg>>,
    toks: Vec<Tok<'a>>,
}

const MAX_DOCUMENT_BYTES: usize = 64 << 10;
const MAX_DEPTH: usize = 32;

fn lex(doc: &str) -> Result<Vec<Tok<'_>>, String> {
    if doc.len() > MAX_DOCUMENT_BYTES {
        return Err("query is too large".into());
    }
    let b = doc.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let name_end = |mut j: usize| {
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
            j += 1;
        }
        j
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'{' | b'}' | b'(' | b')' | b'[' | b']' | b':' | b'!' | b'=' | b'|' | b'&' => {
                out.push(Tok::Punct(c as char));
                i += 1;
            }
            b'@' => {
                out.push(Tok::At);
                i += 1;
            }
            b'.' if doc[i..].starts_with("...") => {
                out.push(Tok::Spread);
                i += 3;
            }
            b'$' => {
                let end = name_end(i + 1);
                if end == i + 1 {
                    return Err(format!("expected a variable name at offset {i}"));
                }
                out.push(Tok::Var(&doc[i + 1..end]));
                i = end;
            }
            b'"' => {
                if doc[i..].starts_with("\"\"\"") {
                    return Err("block strings are not supported".into());
                }
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    let Some(&ch) = b.get(j) else {
                        return Err("unterminated string".into());
                    };
                    match ch {
                        b'"' => break,
                        b'\\' => {
                            let esc = *b.get(j + 1).ok_or("unterminated string")?;
                            match esc {
                                b'"' => s.push('"'),
                                b'\\' => s.push('\\'),
                                b'/' => s.push('/'),
                                b'n' => s.push('\n'),
                                b't' => s.push('\t'),
                                b'r' => s.push('\r'),
                                _ => return Err("unsupported string escape".into()),
                            }
                            j += 2;
                        }
                        b'\n' => return Err("unterminated string".into()),
                        _ => {
                            // Copy one whole UTF-8 character.
                            let ch_len = doc[j..].chars().next().map_or(1, char::len_utf8);
                            s.push_str(&doc[j..j + ch_len]);
                            j += ch_len;
                        }
                    }
                }
                out.push(Tok::Str(s));
                i = j + 1;
            }
            b'-' | b'0'..=b'9' => {
                let mut j = i + 1;
                while j < b.len()
                    && (b[j].is_ascii_digit() || b[j] == b'.' || b[j] == b'e' || b[j] == b'E')
                {
                    j += 1;
                }
                out.push(Tok::Num(&doc[i..j]));
                i = j;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = name_end(i);
                out.push(Tok::Name(&doc[i..end]));
                i = end;
            }
            _ => return Err(format!("unexpected character at offset {i}")),
        }
    }
    Ok(out)
}

struct Parser<'t, 'a> {
    toks: &'t [Tok<'a>],
    pos: usize,
}

impl<'a> Parser<'_, 'a> {
    fn peek(&self) -> Option<&Tok<'a>> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok<'a>> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected `{c}`"))
        }
    }

    fn name(&mut self) -> Result<&'a str, String> {
        match self.next() {
            Some(Tok::Name(n)) => Ok(n),
            _ => Err("expected a name".into()),
        }
    }

    fn type_ref(&mut self, depth: usize) -> Result<TypeRef, String> {
        if depth > MAX_DEPTH {
            return Err("type is nested too deeply".into());
        }
        let t = if self.eat('[') {
            let of = self.type_ref(depth + 1)?;
            self.expect(']')?;
            TypeRef::List {
                of: Box::new(of),
                non_null: false,
            }
        } else {
            TypeRef::Named {
                name: self.name()?.to_string(),
                non_null: false,
            }
        };
        Ok(match (t, self.eat('!')) {
            (TypeRef::Named { name, .. }, nn) => TypeRef::Named { name, non_null: nn },
            (TypeRef::List { of, .. }, nn) => TypeRef::List { of, non_null: nn },
        })
    }

    fn value(&mut self, depth: usize) -> Result<Arg, String> {
        if depth > MAX_DEPTH {
            return Err("value is nested too deeply".into());
        }
        Ok(match self.next() {
            Some(Tok::Var(v)) => Arg::Var(v.to_string()),
            Some(Tok::Str(s)) => Arg::Literal(Value::String(s)),
            Some(Tok::Num(n)) => {
                let v: Value = serde_json::from_str(n).map_err(|_| format!("bad number `{n}`"))?;
                Arg::Literal(v)
            }
            Some(Tok::Name("true")) => Arg::Literal(Value::Bool(true)),
            Some(Tok::Name("false")) => Arg::Literal(Value::Bool(false)),
            Some(Tok::Name("null")) => Arg::Literal(Value::Null),
            Some(Tok::Name(enum_value)) => Arg::Literal(Value::String(enum_value.to_string())),
            Some(Tok::Punct('[')) => {
                let mut items = Vec::new();
                while !self.eat(']') {
                    match self.value(depth + 1)? {
                        Arg::Literal(v) => items.push(v),
                        Arg::Var(_) => {
                            return Err("variables inside list literals are not supported".into());
                        }
                    }
                }
                Arg::Literal(Value::Array(items))
            }
            Some(Tok::Punct('{')) => {
                let mut obj = serde_json::Map::new();
                while !self.eat('}') {
                    let k = self.name()?;
                    self.expect(':')?;
                    match self.value(depth + 1)? {
                        Arg::Literal(v) => obj.insert(k.to_string(), v),
                        Arg::Var(_) => {
                            return Err("variables inside object literals are not supported".into());
                        }
                    };
                }
                Arg::Literal(Value::Object(obj))
            }
            _ => return Err("expected a value".into()),
        })
    }

    fn args(&mut self) -> Result<BTreeMap<String, Arg>, String> {
        let mut out = BTreeMap::new();
        if self.eat('(') {
            while !self.eat(')') {
                let k = self.name()?;
                self.expect(':')?;
                let v = self.value(0)?;
                out.insert(k.to_string(), v);
            }
        }
        Ok(out)
    }
}

/// Parse a document of one operation with one root field.
pub fn parse(doc: &str) -> Result<Document<'_>, String> {
    let toks = lex(doc)?;
    let mut p = Parser {
        toks: &toks,
        pos: 0,
    };
    let kind = match p.peek() {
        Some(Tok::Name("query")) => {
            p.pos += 1;
            OpKind::Query
        }
        Some(Tok::Name("mutation")) => {
            p.pos += 1;
            OpKind::Mutation
        }
        Some(Tok::Name("subscription")) => return Err("subscriptions are not supported".into()),
        Some(Tok::Punct('{')) => OpKind::Query,
        _ => return Err("expected `query`, `mutation` or `{`".into()),
    };
    if let Some(Tok::Name(_)) = p.peek() {
        p.pos += 1; // operation name
    }
    let mut var_defs = Vec::new();
    if p.eat('(') {
        while !p.eat(')') {
            let name = match p.next() {
                Some(Tok::Var(v)) => v.to_string(),
                _ => return Err("expected a variable definition like `$id: ID!`".into()),
            };
            p.expect(':')?;
            let ty = p.type_ref(0)?;
            let default = if p.eat('=') {
                match p.value(0)? {
                    Arg::Literal(v) => Some(v),
                    Arg::Var(_) => return Err("a default value cannot be a variable".into()),
                }
            } else {
                None
            };
            if var_defs.iter().any(|(n, _, _)| *n == name) {
                return Err(format!("variable ${name} is defined twice"));
            }
            var_defs.push((name, ty, default));
        }
    }
    p.expect('{')?;
    let mut root_field = p.name()?;
    if p.eat(':') {
        root_field = p.name()?; // alias
    }
    let root_args = p.args()?;
    let mut directives = BTreeMap::new();
    while p.peek() == Some(&Tok::At) {
        p.pos += 1;
        let name = p.name()?;
        directives.insert(name.to_string(), p.args()?);
    }
    // The rest is the selection set; check it balances and holds no second
    // root field or operation.
    let mut depth = 1usize;
    if p.eat('{') {
        depth += 1;
    }
    while depth > 0 {
        match p.next() {
            Some(Tok::Punct('{')) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err("selection is nested too deeply".into());
                }
            }
            Some(Tok::Punct('}')) => {
                depth -= 1;
                if depth == 1 && p.peek() != Some(&Tok::Punct('}')) {
                    return Err("only one root field per document is supported".into());
                }
            }
            Some(_) => {}
            None => return Err("unbalanced braces".into()),
        }
    }
    if p.pos != toks.len() {
        return Err("only one operation per document is supported".into());
    }
    Ok(Document {
        kind,
        var_defs,
        root_field,
        root_args,
        directives,
        toks,
    })
}

impl Document<'_> {
    /// The arguments of the first field called `field` anywhere in the
    /// selection (e.g. `metafield(namespace: $ns, key: $key)`).
    pub fn field_args(&self, field: &str) -> Option<BTreeMap<String, Arg>> {
        let at = self
            .toks
            .windows(2)
            .position(|w| w[0] == Tok::Name(field) && w[1] == Tok::Punct('('))?;
        let mut p = Parser {
            toks: &self.toks,
            pos: at + 1,
        };
        p.args().ok()
    }

    /// Whether a field named `field` is selected anywhere.
    pub fn selects(&self, field: &str) -> bool {
        self.toks.contains(&Tok::Name(field))
    }

    /// Every `$variable` the document uses outside its definitions.
    pub fn used_variables(&self) -> Vec<&str> {
        let defs_end = self
            .toks
            .iter()
            .position(|t| *t == Tok::Punct('{'))
            .unwrap_or(0);
        let mut used: Vec<&str> = self.toks[defs_end..]
            .iter()
            .filter_map(|t| if let Tok::Var(v) = t { Some(*v) } else { None })
            .collect();
        used.sort_unstable();
        used.dedup();
        used
    }

    /// The `first: N` page sizes of the connections selected.
    fn page_sizes(&self) -> impl Iterator<Item = u64> + '_ {
        self.toks.windows(3).filter_map(|w| match w {
            [Tok::Name("first"), Tok::Punct(':'), Tok::Num(n)] => n.parse::<u64>().ok(),
            _ => None,
        })
    }
}

/// The requested cost of a document, by a simplified version of Shopify's
/// calculated query cost: a mutation costs 10; a query costs 1 plus the page
/// size of every connection it selects. The emulator charges exactly this;
/// real Shopify computes its own figure, which the client learns from each
/// response's `requestedQueryCost` and prefers once known.
pub fn estimate_cost(doc: &Document<'_>) -> u64 {
    match doc.kind {
        OpKind::Mutation => 10,
        OpKind::Query => 1 + doc.page_sizes().map(|n| n.min(250)).sum::<u64>(),
    }
}

/// Resolve an argument against the request's variables (a missing variable
/// reads as `null`, the definition's default first).
pub fn resolve(doc: &Document<'_>, arg: &Arg, variables: &serde_json::Map<String, Value>) -> Value {
    match arg {
        Arg::Literal(v) => v.clone(),
        Arg::Var(name) => match variables.get(name) {
            Some(v) => v.clone(),
            None => doc
                .var_defs
                .iter()
                .find(|(n, _, _)| n == name)
                .and_then(|(_, _, d)| d.clone())
                .unwrap_or(Value::Null),
        },
    }
}

/// One problem with a variable's value: the path inside it and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The variable.
    pub variable: String,
    /// Its declared type.
    pub type_name: String,
    /// Where inside its value.
    pub path: Vec<String>,
    /// Why.
    pub explanation: String,
}

const SCALARS: &[&str] = &[
    "ID",
    "String",
    "Boolean",
    "Int",
    "Float",
    "Money",
    "Decimal",
    "DateTime",
    "URL",
    "UnsignedInt64",
    "JSON",
];

/// Check every defined variable's value against its declared type (scalars,
/// lists, nullability; input objects must be objects, enums strings), and
/// that every used variable is defined.
pub fn check_variables(
    doc: &Document<'_>,
    variables: &serde_json::Map<String, Value>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for used in doc.used_variables() {
        if !doc.var_defs.iter().any(|(n, _, _)| n == used) {
            problems.push(Problem {
                variable: used.to_string(),
                type_name: String::new(),
                path: vec![],
                explanation: format!("Variable ${used} is used but not declared"),
            });
        }
    }
    for (name, ty, default) in &doc.var_defs {
        let value = variables
            .get(name)
            .or(default.as_ref())
            .unwrap_or(&Value::Null);
        let mut path = Vec::new();
        check_value(ty, value, &mut path, &mut |path, explanation| {
            problems.push(Problem {
                variable: name.clone(),
                type_name: ty.to_string(),
                path,
                explanation,
            });
        });
    }
    problems
}

fn check_value(
    ty: &TypeRef,
    v: &Value,
    path: &mut Vec<String>,
    report: &mut dyn FnMut(Vec<String>, String),
) {
    if v.is_null() {
        if ty.non_null() {
            report(path.clone(), "Expected value to not be null".into());
        }
        return;
    }
    match ty {
        TypeRef::List { of, .. } => match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(i.to_string());
                    check_value(of, item, path, report);
                    path.pop();
                }
            }
            // GraphQL coerces a single value into a list of one.
            other => check_value(of, other, path, report),
        },
        TypeRef::Named { name, .. } => {
            let ok = match name.as_str() {
                "ID" => v.is_string() || v.is_u64(),
                "String" | "URL" | "JSON" => v.is_string(),
                "DateTime" => v
                    .as_str()
                    .is_some_and(|s| shopcase_contract::time::parse(s).is_ok()),
                "Boolean" => v.is_boolean(),
                "Int" => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
                "Float" => v.is_number(),
                "Money" | "Decimal" | "UnsignedInt64" => {
                    v.is_number()
                        || v.as_str()
                            .is_some_and(|s| crate::money::Amount::parse(s).is_some())
                }
                n if n.ends_with("Input") => v.is_object(),
                // Enums: the handler checks the value itself.
                n if !SCALARS.contains(&n) && n.chars().next().is_some_and(char::is_uppercase) => {
                    v.is_string()
                }
                _ => false,
            };
            if !ok {
                report(
                    path.clone(),
                    format!("Could not coerce value {} to {name}", clip(v)),
                );
            }
        }
    }
}

fn clip(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const HOLD: &str = "mutation Hold($id: ID!, $fulfillmentHold: FulfillmentOrderHoldInput!) {
        fulfillmentOrderHold(id: $id, fulfillmentHold: $fulfillmentHold) {
            fulfillmentHold { id handle } userErrors { field message code }
        }
    }";

    #[test]
    fn reads_kind_root_field_args_and_directives() {
        let d = parse(HOLD).unwrap();
        assert_eq!(d.kind, OpKind::Mutation);
        assert_eq!(d.root_field, "fulfillmentOrderHold");
        assert_eq!(d.root_args["id"], Arg::Var("id".into()));
        assert_eq!(d.var_defs.len(), 2);
        assert_eq!(d.var_defs[1].1.to_string(), "FulfillmentOrderHoldInput!");
        assert_eq!(estimate_cost(&d), 10);

        let r = parse(r#"mutation R($input: RefundInput!) { refundCreate(input: $input) @idempotent(key: "abc-1") { refund { id } } }"#)
            .unwrap();
        assert_eq!(
            r.directives["idempotent"]["key"],
            Arg::Literal(json!("abc-1"))
        );

        let q = parse(
            "query H($id: ID!) { customer(id: $id) { id orders(first: 20, sortKey: CREATED_AT, reverse: true) { nodes { id } } metafield(namespace: \"a\", key: $k) { value } ... on Customer { id } } }",
        )
        .unwrap();
        assert_eq!(q.kind, OpKind::Query);
        assert_eq!(estimate_cost(&q), 21);
        let mf = q.field_args("metafield").unwrap();
        assert_eq!(mf["namespace"], Arg::Literal(json!("a")));
        assert_eq!(mf["key"], Arg::Var("k".into()));
        assert!(q.selects("orders"));
        assert_eq!(q.used_variables(), vec!["id", "k"]);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [
            "",
            "subscription { x }",
            "query { a { b } c { d } }",
            "query { a } query { b }",
            "query { a(x: \"unterminated) }",
            "query { a { b }",
            "query ($a: ID!, $a: ID!) { x }",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = format!("query {{ a {}{} }}", "{ b ".repeat(40), "}".repeat(40));
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn checks_variables_against_their_types() {
        let d = parse(HOLD).unwrap();
        let ok = json!({"id": "gid://shopify/FulfillmentOrder/1", "fulfillmentHold": {"reason": "OTHER"}});
        assert!(check_variables(&d, ok.as_object().unwrap()).is_empty());
        let bad = json!({"fulfillmentHold": "nope"});
        let p = check_variables(&d, bad.as_object().unwrap());
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].variable, "id");
        assert_eq!(p[0].explanation, "Expected value to not be null");
        assert!(
            p[1].explanation.contains("FulfillmentOrderHoldInput"),
            "{p:?}"
        );

        let t = parse("mutation T($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id } } }").unwrap();
        let p = check_variables(
            &t,
            json!({"id": "x", "tags": ["a", 3]}).as_object().unwrap(),
        );
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].path, vec!["1"]);

        let u = parse("query Q { order(id: $missing) { id } }").unwrap();
        assert_eq!(
            check_variables(&u, &serde_json::Map::new())[0].explanation,
            "Variable $missing is used but not declared"
        );
    }
}
