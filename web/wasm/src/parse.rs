//! The page's program language: micrograd's Python, as its README writes it, and the page's
//! own shorter form. One statement per line (or separated by `;`).
//!
//! ```text
//! from micrograd.engine import Value   # import lines are skipped
//! a = Value(-4.0)                      # a leaf (micrograd's constructor)
//! apple = 100                          # a number assigned to a name: also a leaf
//! c = a + b                            # any other expression: a named intermediate node
//! c += c + 1                           # reassignment (`=`, `+=`, `-=`, `*=`, `/=`): a new node
//! (a*b + c).relu() * d                 # names never assigned are leaves starting at 1
//! print(f'{g.data:.4f}', a.grad)       # printed into the page's output area
//! g.backward()                         # the reverse pass starts from g
//! ```
//!
//! Expressions: `+ - * /`, unary `-`, `**` (power), numbers, names (Unicode letters too: `π`,
//! `变量`), parentheses, `Value(x)`, and the methods (or functions) `relu tanh sigmoid exp ln
//! log pow`. `.data` and `.grad` read a node's numbers inside `print(...)`. The output is the
//! receiver of the last `.backward()`, or else the last statement's node. Errors carry the
//! byte offset, line and column they point at.
//!
//! The parser is recursive descent; nesting deeper than [`MAX_DEPTH`] is an error, so user
//! input cannot overflow the stack.

use std::fmt;

/// The deepest nesting of parentheses, calls and unary minus the parser accepts.
pub const MAX_DEPTH: usize = 64;

/// The longest name an error message quotes whole; longer ones are shortened with `…`.
const QUOTE_CHARS: usize = 40;

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
        let mut offset = offset.min(src.len());
        while !src.is_char_boundary(offset) {
            offset -= 1;
        }
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

/// `name` for an error message: whole when short, else its start and its length.
pub(crate) fn quote(name: &str) -> String {
    let n = name.chars().count();
    if n <= QUOTE_CHARS {
        name.to_string()
    } else {
        let head: String = name.chars().take(QUOTE_CHARS - 8).collect();
        format!("{head}… ({n} characters)")
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

/// Names a program cannot assign to: functions, and the words with a meaning of their own.
fn reserved(name: &str) -> bool {
    Func::from_name(name).is_some()
        || matches!(name, "Value" | "print" | "from" | "import" | "backward")
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

/// A number a `print` can read off a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attr {
    /// `.data`: the value.
    Data,
    /// `.grad`: the gradient.
    Grad,
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
    /// `Value(x)`: a new leaf holding the number `x`.
    Value(Box<Expr>, usize),
    /// `x.data`, `x.grad`: a number, only inside `print(...)`.
    Attr(Box<Expr>, Attr, usize),
    /// `x.backward()`: only as a statement of its own.
    Backward(Box<Expr>, usize),
}

impl Expr {
    /// Where the expression starts.
    pub fn offset(&self) -> usize {
        match *self {
            Expr::Num(_, o)
            | Expr::Name(_, o)
            | Expr::Neg(_, o)
            | Expr::Binary(_, _, _, o)
            | Expr::Call(_, _, _, o)
            | Expr::Value(_, o)
            | Expr::Attr(_, _, o)
            | Expr::Backward(_, o) => o,
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

/// How `print` formats a number: Python's format-spec subset `[+][width][.precision][type]`
/// with type `f`, `e`, `g` or `%`. Without a spec a number prints as Python's `repr`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spec {
    /// `+`: a sign on positive numbers too.
    pub plus: bool,
    /// The least width, padded on the left with spaces.
    pub width: usize,
    /// Digits after the point (`f`, `e`, `%`) or significant digits (`g`).
    pub precision: Option<usize>,
    /// `f`, `e`, `g`, `%`, or none (Python's `repr`, or `g` with a precision).
    pub kind: Option<char>,
}

impl Spec {
    /// Reads a spec such as `+8.2f`; `None` if the page does not know it.
    pub fn parse(text: &str) -> Option<Spec> {
        let mut s = Spec::default();
        let mut rest = text;
        if let Some(r) = rest.strip_prefix('+') {
            s.plus = true;
            rest = r;
        }
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            s.width = rest[..digits].parse().ok().filter(|&w| w <= 200)?;
            rest = &rest[digits..];
        }
        if let Some(r) = rest.strip_prefix('.') {
            let digits = r.len() - r.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            s.precision = Some(r[..digits].parse().ok().filter(|&p| p <= 60)?);
            rest = &r[digits..];
        }
        let mut chars = rest.chars();
        match (chars.next(), chars.next()) {
            (None, _) => {}
            (Some(c @ ('f' | 'F' | 'e' | 'E' | 'g' | 'G' | '%')), None) => {
                s.kind = Some(c.to_ascii_lowercase())
            }
            _ => return None,
        }
        Some(s)
    }
}

/// A piece of a `print` argument.
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    /// Text as written.
    Text(String),
    /// An expression to print, with its format spec (an f-string's `{x:.4f}`).
    Field(Expr, Option<Spec>),
}

/// One statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `name = expr`, or with `op` given, `name op= expr`.
    Assign {
        /// The assigned name.
        name: String,
        /// Where the name is.
        at: usize,
        /// `+=` and friends: the op applied to the name's current node and `expr`.
        op: Option<BinOp>,
        /// The right-hand side.
        expr: Expr,
    },
    /// A bare expression (or `x.backward()`).
    Expr(Expr),
    /// `print(a, b, …)`: each argument a list of pieces, joined by spaces.
    Print {
        /// The arguments.
        args: Vec<Vec<Piece>>,
        /// Where `print` is.
        at: usize,
    },
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Sym(&'static str),
    /// A string literal's text (escapes resolved).
    Str(String),
    /// An f-string: the byte range of its contents in the source.
    FStr(usize, usize),
    /// A statement separator: `;` or a newline outside parentheses.
    Sep,
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Num(v) => format!("the number {v}"),
            Tok::Ident(s) => format!("the name `{}`", quote(s)),
            Tok::Sym(s) => format!("`{s}`"),
            Tok::Str(_) | Tok::FStr(..) => "a string".into(),
            Tok::Sep => "the end of the statement".into(),
            Tok::End => "the end of the input".into(),
        }
    }
}

const SYMBOLS: [&str; 17] = [
    "**", "+=", "-=", "*=", "/=", "+", "-", "*", "/", "(", ")", ".", ",", "=", ":", "[", "]",
];

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_name_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Tokens of `src[start..end]`, with offsets into the whole of `src`.
fn lex(src: &str, start: usize, end: usize) -> Result<Vec<(Tok, usize)>, ParseError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = start;
    let mut depth = 0usize;
    while i < end {
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
                while i < end && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'\'' | b'"' => {
                let (text, next) = string(src, i, end)?;
                out.push((Tok::Str(text), i));
                i = next;
            }
            b'f' | b'F' if matches!(bytes.get(i + 1), Some(b'\'' | b'"')) && i + 1 < end => {
                let quote = bytes[i + 1];
                let mut j = i + 2;
                while j < end && bytes[j] != quote && bytes[j] != b'\n' {
                    j += 1;
                }
                if j >= end || bytes[j] != quote {
                    return Err(ParseError::at(src, i, "this f-string is not closed"));
                }
                out.push((Tok::FStr(i + 2, j), i));
                i = j + 1;
            }
            b'0'..=b'9' | b'.' if c != b'.' || bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let from = i;
                while i < end && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                    i += 1;
                }
                if i < end && (bytes[i] == b'e' || bytes[i] == b'E') {
                    let mut j = i + 1;
                    if j < end && (bytes[j] == b'+' || bytes[j] == b'-') {
                        j += 1;
                    }
                    if j < end && bytes[j].is_ascii_digit() {
                        i = j;
                        while i < end && bytes[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                }
                let text = &src[from..i];
                let v: f64 = text
                    .parse()
                    .map_err(|_| ParseError::at(src, from, format!("`{text}` is not a number")))?;
                out.push((Tok::Num(v), from));
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                if is_name_start(ch) {
                    let from = i;
                    for c in src[i..end].chars() {
                        if !is_name_char(c) {
                            break;
                        }
                        i += c.len_utf8();
                    }
                    out.push((Tok::Ident(src[from..i].to_string()), from));
                    continue;
                }
                let Some(sym) = SYMBOLS.iter().find(|s| src[i..end].starts_with(**s)) else {
                    let hint = match ch {
                        '^' => " (write powers as `x ** 2` or `x.pow(2)`)",
                        '−' => " (a typographic minus: type `-`)",
                        '×' | '·' => " (type `*` to multiply)",
                        _ => "",
                    };
                    return Err(ParseError::at(
                        src,
                        i,
                        format!("unexpected character `{ch}`{hint}"),
                    ));
                };
                match *sym {
                    "(" | "[" => depth += 1,
                    ")" | "]" => depth = depth.saturating_sub(1),
                    _ => {}
                }
                out.push((Tok::Sym(sym), i));
                i += sym.len();
            }
        }
    }
    out.push((Tok::End, end));
    Ok(out)
}

/// A quoted string starting at `at`: its text and where the token ends.
fn string(src: &str, at: usize, end: usize) -> Result<(String, usize), ParseError> {
    let quote = src.as_bytes()[at] as char;
    let mut text = String::new();
    let mut chars = src[at + 1..end].char_indices();
    while let Some((k, c)) = chars.next() {
        match c {
            c if c == quote => return Ok((text, at + 1 + k + 1)),
            '\n' => break,
            '\\' => match chars.next() {
                Some((_, 'n')) => text.push('\n'),
                Some((_, 't')) => text.push('\t'),
                Some((_, c)) => text.push(c),
                None => break,
            },
            c => text.push(c),
        }
    }
    Err(ParseError::at(src, at, "this string is not closed"))
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<(Tok, usize)>,
    at: usize,
    depth: usize,
}

impl<'s> Parser<'s> {
    fn new(src: &'s str, start: usize, end: usize, depth: usize) -> Result<Self, ParseError> {
        Ok(Parser {
            src,
            toks: lex(src, start, end)?,
            at: 0,
            depth,
        })
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.at].0
    }

    fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.at + k).map(|t| &t.0)
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
            if let Some(s) = self.statement()? {
                stmts.push(s);
            }
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
        if !stmts
            .iter()
            .any(|s| matches!(s, Stmt::Assign { .. } | Stmt::Expr(_)))
        {
            return Err(self.error(
                "nothing to compute: type an expression such as `a * b + c`, or paste micrograd code",
            ));
        }
        Ok(stmts)
    }

    /// One statement; `None` for an import line, which is skipped.
    fn statement(&mut self) -> Result<Option<Stmt>, ParseError> {
        let Tok::Ident(name) = self.peek().clone() else {
            return Ok(Some(Stmt::Expr(self.expr()?)));
        };
        let at = self.offset();
        if name == "from" || name == "import" {
            while !matches!(self.peek(), Tok::Sep | Tok::End) {
                self.bump();
            }
            return Ok(None);
        }
        if name == "print" && matches!(self.peek_at(1), Some(Tok::Sym("("))) {
            self.bump();
            self.bump();
            return Ok(Some(self.print(at)?));
        }
        let op = match self.peek_at(1) {
            Some(Tok::Sym("=")) => None,
            Some(Tok::Sym("+=")) => Some(BinOp::Add),
            Some(Tok::Sym("-=")) => Some(BinOp::Sub),
            Some(Tok::Sym("*=")) => Some(BinOp::Mul),
            Some(Tok::Sym("/=")) => Some(BinOp::Div),
            _ => return Ok(Some(Stmt::Expr(self.expr()?))),
        };
        if reserved(&name) {
            return Err(self.error(format!(
                "`{name}` has a meaning of its own; choose another name to assign to"
            )));
        }
        self.bump();
        self.bump();
        let expr = self.expr()?;
        Ok(Some(Stmt::Assign { name, at, op, expr }))
    }

    /// The arguments of `print(`, up to its `)`.
    fn print(&mut self, at: usize) -> Result<Stmt, ParseError> {
        let mut args = Vec::new();
        while !matches!(self.peek(), Tok::Sym(")")) {
            let arg = match self.peek().clone() {
                Tok::Str(text) => {
                    self.bump();
                    vec![Piece::Text(text)]
                }
                Tok::FStr(start, end) => {
                    self.bump();
                    self.fstring(start, end)?
                }
                _ => vec![Piece::Field(self.expr()?, None)],
            };
            args.push(arg);
            if !self.eat(",") {
                break;
            }
        }
        self.expect(")", "to close `print(`")?;
        Ok(Stmt::Print { args, at })
    }

    /// The pieces of an f-string whose contents are `src[start..end]`.
    fn fstring(&mut self, start: usize, end: usize) -> Result<Vec<Piece>, ParseError> {
        let bytes = self.src.as_bytes();
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut i = start;
        while i < end {
            match bytes[i] {
                b'{' if bytes.get(i + 1) == Some(&b'{') && i + 1 < end => {
                    text.push('{');
                    i += 2;
                }
                b'}' if bytes.get(i + 1) == Some(&b'}') && i + 1 < end => {
                    text.push('}');
                    i += 2;
                }
                b'}' => {
                    return Err(ParseError::at(
                        self.src,
                        i,
                        "a lone `}` in an f-string: write `}}`",
                    ))
                }
                b'{' => {
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    let (mut colon, mut close, mut depth) = (None, None, 0usize);
                    for (k, &b) in bytes.iter().enumerate().take(end).skip(i + 1) {
                        match b {
                            b'(' | b'[' => depth += 1,
                            b')' | b']' => depth = depth.saturating_sub(1),
                            b':' if depth == 0 && colon.is_none() => colon = Some(k),
                            b'}' if depth == 0 => {
                                close = Some(k);
                                break;
                            }
                            _ => {}
                        }
                    }
                    let Some(close) = close else {
                        return Err(ParseError::at(
                            self.src,
                            i,
                            "this `{` in the f-string is not closed by `}`",
                        ));
                    };
                    let expr_end = colon.unwrap_or(close);
                    let mut inner = Parser::new(self.src, i + 1, expr_end, self.depth)?;
                    let e = inner.expr()?;
                    if *inner.peek() != Tok::End {
                        return Err(inner.error(format!(
                            "expected `}}` or `:` in the f-string, found {}",
                            inner.peek().describe()
                        )));
                    }
                    let spec = match colon {
                        Some(c) => {
                            let text = &self.src[c + 1..close];
                            Some(Spec::parse(text).ok_or_else(|| {
                                ParseError::at(
                                    self.src,
                                    c + 1,
                                    format!("the format `{}` is not one the page knows (try `.4f`, `.3e`, `.6g`)", quote(text)),
                                )
                            })?)
                        }
                        None => None,
                    };
                    pieces.push(Piece::Field(e, spec));
                    i = close + 1;
                }
                _ => {
                    let c = self.src[i..].chars().next().unwrap_or('?');
                    text.push(c);
                    i += c.len_utf8();
                }
            }
        }
        if !text.is_empty() || pieces.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(pieces)
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
        if matches!(self.peek(), Tok::Sym("-" | "+")) {
            self.enter()?;
            let (tok, at) = self.bump();
            let inner = self.unary()?;
            self.depth -= 1;
            if tok == Tok::Sym("+") {
                return Ok(inner);
            }
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
            match name.as_str() {
                "data" | "grad" => {
                    let attr = if name == "data" {
                        Attr::Data
                    } else {
                        Attr::Grad
                    };
                    e = Expr::Attr(Box::new(e), attr, at);
                    continue;
                }
                "backward" => {
                    self.expect("(", "after `.backward`")?;
                    self.expect(")", "to close `.backward(`")?;
                    e = Expr::Backward(Box::new(e), at);
                    continue;
                }
                _ => {}
            }
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
            Tok::Ident(name) if name == "Value" => {
                self.expect("(", "after `Value`: write `Value(2.0)`")?;
                self.enter()?;
                let x = self.expr()?;
                self.expect(")", "to close `Value(`")?;
                self.depth -= 1;
                Ok(Expr::Value(Box::new(x), at))
            }
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
                } else if reserved(&name) {
                    Err(ParseError::at(
                        self.src,
                        at,
                        format!("`{name}` cannot be used as a value here"),
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
            Tok::Str(_) | Tok::FStr(..) => Err(ParseError::at(
                self.src,
                at,
                "a string can only be printed: `print('text', x.data)`",
            )),
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
        format!(
            "unknown function `{}` (known: relu, tanh, sigmoid, exp, ln, log, pow, backward; \
             and .data, .grad in print)",
            quote(name)
        ),
    )
}

/// Parses a program into statements.
///
/// # Errors
/// A [`ParseError`] at the first token that does not fit.
pub fn parse(src: &str) -> Result<Vec<Stmt>, ParseError> {
    Parser::new(src, 0, src.len(), 0)?.program()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn err(src: &str) -> ParseError {
        parse(src).unwrap_err()
    }

    fn expr(src: &str) -> Expr {
        match parse(src).unwrap().remove(0) {
            Stmt::Expr(e) => e,
            s => panic!("{s:?}"),
        }
    }

    /// micrograd's README cell, as its README prints it.
    pub(crate) const README: &str = "\
from micrograd.engine import Value

a = Value(-4.0)
b = Value(2.0)
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + (b + a).relu()
d += 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
print(f'{g.data:.4f}') # prints 24.7041, the outcome of this forward pass
g.backward()
print(f'{a.grad:.4f}') # prints 138.8338, i.e. the numerical value of dg/da
print(f'{b.grad:.4f}') # prints 645.5773, i.e. the numerical value of dg/db
";

    #[test]
    fn precedence_and_methods() {
        let Expr::Binary(BinOp::Mul, lhs, rhs, _) = expr("(a*b + c).relu() * d") else {
            panic!()
        };
        assert!(matches!(*rhs, Expr::Name(ref n, 19) if n == "d"));
        let Expr::Call(Func::Relu, inner, None, _) = *lhs else {
            panic!("{lhs:?}")
        };
        assert!(matches!(*inner, Expr::Binary(BinOp::Add, _, _, _)));
    }

    #[test]
    fn power_binds_tighter_than_unary_minus_and_is_right_associative() {
        let Expr::Neg(p, 0) = expr("-x ** 2 ** 3") else {
            panic!()
        };
        let Expr::Binary(BinOp::Pow, _, e, _) = *p else {
            panic!()
        };
        assert!(matches!(*e, Expr::Binary(BinOp::Pow, _, _, _)));
    }

    #[test]
    fn statements_by_line_and_semicolon_and_newlines_inside_parentheses() {
        let s = parse("apple = 100; count = 2\n# comment\nprice = (apple *\n count)\n").unwrap();
        assert_eq!(s.len(), 3);
        let Stmt::Assign { name, expr, op, .. } = &s[0] else {
            panic!()
        };
        assert_eq!(
            (name.as_str(), expr.literal(), *op),
            ("apple", Some(100.0), None)
        );
        let lit = |src| match parse(src).unwrap().remove(0) {
            Stmt::Assign { expr, .. } => expr.literal(),
            _ => None,
        };
        assert_eq!(lit("x = -2.5e-1"), Some(-0.25));
        assert_eq!(lit("x = .5"), Some(0.5));
        assert_eq!(lit("x = 2."), Some(2.0));
    }

    #[test]
    fn micrograds_readme_cell_parses_as_it_is() {
        let s = parse(README).unwrap();
        // the import is skipped; 12 assignments, 3 prints, 1 backward
        assert_eq!(s.len(), 16);
        assert!(
            matches!(&s[0], Stmt::Assign { name, expr: Expr::Value(x, _), op: None, .. }
            if name == "a" && x.literal() == Some(-4.0))
        );
        assert!(matches!(&s[4], Stmt::Assign { name, op: Some(BinOp::Add), .. } if name == "c"));
        let Stmt::Print { args, .. } = &s[12] else {
            panic!("{:?}", s[12])
        };
        let [Piece::Field(Expr::Attr(g, Attr::Data, _), Some(spec))] = &args[0][..] else {
            panic!("{args:?}")
        };
        assert!(matches!(**g, Expr::Name(ref n, _) if n == "g"));
        assert_eq!((spec.precision, spec.kind), (Some(4), Some('f')));
        assert!(
            matches!(&s[13], Stmt::Expr(Expr::Backward(g, _)) if matches!(**g, Expr::Name(ref n, _) if n == "g"))
        );
    }

    #[test]
    fn every_update_operator() {
        for (src, want) in [
            ("x = 1; x += 2", BinOp::Add),
            ("x = 1; x -= 2", BinOp::Sub),
            ("x = 1; x *= 2", BinOp::Mul),
            ("x = 1; x /= 2", BinOp::Div),
        ] {
            assert!(
                matches!(&parse(src).unwrap()[1], Stmt::Assign { op: Some(op), .. } if *op == want),
                "{src}"
            );
        }
    }

    #[test]
    fn print_strings_fstrings_and_values() {
        let s = parse("x = 2\nprint('x is', x, \"ok\", f'{x.data:+8.2f} and {{braces}} {x.grad}')")
            .unwrap();
        let Stmt::Print { args, at } = &s[1] else {
            panic!()
        };
        assert_eq!(*at, 6);
        assert_eq!(args.len(), 4);
        assert_eq!(args[0], vec![Piece::Text("x is".into())]);
        assert!(matches!(&args[1][..], [Piece::Field(Expr::Name(n, _), None)] if n == "x"));
        let Piece::Field(_, Some(spec)) = &args[3][0] else {
            panic!("{:?}", args[3])
        };
        assert_eq!(
            *spec,
            Spec {
                plus: true,
                width: 8,
                precision: Some(2),
                kind: Some('f')
            }
        );
        assert_eq!(args[3][1], Piece::Text(" and {braces} ".into()));
        assert!(matches!(
            &args[3][2],
            Piece::Field(Expr::Attr(_, Attr::Grad, _), None)
        ));
        assert!(parse("x = 1; print()").is_ok());
    }

    #[test]
    fn unicode_names() {
        let s = parse("π = 3.14159\n变量 = π * 2\nΔx_1 = 变量 - π").unwrap();
        assert!(matches!(&s[1], Stmt::Assign { name, .. } if name == "变量"));
        assert!(matches!(&s[2], Stmt::Assign { name, at: 29, .. } if name == "Δx_1"));
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
        assert!(err("from micrograd.engine import Value\nprint(1)")
            .message
            .contains("nothing to compute"));
        assert!(err("1..2").message.contains("not a number"));
        assert!(err("a = 1 − 2").message.contains("typographic minus"));
        let e = err("x = 1\nprint(f'{x.data:.4q}')");
        assert_eq!((e.line, e.column), (2, 17));
        assert!(e.message.contains("format `.4q`"), "{e}");
        let e = err("print('abc");
        assert_eq!(
            (e.column, e.message.as_str()),
            (7, "this string is not closed")
        );
        let e = err("x = 1\nprint(f'{x.data')");
        assert_eq!((e.line, e.column), (2, 9));
        let e = err("x = 1\nprint(f'{x +}')");
        assert_eq!((e.line, e.column), (2, 13));
        assert!(err("Value = 3").message.contains("meaning of its own"));
        assert!(err("x = Value 3").message.contains("after `Value`"));
        assert!(err("x = 'text'").message.contains("can only be printed"));
        assert!(err("x.backward(1)")
            .message
            .contains("to close `.backward(`"));
        let long = "n".repeat(300);
        let e = err(&format!("{long} {long}"));
        assert!(e.message.len() < 120, "{}", e.message);
        assert!(e.message.contains("(300 characters)"), "{}", e.message);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "(".repeat(10_000) + "x" + &")".repeat(10_000);
        assert!(err(&deep).message.contains("nested more than"));
        let minus = "-".repeat(10_000) + "x";
        assert!(err(&minus).message.contains("nested more than"));
        let values = "Value(".repeat(10_000) + "1" + &")".repeat(10_000);
        assert!(err(&values).message.contains("nested more than"));
        let fdeep = format!("x=1\nprint(f'{{{}x{}}}')", "(".repeat(100), ")".repeat(100));
        assert!(err(&fdeep).message.contains("nested more than"));
        let ok = "(".repeat(MAX_DEPTH - 2) + "x" + &")".repeat(MAX_DEPTH - 2);
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn column_counts_characters() {
        let e = err("é + ?");
        assert_eq!(e.column, 5); // `é` is a name now; `?` is the fifth character
        let e = err("x = 1 # é\ny = (");
        assert_eq!((e.line, e.column), (2, 6));
    }
}
