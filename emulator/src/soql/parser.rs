//! Recursive-descent SOQL parser: the subset the worker and real clients send (see the
//! crate README). Errors are `MALFORMED_QUERY` in Salesforce's caret form.

use super::ast::*;
use super::lexer::{Tok, Token, lex, malformed};
use crate::error::ApiError;

pub fn parse(q: &str) -> Result<Query, ApiError> {
    let toks = lex(q)?;
    let mut p = Parser { q, toks, i: 0 };
    let query = p.query()?;
    if p.peek().tok != Tok::Eof {
        return Err(p.unexpected());
    }
    Ok(query)
}

struct Parser<'a> {
    q: &'a str,
    toks: Vec<Token>,
    i: usize,
}

const RELATIVE_DATES: &[&str] = &[
    "TODAY",
    "YESTERDAY",
    "TOMORROW",
    "LAST_WEEK",
    "THIS_WEEK",
    "NEXT_WEEK",
    "LAST_MONTH",
    "THIS_MONTH",
    "NEXT_MONTH",
    "LAST_YEAR",
    "THIS_YEAR",
    "NEXT_YEAR",
    "LAST_90_DAYS",
    "NEXT_90_DAYS",
];
const RELATIVE_N: &[&str] = &[
    "LAST_N_DAYS",
    "NEXT_N_DAYS",
    "N_DAYS_AGO",
    "LAST_N_MONTHS",
    "NEXT_N_MONTHS",
    "LAST_N_YEARS",
    "NEXT_N_YEARS",
    "N_MONTHS_AGO",
    "N_YEARS_AGO",
];

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.toks[self.i.min(self.toks.len() - 1)]
    }
    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        // May step past the final Eof; `peek` clamps, and callers step back with `i -= 1`.
        if self.i < self.toks.len() {
            self.i += 1;
        }
        t
    }
    fn unexpected(&self) -> ApiError {
        let t = self.peek();
        malformed(
            self.q,
            t.pos,
            &format!("unexpected token: '{}'", t.tok.text()),
        )
    }
    fn expect_kw(&mut self, kw: &str) -> Result<(), ApiError> {
        if self.peek().tok.is_kw(kw) {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.peek().tok.is_kw(kw) {
            self.next();
            true
        } else {
            false
        }
    }
    fn expect(&mut self, tok: Tok) -> Result<(), ApiError> {
        if self.peek().tok == tok {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn query(&mut self) -> Result<Query, ApiError> {
        self.expect_kw("SELECT")?;
        let mut items = Vec::new();
        loop {
            items.push(self.select_item()?);
            if self.peek().tok == Tok::Comma {
                self.next();
            } else {
                break;
            }
        }
        self.expect_kw("FROM")?;
        let t = self.next();
        let Tok::Ident(object) = t.tok else {
            self.i -= 1;
            return Err(self.unexpected());
        };
        // Optional alias is not supported by real clients we serve; USING SCOPE is ignored.
        if self.eat_kw("USING") {
            self.expect_kw("SCOPE")?;
            self.next();
        }
        let where_ = if self.eat_kw("WHERE") {
            Some(self.or_cond()?)
        } else {
            None
        };
        if self.eat_kw("WITH") {
            // WITH SECURITY_ENFORCED / USER_MODE: the emulator always enforces FLS.
            self.next();
        }
        let mut order = Vec::new();
        if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            loop {
                let path = self.path()?;
                let desc = if self.eat_kw("DESC") {
                    true
                } else {
                    self.eat_kw("ASC");
                    false
                };
                let mut nulls_last = desc;
                if self.eat_kw("NULLS") {
                    if self.eat_kw("LAST") {
                        nulls_last = true;
                    } else {
                        self.expect_kw("FIRST")?;
                        nulls_last = false;
                    }
                }
                order.push(OrderItem {
                    path,
                    desc,
                    nulls_last,
                });
                if self.peek().tok == Tok::Comma {
                    self.next();
                } else {
                    break;
                }
            }
        }
        let mut limit = None;
        let mut offset = None;
        if self.eat_kw("LIMIT") {
            limit = Some(self.integer()?);
        }
        if self.eat_kw("OFFSET") {
            offset = Some(self.integer()?);
        }
        if self.eat_kw("FOR") {
            self.next(); // VIEW / REFERENCE / UPDATE
        }
        Ok(Query {
            items,
            object,
            object_pos: t.pos,
            where_,
            order,
            limit,
            offset,
        })
    }

    fn integer(&mut self) -> Result<u64, ApiError> {
        match self.peek().tok.clone() {
            Tok::Num(n) => match n.parse::<u64>() {
                Ok(v) => {
                    self.next();
                    Ok(v)
                }
                Err(_) => Err(self.unexpected()),
            },
            _ => Err(self.unexpected()),
        }
    }

    fn select_item(&mut self) -> Result<SelectItem, ApiError> {
        let t = self.peek().clone();
        if t.tok == Tok::LParen {
            self.next();
            let sub = self.query()?;
            self.expect(Tok::RParen)?;
            return Ok(SelectItem::Sub(Box::new(sub)));
        }
        let next_is_paren = self
            .toks
            .get(self.i + 1)
            .is_some_and(|n| n.tok == Tok::LParen);
        if t.tok.is_kw("COUNT") && next_is_paren {
            self.next();
            self.next();
            if self.peek().tok == Tok::RParen {
                self.next();
                return Ok(SelectItem::Count);
            }
            let p = self.path()?;
            self.expect(Tok::RParen)?;
            let alias = match &self.peek().tok {
                Tok::Ident(a) if !a.eq_ignore_ascii_case("FROM") => {
                    let a = a.clone();
                    self.next();
                    Some(a)
                }
                _ => None,
            };
            return Ok(SelectItem::CountOf(p, alias));
        }
        if t.tok.is_kw("FIELDS") && next_is_paren {
            self.next();
            self.next();
            let which = if self.eat_kw("ALL") {
                FieldsFn::All
            } else if self.eat_kw("STANDARD") {
                FieldsFn::Standard
            } else if self.eat_kw("CUSTOM") {
                FieldsFn::Custom
            } else {
                return Err(self.unexpected());
            };
            self.expect(Tok::RParen)?;
            return Ok(SelectItem::Fields(which, t.pos));
        }
        Ok(SelectItem::Field(self.path()?))
    }

    fn path(&mut self) -> Result<Path, ApiError> {
        let t = self.next();
        let Tok::Ident(first) = t.tok else {
            self.i -= 1;
            return Err(self.unexpected());
        };
        let mut parts = vec![first];
        while self.peek().tok == Tok::Dot {
            self.next();
            let n = self.next();
            let Tok::Ident(s) = n.tok else {
                self.i -= 1;
                return Err(self.unexpected());
            };
            parts.push(s);
        }
        Ok(Path { parts, pos: t.pos })
    }

    fn or_cond(&mut self) -> Result<Cond, ApiError> {
        let mut v = vec![self.and_cond()?];
        while self.eat_kw("OR") {
            v.push(self.and_cond()?);
        }
        Ok(if v.len() == 1 {
            v.remove(0)
        } else {
            Cond::Or(v)
        })
    }

    fn and_cond(&mut self) -> Result<Cond, ApiError> {
        let mut v = vec![self.not_cond()?];
        while self.eat_kw("AND") {
            v.push(self.not_cond()?);
        }
        Ok(if v.len() == 1 {
            v.remove(0)
        } else {
            Cond::And(v)
        })
    }

    fn not_cond(&mut self) -> Result<Cond, ApiError> {
        if self.eat_kw("NOT") {
            return Ok(Cond::Not(Box::new(self.not_cond()?)));
        }
        if self.peek().tok == Tok::LParen {
            self.next();
            let c = self.or_cond()?;
            self.expect(Tok::RParen)?;
            return Ok(c);
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Cond, ApiError> {
        let path = self.path()?;
        let t = self.peek().clone();
        match &t.tok {
            Tok::Op(op) => {
                self.next();
                let value_pos = self.peek().pos;
                let value = self.literal()?;
                Ok(Cond::Cmp {
                    path,
                    op,
                    value,
                    value_pos,
                })
            }
            Tok::Ident(k) if k.eq_ignore_ascii_case("LIKE") => {
                self.next();
                match self.next().tok {
                    Tok::Str(s) => Ok(Cond::Like {
                        path,
                        pattern: s,
                        not: false,
                    }),
                    _ => {
                        self.i -= 1;
                        Err(self.unexpected())
                    }
                }
            }
            Tok::Ident(k)
                if k.eq_ignore_ascii_case("IN")
                    || k.eq_ignore_ascii_case("NOT")
                    || k.eq_ignore_ascii_case("INCLUDES")
                    || k.eq_ignore_ascii_case("EXCLUDES") =>
            {
                self.next();
                let mut not = k.eq_ignore_ascii_case("EXCLUDES");
                if k.eq_ignore_ascii_case("NOT") {
                    self.expect_kw("IN")?;
                    not = true;
                }
                self.expect(Tok::LParen)?;
                if self.peek().tok.is_kw("SELECT") {
                    let sub = self.query()?;
                    self.expect(Tok::RParen)?;
                    return Ok(Cond::InQuery {
                        path,
                        not,
                        sub: Box::new(sub),
                    });
                }
                let mut values = Vec::new();
                loop {
                    values.push(self.literal()?);
                    if self.peek().tok == Tok::Comma {
                        self.next();
                    } else {
                        break;
                    }
                }
                self.expect(Tok::RParen)?;
                Ok(Cond::In { path, not, values })
            }
            _ => Err(self.unexpected()),
        }
    }

    fn literal(&mut self) -> Result<Lit, ApiError> {
        let t = self.next();
        Ok(match t.tok {
            Tok::Str(s) => Lit::Str(s),
            Tok::Num(n) => match n.parse::<f64>() {
                Ok(v) => Lit::Num(v),
                Err(_) => {
                    self.i -= 1;
                    return Err(self.unexpected());
                }
            },
            Tok::DateLit(d) => {
                if d.len() == 10 {
                    Lit::Date(d)
                } else {
                    Lit::DateTime(d)
                }
            }
            Tok::Ident(w) if w.eq_ignore_ascii_case("null") => Lit::Null,
            Tok::Ident(w) if w.eq_ignore_ascii_case("true") => Lit::Bool(true),
            Tok::Ident(w) if w.eq_ignore_ascii_case("false") => Lit::Bool(false),
            Tok::Ident(w) if RELATIVE_DATES.iter().any(|d| d.eq_ignore_ascii_case(&w)) => {
                Lit::Relative(w.to_ascii_uppercase(), 0)
            }
            Tok::Ident(w) if RELATIVE_N.iter().any(|d| d.eq_ignore_ascii_case(&w)) => {
                self.expect(Tok::Colon)?;
                let n = self.integer()? as i64;
                Lit::Relative(w.to_ascii_uppercase(), n)
            }
            _ => {
                self.i -= 1;
                return Err(self.unexpected());
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_shapes() {
        let q = parse(
            "SELECT Id, Account.Name, (SELECT Id FROM Cases WHERE Status != 'Closed' LIMIT 5) \
             FROM Contact WHERE (Email = 'a@b.com' OR Email LIKE '%@x.com') AND NOT Name IN ('a','b') \
             AND CreatedDate > LAST_N_DAYS:30 AND Id > '003000000000000AAA' ORDER BY Name DESC NULLS LAST LIMIT 10 OFFSET 5",
        )
        .unwrap();
        assert_eq!(q.items.len(), 3);
        assert_eq!(q.limit, Some(10));
        assert_eq!(q.offset, Some(5));
        assert!(q.order[0].desc);
    }

    #[test]
    fn caret_points_at_the_bad_token() {
        let e = parse("SELECT Id FROM Contact WHERE").unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
        assert!(
            e.message.contains("unexpected token: '<EOF>'"),
            "{}",
            e.message
        );
        let e = parse("SELECT FROM Contact").unwrap_err();
        assert!(
            e.message.starts_with("\nSELECT FROM Contact\n"),
            "{}",
            e.message
        );
    }
}
