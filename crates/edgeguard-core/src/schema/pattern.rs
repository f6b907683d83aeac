//! JSON Schema `pattern`: a small regular-expression engine for a documented
//! subset of ECMA-262 (docs/policy.md, "Patterns").
//!
//! A pattern is parsed once, from the policy, into a Thompson NFA; a string
//! is searched with a Pike VM (all threads advanced together, one step per
//! character), so matching is linear in the string's length whatever the
//! pattern, and nothing backtracks. It replaced `regex-lite` (~15 KB gzip of
//! the pipeline module: docs/architecture.md, "Footprint") and agrees with it
//! on the subset (tested against it below).
//!
//! The subset: literals; `.` (any character but `\n`); classes `[a-z_]`,
//! `[^…]`; `\d \D \w \W \s \S` (ASCII, as in `regex-lite`); `\t \n \r \f \v`,
//! `\xHH`, `\uHHHH`, `\u{H…}` and any escaped ASCII punctuation; anchors `^`
//! `$` (start and end of the whole string), `\b` `\B` (ASCII word
//! boundary, as in `regex-lite`); groups `(…)`, `(?:…)`;
//! alternation `|`; repetition `* + ? {n} {n,} {n,m}`, also lazy (`*?`: the
//! same for a yes/no match). Refused when the policy loads: backreferences,
//! lookaround, named groups, inline flags, `\p{…}`, class set operations.

/// The most instructions a compiled pattern may hold (counted repetitions
/// expand: `a{1000}` is a thousand of them).
const MAX_PROGRAM: usize = 5_000;
/// The largest bound of a counted repetition.
const MAX_REPEAT: u32 = 1_000;
/// The deepest group nesting accepted.
const MAX_DEPTH: usize = 64;

/// Why a pattern was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatternError {
    /// Not a pattern at all (unbalanced parentheses or brackets, a dangling
    /// escape or quantifier, a reversed range).
    Syntax,
    /// Valid ECMA-262 outside the subset (module docs).
    Unsupported,
    /// More than [`MAX_PROGRAM`] instructions, or nested too deeply.
    TooLarge,
}

/// A set of characters: sorted, non-overlapping inclusive ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Class(Vec<(char, char)>);

impl Class {
    fn of(ranges: &[(char, char)]) -> Class {
        let mut c = Class(ranges.to_vec());
        c.normalise();
        c
    }
    fn normalise(&mut self) {
        self.0.sort_unstable();
        let mut out: Vec<(char, char)> = Vec::with_capacity(self.0.len());
        for &(a, b) in &self.0 {
            match out.last_mut() {
                Some(last) if u32::from(a) <= u32::from(last.1).saturating_add(1) => {
                    if b > last.1 {
                        last.1 = b;
                    }
                }
                _ => out.push((a, b)),
            }
        }
        self.0 = out;
    }
    fn negate(&self) -> Class {
        let mut out = Vec::new();
        let mut next = Some('\0');
        for &(a, b) in &self.0 {
            if let Some(n) = next {
                if n < a {
                    out.push((n, before(a)));
                }
            }
            next = after(b);
        }
        if let Some(n) = next {
            out.push((n, char::MAX));
        }
        Class(out)
    }
    fn contains(&self, c: char) -> bool {
        self.0
            .binary_search_by(|&(a, b)| {
                if b < c {
                    std::cmp::Ordering::Less
                } else if a > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    }
}

/// The character before `c` (`c` > `\0`), skipping the surrogate gap.
fn before(c: char) -> char {
    match c {
        '\u{E000}' => '\u{D7FF}',
        _ => char::from_u32(u32::from(c) - 1).unwrap_or('\0'),
    }
}

/// The character after `c`, skipping the surrogate gap; `None` after the last.
fn after(c: char) -> Option<char> {
    match c {
        '\u{D7FF}' => Some('\u{E000}'),
        char::MAX => None,
        _ => char::from_u32(u32::from(c) + 1),
    }
}

const DIGIT: &[(char, char)] = &[('0', '9')];
const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
const SPACE: &[(char, char)] = &[('\t', '\r'), (' ', ' ')];

/// A parsed pattern.
#[derive(Debug)]
enum Node {
    Class(Class),
    Start,
    End,
    /// `\b` (true) or `\B` (false).
    Boundary(bool),
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat(Box<Node>, u32, Option<u32>),
}

/// One instruction of the compiled program.
#[derive(Clone, Copy, Debug)]
enum Inst {
    /// Consume a character of class `classes[i]`.
    Class(usize),
    /// Continue at both.
    Split(usize, usize),
    Jump(usize),
    /// Only at the start of the string.
    Start,
    /// Only at its end.
    End,
    /// Only at a word boundary (true) or not at one (false).
    Boundary(bool),
    Match,
}

/// A compiled `pattern`.
#[derive(Clone, Debug)]
pub struct Pattern {
    program: Vec<Inst>,
    classes: Vec<Class>,
}

struct Parser<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    depth: usize,
}

impl Parser<'_> {
    fn eat(&mut self, c: char) -> bool {
        self.chars.next_if_eq(&c).is_some()
    }
    fn alternation(&mut self) -> Result<Node, PatternError> {
        let mut branches = vec![self.concat()?];
        while self.eat('|') {
            branches.push(self.concat()?);
        }
        Ok(if branches.len() == 1 {
            branches.remove(0)
        } else {
            Node::Alt(branches)
        })
    }
    fn concat(&mut self) -> Result<Node, PatternError> {
        let mut items = Vec::new();
        while let Some(&c) = self.chars.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            items.push(self.repetition(atom)?);
        }
        Ok(Node::Concat(items))
    }
    fn atom(&mut self) -> Result<Node, PatternError> {
        let Some(c) = self.chars.next() else {
            return Err(PatternError::Syntax);
        };
        Ok(match c {
            '^' => Node::Start,
            '$' => Node::End,
            '.' => Node::Class(Class::of(&[('\n', '\n')]).negate()),
            '[' => Node::Class(self.class()?),
            '(' => {
                if self.eat('?') && !self.eat(':') {
                    return Err(PatternError::Unsupported);
                }
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(PatternError::TooLarge);
                }
                let inner = self.alternation()?;
                self.depth -= 1;
                if !self.eat(')') {
                    return Err(PatternError::Syntax);
                }
                inner
            }
            // A lone `]` or `}` is a literal, as in regex-lite and ECMA-262's Annex B.
            ')' | '*' | '+' | '?' | '{' => return Err(PatternError::Syntax),
            '\\' if self.eat('b') => Node::Boundary(true),
            '\\' if self.eat('B') => Node::Boundary(false),
            '\\' => Node::Class(self.escape()?),
            c => Node::Class(Class::of(&[(c, c)])),
        })
    }
    /// The class of an escape (after `\`), in or out of a bracket class.
    fn escape(&mut self) -> Result<Class, PatternError> {
        let Some(c) = self.chars.next() else {
            return Err(PatternError::Syntax);
        };
        let one = |c: char| Ok(Class::of(&[(c, c)]));
        match c {
            'd' => Ok(Class::of(DIGIT)),
            'D' => Ok(Class::of(DIGIT).negate()),
            'w' => Ok(Class::of(WORD)),
            'W' => Ok(Class::of(WORD).negate()),
            's' => Ok(Class::of(SPACE)),
            'S' => Ok(Class::of(SPACE).negate()),
            't' => one('\t'),
            'n' => one('\n'),
            'r' => one('\r'),
            'f' => one('\x0C'),
            'v' => one('\x0B'),
            'x' => self.hex(Some(2)).and_then(one),
            'u' if self.eat('{') => {
                let c = self.hex(None)?;
                if self.eat('}') {
                    one(c)
                } else {
                    Err(PatternError::Syntax)
                }
            }
            'u' => self.hex(Some(4)).and_then(one),
            c if c.is_ascii_punctuation() && c != '<' && c != '>' => one(c),
            _ => Err(PatternError::Unsupported),
        }
    }
    /// `n` hex digits (or 1 to 6 until a non-digit, for `\u{…}`) as a character.
    fn hex(&mut self, n: Option<usize>) -> Result<char, PatternError> {
        let mut v: u32 = 0;
        let mut count = 0;
        while !matches!(n, Some(n) if count >= n) {
            let Some(d) = self.chars.peek().and_then(|c| c.to_digit(16)) else {
                break;
            };
            self.chars.next();
            v = v.saturating_mul(16).saturating_add(d);
            count += 1;
            if count > 6 {
                return Err(PatternError::Syntax);
            }
        }
        if count == 0 || n.is_some_and(|n| count != n) {
            return Err(PatternError::Syntax);
        }
        char::from_u32(v).ok_or(PatternError::Syntax)
    }
    /// A bracket class, after `[`.
    fn class(&mut self) -> Result<Class, PatternError> {
        let negated = self.eat('^');
        let mut ranges: Vec<(char, char)> = Vec::new();
        let mut first = true;
        loop {
            let Some(c) = self.chars.next() else {
                return Err(PatternError::Syntax);
            };
            if c == ']' && !first {
                break;
            }
            first = false;
            if c == '[' || (matches!(c, '&' | '-' | '~') && self.chars.peek() == Some(&c)) {
                return Err(PatternError::Unsupported);
            }
            let lo = if c == '\\' {
                let e = self.escape()?;
                match e.0.as_slice() {
                    [(a, b)] if a == b => *a,
                    _ => {
                        ranges.extend_from_slice(&e.0);
                        continue;
                    }
                }
            } else {
                c
            };
            let dash_range = self.chars.peek() == Some(&'-')
                && self.chars.clone().nth(1).is_some_and(|n| n != ']');
            if !dash_range {
                ranges.push((lo, lo));
                continue;
            }
            self.chars.next();
            let hi = match self.chars.next() {
                Some('\\') => match self.escape()?.0.as_slice() {
                    [(a, b)] if a == b => *a,
                    _ => return Err(PatternError::Syntax),
                },
                Some('[') => return Err(PatternError::Unsupported),
                Some(h) => h,
                None => return Err(PatternError::Syntax),
            };
            if hi < lo {
                return Err(PatternError::Syntax);
            }
            ranges.push((lo, hi));
        }
        let class = Class::of(&ranges);
        Ok(if negated { class.negate() } else { class })
    }
    fn repetition(&mut self, atom: Node) -> Result<Node, PatternError> {
        let (min, max) = match self.chars.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => {
                self.chars.next();
                let counts = self.counts()?;
                return self.repeated(atom, counts);
            }
            _ => return Ok(atom),
        };
        self.chars.next();
        self.repeated(atom, (min, max))
    }
    /// `atom` repeated, after its quantifier: an optional lazy `?` (the same
    /// for a yes/no match), and no second quantifier (`a**`, `a+{2}`: refused
    /// by ECMA-262 and regex-lite alike), nor one on an anchor.
    fn repeated(
        &mut self,
        atom: Node,
        (min, max): (u32, Option<u32>),
    ) -> Result<Node, PatternError> {
        self.eat('?');
        if matches!(self.chars.peek(), Some('*' | '+' | '?' | '{'))
            || matches!(atom, Node::Start | Node::End | Node::Boundary(_))
        {
            return Err(PatternError::Syntax);
        }
        Ok(Node::Repeat(Box::new(atom), min, max))
    }
    /// `n}`, `n,}` or `n,m}` after `{`.
    fn counts(&mut self) -> Result<(u32, Option<u32>), PatternError> {
        let min = self.number()?;
        let max = if self.eat(',') {
            if self.chars.peek() == Some(&'}') {
                None
            } else {
                Some(self.number()?)
            }
        } else {
            Some(min)
        };
        if !self.eat('}') || max.is_some_and(|m| m < min) {
            return Err(PatternError::Syntax);
        }
        Ok((min, max))
    }
    fn number(&mut self) -> Result<u32, PatternError> {
        let mut n: u32 = 0;
        let mut any = false;
        while let Some(d) = self.chars.peek().and_then(|c| c.to_digit(10)) {
            self.chars.next();
            n = n.saturating_mul(10).saturating_add(d);
            any = true;
        }
        match (any, n) {
            (false, _) => Err(PatternError::Syntax),
            (true, n) if n > MAX_REPEAT => Err(PatternError::TooLarge),
            (true, n) => Ok(n),
        }
    }
}

struct Compiler {
    program: Vec<Inst>,
    classes: Vec<Class>,
}

impl Compiler {
    fn push(&mut self, i: Inst) -> Result<usize, PatternError> {
        if self.program.len() >= MAX_PROGRAM {
            return Err(PatternError::TooLarge);
        }
        self.program.push(i);
        Ok(self.program.len() - 1)
    }
    fn patch(&mut self, at: usize, to: usize) {
        if let Some(i) = self.program.get_mut(at) {
            match i {
                Inst::Split(_, b) => *b = to,
                Inst::Jump(t) => *t = to,
                _ => {}
            }
        }
    }
    fn node(&mut self, n: &Node) -> Result<(), PatternError> {
        match n {
            Node::Class(c) => {
                let at = match self.classes.iter().position(|k| k == c) {
                    Some(at) => at,
                    None => {
                        self.classes.push(c.clone());
                        self.classes.len() - 1
                    }
                };
                self.push(Inst::Class(at))?;
            }
            Node::Start => {
                self.push(Inst::Start)?;
            }
            Node::End => {
                self.push(Inst::End)?;
            }
            Node::Boundary(b) => {
                self.push(Inst::Boundary(*b))?;
            }
            Node::Concat(items) => {
                for i in items {
                    self.node(i)?;
                }
            }
            Node::Alt(branches) => {
                let mut jumps = Vec::new();
                for (k, b) in branches.iter().enumerate() {
                    if k + 1 < branches.len() {
                        let split = self.push(Inst::Split(0, 0))?;
                        self.program[split] = Inst::Split(split + 1, 0);
                        self.node(b)?;
                        jumps.push(self.push(Inst::Jump(0))?);
                        let next = self.program.len();
                        self.patch(split, next);
                    } else {
                        self.node(b)?;
                    }
                }
                let end = self.program.len();
                for j in jumps {
                    self.patch(j, end);
                }
            }
            Node::Repeat(inner, min, max) => {
                for _ in 0..*min {
                    self.node(inner)?;
                }
                match max {
                    None => {
                        let split = self.push(Inst::Split(0, 0))?;
                        self.program[split] = Inst::Split(split + 1, 0);
                        self.node(inner)?;
                        self.push(Inst::Jump(split))?;
                        let next = self.program.len();
                        self.patch(split, next);
                    }
                    Some(max) => {
                        let mut splits = Vec::new();
                        for _ in *min..*max {
                            let split = self.push(Inst::Split(0, 0))?;
                            self.program[split] = Inst::Split(split + 1, 0);
                            splits.push(split);
                            self.node(inner)?;
                        }
                        let end = self.program.len();
                        for s in splits {
                            self.patch(s, end);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl Pattern {
    /// Compiles `src`, refusing what is outside the subset (module docs).
    pub fn new(src: &str) -> Result<Pattern, PatternError> {
        let mut p = Parser {
            chars: src.chars().peekable(),
            depth: 0,
        };
        let node = p.alternation()?;
        if p.chars.next().is_some() {
            return Err(PatternError::Syntax); // an unmatched `)`
        }
        let mut c = Compiler {
            program: Vec::new(),
            classes: Vec::new(),
        };
        c.node(&node)?;
        c.push(Inst::Match)?;
        Ok(Pattern {
            program: c.program,
            classes: c.classes,
        })
    }

    /// Whether the pattern matches anywhere in `s` (JSON Schema's `pattern`
    /// is unanchored: `^`/`$` anchor it). Linear in `s`'s length.
    pub fn is_match(&self, s: &str) -> bool {
        let n = self.program.len();
        let mut current = Threads::new(n);
        let mut next = Threads::new(n);
        let mut stack = Vec::new();
        let mut chars = s.chars();
        let mut prev = None;
        loop {
            // Unanchored search: a new thread starts at every position.
            if self.add(&mut current, &mut stack, 0, prev, chars.clone().next()) {
                return true;
            }
            let Some(c) = chars.next() else {
                return false;
            };
            prev = Some(c);
            let following = chars.clone().next();
            next.clear();
            for k in 0..current.len {
                let pc = current.dense[k];
                if let Some(Inst::Class(i)) = self.program.get(pc) {
                    if self.classes.get(*i).is_some_and(|cl| cl.contains(c))
                        && self.add(&mut next, &mut stack, pc + 1, prev, following)
                    {
                        return true;
                    }
                }
            }
            std::mem::swap(&mut current, &mut next);
        }
    }

    /// Adds `pc` and what it reaches without consuming a character, between
    /// `prev` and `next` (`None`: the string's start or end); true when that
    /// reaches `Match`.
    fn add(
        &self,
        t: &mut Threads,
        stack: &mut Vec<usize>,
        pc: usize,
        prev: Option<char>,
        next: Option<char>,
    ) -> bool {
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        stack.push(pc);
        while let Some(pc) = stack.pop() {
            if !t.insert(pc) {
                continue;
            }
            match self.program.get(pc) {
                Some(Inst::Match) => return true,
                Some(Inst::Jump(to)) => stack.push(*to),
                Some(Inst::Split(a, b)) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                Some(Inst::Start) if prev.is_none() => stack.push(pc + 1),
                Some(Inst::End) if next.is_none() => stack.push(pc + 1),
                Some(Inst::Boundary(b)) if (word(prev) != word(next)) == *b => stack.push(pc + 1),
                _ => {}
            }
        }
        false
    }
}

/// A sparse set of program counters: O(1) insert, clear and iteration in insertion order.
struct Threads {
    dense: Vec<usize>,
    sparse: Vec<usize>,
    len: usize,
}

impl Threads {
    fn new(n: usize) -> Threads {
        Threads {
            dense: vec![0; n],
            sparse: vec![0; n],
            len: 0,
        }
    }
    fn clear(&mut self) {
        self.len = 0;
    }
    fn insert(&mut self, pc: usize) -> bool {
        match self.sparse.get(pc) {
            None => return false,
            Some(&s) if s < self.len && self.dense.get(s) == Some(&pc) => return false,
            Some(_) => {}
        }
        if let (Some(d), Some(x)) = (self.dense.get_mut(self.len), self.sparse.get_mut(pc)) {
            *d = pc;
            *x = self.len;
            self.len += 1;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Pattern::new(p)
            .unwrap_or_else(|e| panic!("{p:?}: {e:?}"))
            .is_match(s)
    }

    #[test]
    fn each_construct() {
        assert!(m("abc", "xxabcxx") && !m("abc", "ab"));
        assert!(m("^abc$", "abc") && !m("^abc$", "abcd") && !m("^abc$", "xabc"));
        assert!(m("^a.c$", "abc") && m("^a.c$", "aéc") && !m("^a.c$", "a\nc"));
        assert!(m("^[a-c_]+$", "ab_c") && !m("^[a-c_]+$", "abd"));
        assert!(m("^[^0-9]$", "x") && !m("^[^0-9]$", "5"));
        assert!(m(r"^\d\D\w\W\s\S$", "1a_ \tx") && !m(r"^\d$", "٣"));
        assert!(m(r"^\x41\u0042\u{43}\t$", "ABC\t"));
        assert!(m(
            r"^\.\+\*\?\(\)\[\]\{\}\|\^\$\\\/\-$",
            r".+*?()[]{}|^$\/-"
        ));
        assert!(m("^(ab|cd)+$", "abcdab") && !m("^(ab|cd)+$", "abc"));
        assert!(m("^(?:a|b)?c$", "c") && m("^(?:a|b)?c$", "bc"));
        assert!(m("^a{3}$", "aaa") && !m("^a{3}$", "aa") && !m("^a{3}$", "aaaa"));
        assert!(m("^a{2,}$", "aaaaa") && !m("^a{2,}$", "a"));
        assert!(m("^a{1,3}$", "aaa") && !m("^a{1,3}$", "aaaa") && !m("^a{1,3}$", ""));
        assert!(m("^a*?b+?c??$", "aabb") && m("^a{1,2}?$", "aa"));
        assert!(m("", "anything") && m("a|", "zzz") && m("^$", "") && !m("^$", "x"));
        assert!(m("^a]}$", "a]}") && m("}", "}"));
        assert!(m("[-a]", "-") && m("[a-]", "-") && m("[]a]", "]") && m(r"[\d_]", "_"));
        assert!(m(r"^[\s\S]+$", "any\nthing") && m(r"^[^\s]+$", "abc"));
        assert!(m(r"\bcat\b", "a cat!") && !m(r"\bcat\b", "concat") && m(r"\Bcat", "concat"));
    }

    #[test]
    fn refusals() {
        use PatternError::*;
        for (p, e) in [
            ("(", Syntax),
            (")", Syntax),
            ("[a", Syntax),
            ("a**", Syntax),
            ("*a", Syntax),
            ("a{2", Syntax),
            ("a{3,2}", Syntax),
            ("[z-a]", Syntax),
            ("\\", Syntax),
            ("^*", Syntax),
            (r"\1", Unsupported),
            (r"\p{L}", Unsupported),
            ("(?=a)", Unsupported),
            ("(?i)a", Unsupported),
            ("(?<n>a)", Unsupported),
            ("[a&&b]", Unsupported),
            ("[[a]]", Unsupported),
            ("a{1001}", TooLarge),
            ("(a{100}){100}", TooLarge),
        ] {
            assert_eq!(Pattern::new(p).err(), Some(e), "{p:?}");
        }
        let deep = format!(
            "{}a{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(Pattern::new(&deep).err(), Some(TooLarge));
    }

    #[test]
    fn pathological_patterns_stay_linear() {
        let long = "a".repeat(100_000);
        for p in [
            "(a*)*b",
            "(a|a)*b",
            "(a+)+b",
            "^(a|aa)*c$",
            "(a{0,8}){0,8}b",
        ] {
            assert!(!m(p, &long), "{p}");
        }
        assert!(m("(a*)*b", &format!("{long}b")));
    }

    /// Agrees with regex-lite (the engine it replaced) on realistic JSON
    /// Schema patterns over generated strings.
    #[test]
    fn agrees_with_regex_lite() {
        let patterns = [
            r"^[a-z0-9_-]{3,16}$",
            r"^\+?[1-9]\d{1,14}$",
            r"^#[0-9a-fA-F]{6}$",
            r"^\d{4}-\d{2}-\d{2}$",
            r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$",
            r"^[A-Z]{2}\d{2}[A-Z0-9]{4,30}$",
            r"^(?:[a-z]+\.)*[a-z]+$",
            r"ab|cd|ef",
            r"^a(b|c)*d$",
            r"x{2,3}y?",
            r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
            r"\d+",
            r"^\w+$",
            r"^\S*$",
            r"[aeiou]{2}",
            r"^(ab)+$",
            r"^.{0,5}$",
            r"^[a-c]*(b|cc)?[0-2]+$",
            r"^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$",
            r"é+",
            r"^[^a-z]*$",
            r"(a|b)*c",
            r"^[\w.+-]+$",
            r"\s",
            r"^a??b*?$",
            r"^(a{1,2}b){2}$",
            r"^(|a)(b|)$",
            r"^(a*)*(b+)+$",
            r"[日本]+語",
            r"^[a-c-e]+$",
            // The project's own policies (supabase/functions/*/policy.json).
            r"^([a-z_][a-z0-9_]{0,62}\.)?[a-z_][a-z0-9_.:-]{0,63}$",
            r"^[A-Z]{3}$",
            r"^[A-Za-z0-9_:.-]{1,128}$",
            r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$",
            r"^evt_[A-Za-z0-9]{1,255}$",
            r"\bab\b",
            r"\B\d+\b",
            r"^\b$",
            r"\b",
        ];
        let alphabet: Vec<char> = "abcdexyz0129AZT_-.+:@# \té日本語😀".chars().collect();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for p in patterns {
            let ours = Pattern::new(p).unwrap_or_else(|e| panic!("{p}: {e:?}"));
            let theirs = regex_lite::Regex::new(p).unwrap();
            let mut inputs: Vec<String> = vec![
                String::new(),
                "2026-12-03".into(),
                "1.2.3-rc.1".into(),
                "192.168.0.1".into(),
                "a@b.co".into(),
                "abcd".into(),
                "+4915112345678".into(),
                "#a1B2c3".into(),
                "DE44500105175407324931".into(),
                "public.users".into(),
                "auth.sign_in:ok".into(),
                "2024-01-31T10:00:00Z".into(),
                "2024-01-31T10:00:00.123456+01:00".into(),
                "evt_1NqX".into(),
                "EUR".into(),
                "日本語".into(),
            ];
            for _ in 0..400 {
                let len = (next() % 12) as usize;
                inputs.push(
                    (0..len)
                        .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                        .collect(),
                );
            }
            for s in &inputs {
                assert_eq!(ours.is_match(s), theirs.is_match(s), "{p} on {s:?}");
            }
        }
    }
}
