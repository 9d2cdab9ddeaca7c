//! A tolerant, streaming tokenizer for PDF content streams.
//!
//! Why not `lopdf::content::Content::decode`: it builds a `Vec<Operation>` of the whole
//! stream with a nom parser before the first operator can be interpreted, which was about
//! half of the extraction time on real documents, and one malformed token fails the whole
//! stream. This lexer hands out one operation at a time, reuses the operand buffer, and
//! skips what it cannot read (as viewers do) instead of losing the page.

use lopdf::{Dictionary, Object, StringFormat};

/// Operands beyond this are dropped: no text operator takes more than six.
const MAX_OPERANDS: usize = 64;
/// Arrays and dictionaries nested deeper than this are skipped (a hostile stream).
const MAX_NESTING: usize = 32;

pub struct ContentLexer<'a> {
    data: &'a [u8],
    pos: usize,
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_regular(b: u8) -> bool {
    !is_whitespace(b) && !is_delimiter(b)
}

enum Token<'a> {
    Object(Object),
    Keyword(&'a [u8]),
    /// A closing delimiter: `]` or `>>`.
    Close(u8),
    End,
}

impl<'a> ContentLexer<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        ContentLexer { data, pos: 0 }
    }

    /// Reads the operands of the next operation into `operands` and returns its operator,
    /// or `None` at the end of the stream. Inline images are skipped whole.
    pub fn next_operation(&mut self, operands: &mut Vec<Object>) -> Option<&'a [u8]> {
        operands.clear();
        loop {
            match self.token(0) {
                Token::End => return None,
                Token::Object(object) => {
                    if operands.len() < MAX_OPERANDS {
                        operands.push(object);
                    }
                }
                Token::Keyword(b"BI") => {
                    self.skip_inline_image();
                    operands.clear();
                }
                Token::Keyword(keyword) => return Some(keyword),
                // A stray `]` or `>>`: ignore it, as viewers do.
                Token::Close(_) => {}
            }
        }
    }

    /// The next object (string, number, name, array, dictionary), or `None` when a keyword
    /// or the end comes first. Used to read single values from raw file bytes too.
    pub fn next_object(&mut self) -> Option<Object> {
        match self.token(0) {
            Token::Object(object) => Some(object),
            _ => None,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    fn skip_whitespace_and_comments(&mut self) {
        while let Some(b) = self.peek() {
            if is_whitespace(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(b) = self.peek() {
                    if b == b'\r' || b == b'\n' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    fn token(&mut self, depth: usize) -> Token<'a> {
        self.skip_whitespace_and_comments();
        let Some(b) = self.peek() else {
            return Token::End;
        };
        match b {
            b'/' => {
                self.pos += 1;
                Token::Object(Object::Name(self.name()))
            }
            b'(' => {
                self.pos += 1;
                Token::Object(Object::String(self.literal_string(), StringFormat::Literal))
            }
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                Token::Object(self.dictionary(depth))
            }
            b'<' => {
                self.pos += 1;
                Token::Object(Object::String(self.hex_string(), StringFormat::Hexadecimal))
            }
            b'[' => {
                self.pos += 1;
                Token::Object(self.array(depth))
            }
            b']' => {
                self.pos += 1;
                Token::Close(b']')
            }
            b'>' => {
                self.pos += 1;
                if self.peek() == Some(b'>') {
                    self.pos += 1;
                }
                Token::Close(b'>')
            }
            // `{`, `}` and `)` have no meaning in page content: skip them.
            b'{' | b'}' | b')' => {
                self.pos += 1;
                self.token(depth)
            }
            b'+' | b'-' | b'.' | b'0'..=b'9' => Token::Object(self.number()),
            _ => {
                let start = self.pos;
                while self.peek().is_some_and(is_regular) {
                    self.pos += 1;
                }
                match &self.data[start..self.pos] {
                    b"true" => Token::Object(Object::Boolean(true)),
                    b"false" => Token::Object(Object::Boolean(false)),
                    b"null" => Token::Object(Object::Null),
                    keyword => Token::Keyword(keyword),
                }
            }
        }
    }

    fn name(&mut self) -> Vec<u8> {
        let mut name = Vec::new();
        while let Some(b) = self.peek() {
            if !is_regular(b) {
                break;
            }
            self.pos += 1;
            if b == b'#'
                && let Some(value) = self
                    .data
                    .get(self.pos..self.pos + 2)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                name.push(value);
                self.pos += 2;
                continue;
            }
            name.push(b);
        }
        name
    }

    fn literal_string(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut open = 1usize;
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'(' => {
                    open += 1;
                    out.push(b);
                }
                b')' => {
                    open -= 1;
                    if open == 0 {
                        break;
                    }
                    out.push(b);
                }
                b'\\' => {
                    let Some(escaped) = self.peek() else { break };
                    self.pos += 1;
                    match escaped {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'0'..=b'7' => {
                            let mut value = u32::from(escaped - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        value = value * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((value & 0xff) as u8);
                        }
                        // A backslash before an end of line continues the string.
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        other => out.push(other),
                    }
                }
                // An unescaped end of line is read as a single line feed.
                b'\r' => {
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                    out.push(b'\n');
                }
                _ => out.push(b),
            }
        }
        out
    }

    fn hex_string(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        while let Some(b) = self.peek() {
            self.pos += 1;
            let digit = match b {
                b'>' => break,
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => continue,
            };
            match high.take() {
                Some(h) => out.push(h << 4 | digit),
                None => high = Some(digit),
            }
        }
        // An odd final digit is followed by an implied 0.
        if let Some(h) = high {
            out.push(h << 4);
        }
        out
    }

    fn array(&mut self, depth: usize) -> Object {
        let mut items = Vec::new();
        loop {
            if depth >= MAX_NESTING {
                self.skip_until_close(b']');
                return Object::Array(items);
            }
            match self.token(depth + 1) {
                Token::Object(o) => items.push(o),
                Token::Close(b']') | Token::End => return Object::Array(items),
                // Operators inside an array are malformed; keep reading the array.
                Token::Keyword(_) | Token::Close(_) => {}
            }
        }
    }

    fn dictionary(&mut self, depth: usize) -> Object {
        let mut dict = Dictionary::new();
        let mut key: Option<Vec<u8>> = None;
        loop {
            if depth >= MAX_NESTING {
                self.skip_until_close(b'>');
                return Object::Dictionary(dict);
            }
            match self.token(depth + 1) {
                Token::Object(Object::Name(name)) if key.is_none() => key = Some(name),
                Token::Object(value) => {
                    if let Some(k) = key.take() {
                        dict.set(k, value);
                    }
                }
                Token::Close(b'>') | Token::End => return Object::Dictionary(dict),
                Token::Keyword(_) | Token::Close(_) => {}
            }
        }
    }

    /// Skips raw bytes up to the matching close, for nesting too deep to build objects of.
    fn skip_until_close(&mut self, close: u8) {
        while let Some(b) = self.peek() {
            self.pos += 1;
            if b == close {
                return;
            }
        }
    }

    fn number(&mut self) -> Object {
        let start = self.pos;
        let mut negative = false;
        // Producers emit oddities such as `--5` or `+-3`; viewers read the sign loosely.
        while let Some(sign @ (b'+' | b'-')) = self.peek() {
            negative ^= sign == b'-';
            self.pos += 1;
        }
        let mut integer: i64 = 0;
        let mut fraction = 0.0f64;
        let mut scale = 1.0f64;
        let mut seen_dot = false;
        let mut overflow = false;
        let mut digits = 0usize;
        while let Some(b) = self.peek() {
            match b {
                b'0'..=b'9' => {
                    digits += 1;
                    let d = i64::from(b - b'0');
                    if seen_dot {
                        scale /= 10.0;
                        fraction += d as f64 * scale;
                    } else {
                        match integer.checked_mul(10).and_then(|v| v.checked_add(d)) {
                            Some(v) => integer = v,
                            None => overflow = true,
                        }
                    }
                }
                b'.' if !seen_dot => seen_dot = true,
                _ => break,
            }
            self.pos += 1;
        }
        // Any regular characters glued on (e.g. `12.5.3`, `1e5`) are part of the token.
        while self.peek().is_some_and(is_regular) {
            self.pos += 1;
        }
        if digits == 0 && self.pos == start {
            // Unreachable by construction (we were called on a sign, dot or digit), but
            // never loop forever on hostile input.
            self.pos += 1;
        }
        let sign: f64 = if negative { -1.0 } else { 1.0 };
        if overflow {
            return Object::Real(sign as f32 * f32::MAX);
        }
        if seen_dot {
            Object::Real((sign * (integer as f64 + fraction)) as f32)
        } else if negative {
            Object::Integer(-integer)
        } else {
            Object::Integer(integer)
        }
    }

    /// `BI <dict> ID <binary> EI`: the binary data may contain anything, including bytes
    /// that look like operators, so it is skipped up to an `EI` that stands alone.
    fn skip_inline_image(&mut self) {
        loop {
            match self.token(0) {
                Token::End => return,
                Token::Keyword(b"ID") => break,
                _ => {}
            }
        }
        // One whitespace byte separates ID from the data.
        self.pos += 1;
        while self.pos + 1 < self.data.len() {
            let before_ok = self.pos == 0 || is_whitespace(self.data[self.pos - 1]);
            if before_ok && &self.data[self.pos..self.pos + 2] == b"EI" {
                let after = self.data.get(self.pos + 2).copied();
                if after.is_none_or(|b| is_whitespace(b) || is_delimiter(b)) {
                    self.pos += 2;
                    return;
                }
            }
            self.pos += 1;
        }
        self.pos = self.data.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operations(data: &[u8]) -> Vec<(String, Vec<Object>)> {
        let mut lexer = ContentLexer::new(data);
        let mut operands = Vec::new();
        let mut out = Vec::new();
        while let Some(op) = lexer.next_operation(&mut operands) {
            out.push((String::from_utf8_lossy(op).into_owned(), operands.clone()));
        }
        out
    }

    #[test]
    fn reads_text_operators_with_every_operand_kind() {
        let ops = operations(
            b"BT /F1 12 Tf 1 0 0 1 72.5 -700 Tm (a\\(b\\)\\101\\\ncd) Tj [<0041 42> -250 (x)] TJ ET",
        );
        let names: Vec<&str> = ops.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["BT", "Tf", "Tm", "Tj", "TJ", "ET"]);
        assert_eq!(ops[1].1[0], Object::Name(b"F1".to_vec()));
        assert_eq!(ops[2].1[4], Object::Real(72.5));
        assert_eq!(ops[2].1[5], Object::Integer(-700));
        assert_eq!(
            ops[3].1[0],
            Object::String(b"a(b)Acd".to_vec(), StringFormat::Literal)
        );
        let Object::Array(items) = &ops[4].1[0] else {
            panic!("TJ operand is not an array")
        };
        assert_eq!(
            items[0],
            Object::String(vec![0x00, 0x41, 0x42], StringFormat::Hexadecimal)
        );
        assert_eq!(items[1], Object::Integer(-250));
    }

    #[test]
    fn skips_inline_images_and_junk() {
        let ops = operations(
            b"q BI /W 2 /H 1 /BPC 8 /CS /G ID \x01EI) Tj\xff EI Q ) ] >> {} % comment Tj\n(ok) Tj",
        );
        let names: Vec<&str> = ops.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["q", "Q", "Tj"]);
        assert_eq!(
            ops[2].1,
            vec![Object::String(b"ok".to_vec(), StringFormat::Literal)]
        );
    }

    #[test]
    fn survives_truncation_and_deep_nesting() {
        let mut hostile = vec![b'['; 10_000];
        hostile.extend_from_slice(b"(unterminated <41");
        let _ = operations(&hostile);
        let ops = operations(b"<< /A << /B [1 2 --3 4.5.6] >> >> BDC (x");
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].0, "BDC");
    }
}
