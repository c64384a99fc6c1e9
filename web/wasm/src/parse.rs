//! The page's little language: one statement per line (or separated by `;`).
//!
//! ```text
//! apple = 100                      # a number assigned to a name: a leaf you can drag
//! apple_price = apple * count      # any other expression: a named intermediate node
//! (a*b + c).relu() * d             # names never assigned are leaves starting at 1
//! ```
//!
//! Expressions: `+ - * /`, unary `-`, `**` (power), numbers, names, parentheses, and the
//! methods (or functions) `relu tanh sigmoid exp ln log pow`. The last statement is the root
//! that `backward` starts from. Errors carry the byte offset, line and column they point at.
//!
//! The parser is recursive descent; nesting deeper than [`MAX_DEPTH`] is an error, so user
//! input cannot overflow the stack.

use std::fmt;

/// The deepest nesting of parentheses, calls and unary minus the parser accepts.
pub const MAX_DEPTH: usize = 64;

/// A syntax error: what is wrong and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong, as a sentence fragment (`expected ')' …`).
    pub message: String,
    /// Byte offset into the source.
    pub offset: usize,
    /// Line, from 1.
    pub line: usize,
    /// Column (in characters), from 1.
    pub column: usize,
}

impl ParseError {
    pub(crate) fn at(src: &str, offset: usize, message: impl Into<String>) -> Self {
        let offset = offset.min(src.len());
        let before = &src[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        ParseError {
            message: message.into(),
            offset,
            line,
            column,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// A one-input function or method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// `relu`
    Relu,
    /// `tanh`
    Tanh,
    /// `sigmoid`
    Sigmoid,
    /// `exp`
    Exp,
    /// `ln` (also `log`)
    Ln,
    /// `pow(k)`: takes one argument besides the receiver.
    Pow,
}

impl Func {
    fn from_name(name: &str) -> Option<Func> {
        Some(match name {
            "relu" => Func::Relu,
            "tanh" => Func::Tanh,
            "sigmoid" => Func::Sigmoid,
            "exp" => Func::Exp,
            "ln" | "log" => Func::Ln,
            "pow" => Func::Pow,
            _ => return None,
        })
    }

    /// How many arguments besides the receiver.
    fn extra_args(self) -> usize {
        usize::from(self == Func::Pow)
    }
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `**`
    Pow,
}

/// An expression, with the byte offset where it starts.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A number literal: a constant.
    Num(f64, usize),
    /// A name: a leaf or an earlier statement's node.
    Name(String, usize),
    /// `-x`
    Neg(Box<Expr>, usize),
    /// `x ∘ y`
    Binary(BinOp, Box<Expr>, Box<Expr>, usize),
    /// `x.f()`, `f(x)`, `x.pow(k)`, `pow(x, k)`
    Call(Func, Box<Expr>, Option<Box<Expr>>, usize),
}

impl Expr {
    /// Where the expression starts.
    pub fn offset(&self) -> usize {
        match *self {
            Expr::Num(_, o)
            | Expr::Name(_, o)
            | Expr::Neg(_, o)
            | Expr::Binary(_, _, _, o)
            | Expr::Call(_, _, _, o) => o,
        }
    }

    /// The value of a literal number, or of `-` a literal number.
    pub fn literal(&self) -> Option<f64> {
        match self {
            Expr::Num(v, _) => Some(*v),
            Expr::Neg(e, _) => match **e {
                Expr::Num(v, _) => Some(-v),
                _ => None,
            },
            _ => None,
        }
    }
}

/// One statement: `name = expr` or a bare `expr`.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// The assigned name and its offset.
    pub name: Option<(String, usize)>,
    /// The right-hand side.
    pub expr: Expr,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Sym(&'static str),
    /// A statement separator: `;` or a newline outside parentheses.
    Sep,
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Num(v) => format!("the number {v}"),
            Tok::Ident(s) => format!("the name `{s}`"),
            Tok::Sym(s) => format!("`{s}`"),
            Tok::Sep => "the end of the statement".into(),
            Tok::End => "the end of the input".into(),
        }
    }
}

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut depth = 0usize;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\r' => i += 1,
            b'\n' => {
                if depth == 0 {
                    out.push((Tok::Sep, i));
                }
                i += 1;
            }
            b';' => {
                out.push((Tok::Sep, i));
                i += 1;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'0'..=b'9' | b'.' if c != b'.' || bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                    i += 1;
                }
                if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                    let mut j = i + 1;
                    if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
                        j += 1;
                    }
                    if j < bytes.len() && bytes[j].is_ascii_digit() {
                        i = j;
                        while i < bytes.len() && bytes[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                }
                let text = &src[start..i];
                let v: f64 = text
                    .parse()
                    .map_err(|_| ParseError::at(src, start, format!("`{text}` is not a number")))?;
                out.push((Tok::Num(v), start));
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.push((Tok::Ident(src[start..i].to_string()), start));
            }
            _ => {
                let two = src.get(i..i + 2);
                let sym = if two == Some("**") {
                    "**"
                } else {
                    match c {
                        b'+' => "+",
                        b'-' => "-",
                        b'*' => "*",
                        b'/' => "/",
                        b'(' => "(",
                        b')' => ")",
                        b'.' => ".",
                        b',' => ",",
                        b'=' => "=",
                        _ => {
                            let ch = src[i..].chars().next().unwrap_or('?');
                            let hint = if ch == '^' {
                                " (write powers as `x ** 2` or `x.pow(2)`)"
                            } else {
                                ""
                            };
                            return Err(ParseError::at(
                                src,
                                i,
                                format!("unexpected character `{ch}`{hint}"),
                            ));
                        }
                    }
                };
                match sym {
                    "(" => depth += 1,
                    ")" => depth = depth.saturating_sub(1),
                    _ => {}
                }
                out.push((Tok::Sym(sym), i));
                i += sym.len();
            }
        }
    }
    out.push((Tok::End, src.len()));
    Ok(out)
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<(Tok, usize)>,
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].0
    }

    fn offset(&self) -> usize {
        self.toks[self.at].1
    }

    fn bump(&mut self) -> (Tok, usize) {
        let t = self.toks[self.at].clone();
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
        t
    }

    fn eat(&mut self, sym: &str) -> bool {
        if matches!(self.peek(), Tok::Sym(s) if *s == sym) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError::at(self.src, self.offset(), message)
    }

    fn expect(&mut self, sym: &str, context: &str) -> Result<(), ParseError> {
        if self.eat(sym) {
            Ok(())
        } else {
            Err(self.error(format!(
                "expected `{sym}` {context}, found {}",
                self.peek().describe()
            )))
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(self.error(format!("nested more than {MAX_DEPTH} levels deep")))
        } else {
            Ok(())
        }
    }

    fn program(&mut self) -> Result<Vec<Stmt>, ParseError> {
        let mut stmts = Vec::new();
        loop {
            while *self.peek() == Tok::Sep {
                self.bump();
            }
            if *self.peek() == Tok::End {
                break;
            }
            stmts.push(self.statement()?);
            match self.peek() {
                Tok::Sep | Tok::End => {}
                t => {
                    return Err(self.error(format!(
                        "expected an operator or the end of the statement, found {}",
                        t.describe()
                    )))
                }
            }
        }
        if stmts.is_empty() {
            return Err(self.error("nothing to compute: type an expression such as `a * b + c`"));
        }
        Ok(stmts)
    }

    fn statement(&mut self) -> Result<Stmt, ParseError> {
        if let (Tok::Ident(name), Some((Tok::Sym("="), _))) =
            (self.peek().clone(), self.toks.get(self.at + 1))
        {
            let at = self.offset();
            if Func::from_name(&name).is_some() {
                return Err(self.error(format!(
                    "`{name}` is a function; choose another name to assign to"
                )));
            }
            self.bump();
            self.bump();
            let expr = self.expr()?;
            return Ok(Stmt {
                name: Some((name, at)),
                expr,
            });
        }
        Ok(Stmt {
            name: None,
            expr: self.expr()?,
        })
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let mut lhs = self.term()?;
        loop {
            let op = match self.peek() {
                Tok::Sym("+") => BinOp::Add,
                Tok::Sym("-") => BinOp::Sub,
                _ => break,
            };
            let at = self.bump().1;
            let rhs = self.term()?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs), at);
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        let mut lhs = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Sym("*") => BinOp::Mul,
                Tok::Sym("/") => BinOp::Div,
                _ => break,
            };
            let at = self.bump().1;
            let rhs = self.unary()?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs), at);
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if matches!(self.peek(), Tok::Sym("-")) {
            self.enter()?;
            let at = self.bump().1;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(inner), at));
        }
        self.power()
    }

    fn power(&mut self) -> Result<Expr, ParseError> {
        let base = self.postfix()?;
        if matches!(self.peek(), Tok::Sym("**")) {
            self.enter()?;
            let at = self.bump().1;
            let exponent = self.unary()?; // right associative: a ** b ** c = a ** (b ** c)
            self.depth -= 1;
            return Ok(Expr::Binary(
                BinOp::Pow,
                Box::new(base),
                Box::new(exponent),
                at,
            ));
        }
        Ok(base)
    }

    fn postfix(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.primary()?;
        while matches!(self.peek(), Tok::Sym(".")) {
            self.bump();
            let at = self.offset();
            let name = match self.bump().0 {
                Tok::Ident(name) => name,
                t => {
                    return Err(ParseError::at(
                        self.src,
                        at,
                        format!("expected a method name after `.`, found {}", t.describe()),
                    ))
                }
            };
            let f = Func::from_name(&name).ok_or_else(|| unknown_function(self.src, at, &name))?;
            self.expect("(", &format!("after `.{name}`"))?;
            let arg = if f.extra_args() == 1 {
                Some(Box::new(self.expr()?))
            } else {
                None
            };
            self.expect(")", &format!("to close `.{name}(`"))?;
            e = Expr::Call(f, Box::new(e), arg, at);
        }
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let at = self.offset();
        match self.bump().0 {
            Tok::Num(v) => Ok(Expr::Num(v, at)),
            Tok::Ident(name) => {
                if matches!(self.peek(), Tok::Sym("(")) {
                    let f = Func::from_name(&name)
                        .ok_or_else(|| unknown_function(self.src, at, &name))?;
                    self.bump();
                    self.enter()?;
                    let x = self.expr()?;
                    let arg = if f.extra_args() == 1 {
                        self.expect(",", &format!("between the two arguments of `{name}(`"))?;
                        Some(Box::new(self.expr()?))
                    } else {
                        None
                    };
                    self.expect(")", &format!("to close `{name}(`"))?;
                    self.depth -= 1;
                    Ok(Expr::Call(f, Box::new(x), arg, at))
                } else if Func::from_name(&name).is_some() {
                    Err(ParseError::at(
                        self.src,
                        at,
                        format!("`{name}` is a function: write `{name}(x)` or `x.{name}()`"),
                    ))
                } else {
                    Ok(Expr::Name(name, at))
                }
            }
            Tok::Sym("(") => {
                let e = self.expr()?;
                if !self.eat(")") {
                    return Err(self.error(format!(
                        "expected `)` to close the `(` at column {}, found {}",
                        ParseError::at(self.src, at, "").column,
                        self.peek().describe()
                    )));
                }
                Ok(e)
            }
            t => Err(ParseError::at(
                self.src,
                at,
                format!("expected a number, a name or `(`, found {}", t.describe()),
            )),
        }
    }
}

fn unknown_function(src: &str, at: usize, name: &str) -> ParseError {
    ParseError::at(
        src,
        at,
        format!("unknown function `{name}` (known: relu, tanh, sigmoid, exp, ln, log, pow)"),
    )
}

/// Parses a program into statements.
///
/// # Errors
/// A [`ParseError`] at the first token that does not fit.
pub fn parse(src: &str) -> Result<Vec<Stmt>, ParseError> {
    let toks = lex(src)?;
    Parser {
        src,
        toks,
        at: 0,
        depth: 0,
    }
    .program()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> ParseError {
        parse(src).unwrap_err()
    }

    #[test]
    fn precedence_and_methods() {
        let s = parse("(a*b + c).relu() * d").unwrap();
        assert_eq!(s.len(), 1);
        let Expr::Binary(BinOp::Mul, lhs, rhs, _) = &s[0].expr else {
            panic!("{:?}", s[0].expr)
        };
        assert!(matches!(**rhs, Expr::Name(ref n, 19) if n == "d"));
        let Expr::Call(Func::Relu, inner, None, _) = &**lhs else {
            panic!("{lhs:?}")
        };
        assert!(matches!(**inner, Expr::Binary(BinOp::Add, _, _, _)));
    }

    #[test]
    fn power_binds_tighter_than_unary_minus_and_is_right_associative() {
        let s = parse("-x ** 2 ** 3").unwrap();
        let Expr::Neg(p, 0) = &s[0].expr else {
            panic!()
        };
        let Expr::Binary(BinOp::Pow, _, e, _) = &**p else {
            panic!()
        };
        assert!(matches!(**e, Expr::Binary(BinOp::Pow, _, _, _)));
    }

    #[test]
    fn statements_by_line_and_semicolon_and_newlines_inside_parentheses() {
        let s = parse("apple = 100; count = 2\n# comment\nprice = (apple *\n count)\n").unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].name.as_ref().unwrap().0, "apple");
        assert_eq!(s[0].expr.literal(), Some(100.0));
        assert_eq!(parse("x = -2.5e-1").unwrap()[0].expr.literal(), Some(-0.25));
        assert_eq!(parse("x = .5").unwrap()[0].expr.literal(), Some(0.5));
    }

    #[test]
    fn errors_name_the_place() {
        let e = err("(a*b + c");
        assert_eq!((e.line, e.column), (1, 9));
        assert!(e.message.contains("expected `)`"), "{e}");
        let e = err("a = 1\nb = a +* 2");
        assert_eq!((e.line, e.column, e.offset), (2, 8, 13));
        assert!(e.message.contains("found `*`"), "{e}");
        assert!(err("a ^ 2").message.contains("x ** 2"));
        assert!(err("a.foo()").message.contains("unknown function `foo`"));
        assert!(err("relu + 1").message.contains("is a function"));
        assert!(err("a b").message.contains("found the name `b`"));
        assert!(err("pow(a)").message.contains("`,`"));
        assert!(err("  \n ").message.contains("nothing to compute"));
        assert!(err("1..2").message.contains("not a number"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "(".repeat(10_000) + "x" + &")".repeat(10_000);
        assert!(err(&deep).message.contains("nested more than"));
        let minus = "-".repeat(10_000) + "x";
        assert!(err(&minus).message.contains("nested more than"));
        let ok = "(".repeat(MAX_DEPTH - 2) + "x" + &")".repeat(MAX_DEPTH - 2);
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn column_counts_characters() {
        let e = err("é + ?");
        assert_eq!(e.column, 1); // `é` is not a name character
        let e = err("x = 1 # é\ny = (");
        assert_eq!((e.line, e.column), (2, 6));
    }
}
