//! Value detectors: one value (and its field's profile) in, the data types it holds out.
//!
//! One multi-pattern pass ([`regex::RegexSet`]) tells which candidate families occur in the
//! value; only those families' patterns are then run to extract candidates, and exact
//! validators confirm each one. Whole-value detectors (names, places, hinted ids) run only on
//! short text fields. Each finding records both the candidates seen (a value of the right
//! shape) and the hits (validated), so aggregation can tell a checksum column (nearly every
//! candidate validates) from random numbers (one in ten does).

use super::lexicon;
use super::profile::{ContentKind, CredentialName, FieldProfile};
use super::types::{DataType, TypeSet};
use super::validators as v;
use phonenumber::country::Id as Region;
use regex::{Regex, RegexSet};
use std::str::FromStr;
use std::sync::LazyLock;

/// What one value holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Findings {
    /// Validated values of these types.
    pub hits: TypeSet,
    /// Values shaped like these types (validated or not).
    pub cands: TypeSet,
}

impl Findings {
    fn hit(&mut self, t: DataType) {
        self.hits.insert(t);
        self.cands.insert(t);
    }
    fn cand(&mut self, t: DataType) {
        self.cands.insert(t);
    }
    fn check(&mut self, t: DataType, ok: bool) {
        if ok { self.hit(t) } else { self.cand(t) }
    }
}

// Candidate families, in `PATTERNS` order.
const EMAIL: usize = 0;
const URL: usize = 1;
const NUM: usize = 2;
const IBAN: usize = 3;
const NINO: usize = 4;
const NIF: usize = 5;
const INSEE_CORSICA: usize = 6;
const IPV4: usize = 7;
const IPV6: usize = 8;
const MAC: usize = 9;
const GEO: usize = 10;
const CRED: usize = 11;

const PATTERNS: &[&str] = &[
    r"[A-Za-z0-9._%+\-']+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
    r"(?i)(?:https?://|www\.)[^\s<>\x22'()\[\]]+",
    r"\+?\(?\d[\d \-.()/]{5,22}\d",
    r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b",
    r"(?i)\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
    r"(?i)\b[XYZ0-9]-?\d{7}-? ?[A-Z]\b",
    r"\b[12] ?\d{2} ?\d{2} ?2[AB] ?\d{3} ?\d{3} ?\d{2}\b",
    r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b",
    r"(?i)(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{0,4}(?::[0-9a-f]{1,4}){0,6}|::(?:[0-9a-f]{1,4}:?){1,7}",
    r"(?i)\b[0-9a-f]{2}(?:[:-][0-9a-f]{2}){5}\b|\b[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}\b",
    r"-?\d{1,2}\.\d{3,}\s*,\s*-?\d{1,3}\.\d{3,}",
    r"\b(?:sk_(?:live|test)_[A-Za-z0-9]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9\-]{10,}|AIza[0-9A-Za-z_\-]{35}|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})|(?i)\b(?:password|passwd|pwd|api[_ -]?key|secret|token)\s*[:=]\s*\S{6,}",
];

struct Compiled {
    set: RegexSet,
    each: Vec<Regex>,
    postal: Vec<Regex>,
    postal_distinct: Vec<Regex>,
}

static COMPILED: LazyLock<Compiled> = LazyLock::new(|| {
    // The patterns are constants covered by tests: failing to compile is a programming error.
    #[allow(clippy::expect_used)]
    let compile = |p: &str| Regex::new(p).expect("detector pattern compiles");
    #[allow(clippy::expect_used)]
    let set = RegexSet::new(PATTERNS).expect("detector patterns compile");
    Compiled {
        set,
        each: PATTERNS.iter().map(|p| compile(p)).collect(),
        postal: [
            r"^\d{5}(?:-\d{4})?$", // US, DE, FR, ES, IT, MX
            r"^\d{4}$",            // AU, BE, CH, AT, DK, NO
            r"^\d{6}$",            // IN, CN, RU, SG
            r"^\d{3}-\d{4}$",      // JP
            r"^\d{5}-?\d{3}$",     // BR
            r"^\d{2}-\d{3}$",      // PL
            r"^\d{3} ?\d{2}$",     // SE, CZ, GR
            r"^\d{4}-\d{3}$",      // PT
        ]
        .iter()
        .map(|p| compile(p))
        .collect(),
        postal_distinct: [
            r"(?i)^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$", // UK
            r"(?i)^[A-Z]\d[A-Z] ?\d[A-Z]\d$",          // CA
            r"(?i)^\d{4} ?[A-Z]{2}$",                  // NL
        ]
        .iter()
        .map(|p| compile(p))
        .collect(),
    }
});

/// Regions tried, in order, for a hinted phone field whose record gives no country.
const FALLBACK_REGIONS: &[Region] = &[
    Region::US,
    Region::GB,
    Region::DE,
    Region::FR,
    Region::ES,
    Region::IT,
    Region::NL,
    Region::BR,
    Region::IN,
    Region::CA,
    Region::AU,
    Region::MX,
    Region::JP,
];

/// The phone region for a country value ("Germany", "DE").
pub fn region_of(country: &str) -> Option<Region> {
    lexicon::country_code(country).and_then(|c| Region::from_str(c).ok())
}

/// The detector. Stateless apart from today's date (for plausible birth dates).
#[derive(Debug, Clone)]
pub struct Detector {
    today: chrono::NaiveDate,
}

impl Default for Detector {
    fn default() -> Self {
        Self::new(chrono::Utc::now().date_naive())
    }
}

fn edge_ok(text: &str, start: usize, end: usize, forbidden: &[u8]) -> bool {
    let b = text.as_bytes();
    let before = start.checked_sub(1).map(|i| b[i]);
    let after = b.get(end).copied();
    let bad =
        |c: Option<u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || forbidden.contains(&c));
    // A sentence-ending dot after a value is fine.
    let after_bad = match after {
        Some(b'.') => b.get(end + 1).is_some_and(|c| !c.is_ascii_whitespace()),
        other => bad(other),
    };
    !bad(before) && !after_bad
}

/// A credential pattern's match. A vendor-prefixed key (`sk_live_…`, `AKIA…`) is one as
/// found; `key: value` is judged by its key: a password is whatever its owner chose (six
/// characters or more), while a token, secret or API key is machine-made, so its value must
/// look random ("token: expired" or "API key: rotated" is a remark, not a secret).
fn credential_match(text: &str) -> bool {
    let Some((key, value)) = text.split_once(['=', ':']) else {
        return true;
    };
    let value = value
        .trim()
        .trim_end_matches(['.', ',', ';', '!', '?', ')', '"', '\'']);
    match key.trim().to_ascii_lowercase().as_str() {
        "password" | "passwd" | "pwd" => value.len() >= 6,
        _ => v::secret_token(value),
    }
}

/// Whether the last few words before a position announce a phone number.
fn phone_context(before: &str) -> bool {
    const WORDS: &[&str] = &[
        "call",
        "phone",
        "tel",
        "telephone",
        "mobile",
        "cell",
        "ring",
        "whatsapp",
        "fax",
        "sms",
    ];
    before
        .rsplit(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(4)
        .any(|w| WORDS.iter().any(|k| w.eq_ignore_ascii_case(k)))
}

fn is_name_token(tok: &str) -> bool {
    let mut letters = 0;
    for c in tok.chars() {
        if c.is_alphabetic() {
            letters += 1;
        } else if !matches!(c, '\'' | '-' | '.' | '’') {
            return false;
        }
    }
    letters >= 1
}

fn word_shaped(s: &str, max_tokens: usize) -> bool {
    let toks: Vec<&str> = s.split_whitespace().collect();
    !toks.is_empty()
        && toks.len() <= max_tokens
        && s.len() <= 60
        && toks.iter().all(|t| is_name_token(t))
}

/// Compiled patterns phonenumber's shared cache keeps. Its default of 100 is fewer than a few
/// regions' formats and types need, so a scan of numbers from several regions evicted and
/// recompiled patterns on nearly every call (two thirds of a scan's CPU, measured). A bound
/// remains because each compiled pattern keeps its own DFA caches.
const PHONE_PATTERN_CACHE: usize = 1024;

/// Swaps phonenumber's pattern cache for a larger one, once per process. Its compiled patterns
/// reach the cache through the same shared handle, so they use the new one from here on.
fn widen_phone_pattern_cache() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let cache = phonenumber::metadata::DATABASE.cache();
        let mut guard = match cache.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard = regex_cache::RegexCache::new(PHONE_PATTERN_CACHE);
    });
}

impl Detector {
    pub fn new(today: chrono::NaiveDate) -> Self {
        LazyLock::force(&COMPILED);
        widen_phone_pattern_cache();
        Self { today }
    }

    /// Detects the data types in one value of a field with this profile. `region` is the
    /// record's country (for national phone formats), if it has one.
    pub fn detect(&self, value: &str, p: &FieldProfile, region: Option<Region>) -> Findings {
        let mut f = Findings::default();
        let value = value.trim();
        if value.is_empty() {
            return f;
        }
        match p.kind {
            ContentKind::Skip => return f,
            ContentKind::Date => {
                if p.hints.contains(DataType::DateOfBirth) {
                    f.check(
                        DataType::DateOfBirth,
                        v::plausible_birth_date(value, self.today),
                    );
                }
                return f;
            }
            ContentKind::Number => {
                if p.hints.contains(DataType::Geolocation) {
                    f.check(DataType::Geolocation, v::coordinate(value));
                }
                return f;
            }
            ContentKind::Text | ContentKind::FreeText => {}
        }
        let whole = p.kind == ContentKind::Text && value.len() <= 200 && !value.contains('\n');
        if whole {
            self.whole_value(value, p, &mut f);
        }
        self.embedded(value, p, region, whole, &mut f);
        if p.kind == ContentKind::FreeText {
            self.embedded_names(value, &mut f);
        }
        f
    }

    /// Names inside text: two to four capitalised words where a word is a known given name
    /// followed by another capitalised word ("Hi, this is Jane Doe."), or a known given name
    /// and a known surname. Sentence-initial single words never count.
    fn embedded_names(&self, s: &str, f: &mut Findings) {
        let words: Vec<&str> = s
            .split(|c: char| {
                c.is_whitespace()
                    || matches!(c, ',' | '.' | ';' | ':' | '!' | '?' | '(' | ')' | '"')
            })
            .filter(|w| !w.is_empty())
            .collect();
        let capitalised = |w: &str| {
            let mut cs = w.chars();
            cs.next().is_some_and(char::is_uppercase)
                && cs.all(|c| c.is_alphabetic() || c == '\'' || c == '-')
        };
        for pair in words.windows(2) {
            if capitalised(pair[0]) && capitalised(pair[1]) {
                let (a, b) = (lexicon::fold(pair[0]), lexicon::fold(pair[1]));
                if lexicon::FIRST.contains(&a)
                    && (lexicon::LAST.contains(&b) || !lexicon::COMPANY.contains(&b))
                {
                    f.hit(DataType::PersonName);
                    return;
                }
            }
        }
    }

    /// Detectors that judge the value as a whole: names, places, hinted identifiers.
    fn whole_value(&self, s: &str, p: &FieldProfile, f: &mut Findings) {
        use DataType::*;
        let folded = lexicon::fold(s);
        let weak = TypeSet::of(&[
            PersonName,
            City,
            State,
            Country,
            PostalCode,
            StreetAddress,
            Gender,
        ]);
        let weak_hinted = TypeSet::of(
            &p.hints
                .iter()
                .filter(|t| weak.contains(*t))
                .collect::<Vec<_>>(),
        );
        let other_hinted = p.typed.union(p.hints).iter().any(|t| !weak.contains(t));
        // A hinted field is judged only on its hinted place/name types; an unhinted one on all.
        let consider = |t: DataType| {
            if weak_hinted.is_empty() {
                !other_hinted
            } else {
                weak_hinted.contains(t)
            }
        };
        let hinted = |t: DataType| p.hints.contains(t);

        if consider(PersonName)
            && let Some(ok) = self.person_name(s, hinted(PersonName))
        {
            f.check(PersonName, ok);
        }
        if consider(City) && word_shaped(s, 4) {
            f.check(City, hinted(City) || lexicon::CITY.contains(&folded));
        }
        if consider(State) && word_shaped(s, 4) {
            let known = lexicon::STATE.contains(&folded);
            f.check(
                State,
                if hinted(State) {
                    true
                } else {
                    known && folded.len() > 3
                },
            );
        }
        if consider(Country) && word_shaped(s, 5) {
            let known = lexicon::COUNTRY.contains_key(&folded);
            f.check(
                Country,
                if hinted(Country) {
                    true
                } else {
                    known && folded.len() > 3
                },
            );
        }
        if consider(PostalCode) {
            let c = &*COMPILED;
            let distinct = c.postal_distinct.iter().any(|r| r.is_match(s));
            let generic = c.postal.iter().any(|r| r.is_match(s));
            if hinted(PostalCode) {
                f.check(PostalCode, distinct || generic);
            } else if distinct && s.contains(' ') {
                f.hit(PostalCode);
            }
        }
        if consider(StreetAddress) {
            let has_digit = s.bytes().any(|b| b.is_ascii_digit());
            let has_alpha = s.chars().any(char::is_alphabetic);
            let words: Vec<String> = folded
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect();
            let street_word = words.iter().any(|w| lexicon::STREET.contains(w.as_str()))
                || words
                    .iter()
                    .any(|w| w.ends_with("strasse") || w.ends_with("straat") || w.ends_with("weg"));
            let first_is_number = words
                .first()
                .is_some_and(|w| w.bytes().next().is_some_and(|b| b.is_ascii_digit()));
            let last_is_number = words
                .last()
                .is_some_and(|w| w.bytes().next().is_some_and(|b| b.is_ascii_digit()));
            let shaped =
                has_digit && has_alpha && words.len() >= 2 && (first_is_number || last_is_number);
            if hinted(StreetAddress) {
                f.check(StreetAddress, has_digit && has_alpha);
            } else if shaped {
                f.check(StreetAddress, street_word);
            }
        }
        if consider(Gender) && s.len() <= 24 {
            let known = lexicon::GENDER.contains(&folded);
            if hinted(Gender) {
                f.check(Gender, known);
            } else if known && folded.len() > 1 {
                f.hit(Gender);
            }
        }
        if hinted(PassportNumber) {
            let ok = (6..=9).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                && s.bytes().any(|b| b.is_ascii_digit());
            f.check(PassportNumber, ok);
        }
        if hinted(DriversLicense) {
            let digits = s.bytes().filter(u8::is_ascii_digit).count();
            let ok = (4..=20).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b' ')
                && digits >= 2;
            f.check(DriversLicense, ok);
        }
        if hinted(DateOfBirth) {
            f.check(DateOfBirth, v::plausible_birth_date(s, self.today));
        }
        if p.hints.union(p.typed).contains(Url) && !s.contains('@') && !s.contains(' ') {
            f.check(Url, v::url(s, true));
        }
        if hinted(Credential) {
            // A password is whatever its owner chose; a token or key is machine-made, so a
            // picklist word or a date in an `…Token…` field is not one.
            let ok = match p.credential {
                Some(CredentialName::Token) => v::secret_token(s),
                _ => s.len() >= 6 && !s.contains(char::is_whitespace),
            };
            f.check(Credential, ok);
        }
        if hinted(Geolocation) {
            f.check(Geolocation, v::coordinate(s) || v::geo_pair(s));
        }
    }

    /// `Some(true)` a person's name, `Some(false)` name-shaped but not confirmed, `None` not
    /// name-shaped at all. Any casing: lexicons are case-folded.
    fn person_name(&self, s: &str, hinted: bool) -> Option<bool> {
        if !word_shaped(s, 5) {
            return None;
        }
        let folded = lexicon::fold(s);
        let words: Vec<&str> = folded
            .split([' ', '-'])
            .map(|w| w.trim_matches(|c: char| c == '.' || c == ','))
            .filter(|w| !w.is_empty())
            .collect();
        if words
            .iter()
            .any(|w| lexicon::COMPANY.contains(*w) || *w == "&" || *w == "and")
        {
            return Some(false);
        }
        let known = words
            .iter()
            .any(|w| lexicon::FIRST.contains(*w) || lexicon::LAST.contains(*w));
        Some(known || hinted)
    }

    /// Candidates embedded anywhere in the value.
    fn embedded(
        &self,
        s: &str,
        p: &FieldProfile,
        region: Option<Region>,
        whole: bool,
        f: &mut Findings,
    ) {
        let c = &*COMPILED;
        let matched = c.set.matches(s);
        if !matched.matched_any() {
            return;
        }
        for fam in matched.iter() {
            // Characters that may not touch a candidate: they make it part of a longer token
            // (a GUID segment, an order reference, a dotted version, an email's domain).
            let forbidden: &[u8] = match fam {
                EMAIL => b"@",
                URL => b"@.-",
                NUM => b"-_/.@#:",
                NIF => b"-",
                IPV4 => b".",
                IPV6 => b":.",
                _ => b"",
            };
            for m in c.each[fam].find_iter(s) {
                let text = m.as_str();
                if !edge_ok(s, m.start(), m.end(), forbidden) {
                    continue;
                }
                let spans_all = whole && m.start() == 0 && m.end() == s.len();
                // "Call back on 07911 123456": the words before a number vouch for a phone
                // the way a phone field's name does (any region's national format counts).
                let phone_hint = fam == NUM && phone_context(&s[..m.start()]);
                match fam {
                    EMAIL => f.check(DataType::Email, v::email(text)),
                    URL => {
                        let t = text.trim_end_matches(['.', ',', ';', ':', '!', '?']);
                        f.check(DataType::Url, v::url(t, false));
                    }
                    NUM => self.number(text, p, region, spans_all, phone_hint, f),
                    IBAN => f.check(DataType::Iban, v::iban(text)),
                    NINO => f.check(DataType::UkNino, v::uk_nino(text)),
                    NIF => f.check(DataType::EsNif, v::es_nif(text)),
                    INSEE_CORSICA => f.check(DataType::FrInsee, v::fr_insee(text)),
                    IPV4 => f.check(DataType::IpAddress, v::ip_address(text)),
                    // Times (12:30:45) and MACs share the shape; the parser decides.
                    IPV6 if text.matches(':').count() >= 2
                        && v::ip_address(text)
                        && !v::mac_address(text) =>
                    {
                        f.hit(DataType::IpAddress)
                    }
                    MAC => f.check(DataType::MacAddress, v::mac_address(text)),
                    GEO => f.check(DataType::Geolocation, v::geo_pair(text)),
                    CRED => f.check(DataType::Credential, credential_match(text)),
                    _ => {}
                }
            }
        }
        if p.typed.contains(DataType::Email) && !f.hits.contains(DataType::Email) {
            f.cand(DataType::Email);
        }
    }

    /// A run of digits with separators: cards, national ids, phones.
    #[allow(clippy::too_many_arguments)]
    fn number(
        &self,
        text: &str,
        p: &FieldProfile,
        region: Option<Region>,
        spans_all: bool,
        phone_hint: bool,
        f: &mut Findings,
    ) {
        use DataType::*;
        let has_plus = text.starts_with('+');
        let mut groups: Vec<usize> = Vec::with_capacity(6);
        let mut seps: Vec<u8> = Vec::with_capacity(6);
        let mut run = 0usize;
        let mut digits: Vec<u8> = Vec::with_capacity(text.len());
        for b in text.bytes() {
            if b.is_ascii_digit() {
                digits.push(b - b'0');
                run += 1;
            } else {
                if run > 0 {
                    groups.push(run);
                    run = 0;
                }
                if b != b'+' {
                    seps.push(b);
                }
            }
        }
        if run > 0 {
            groups.push(run);
        }
        let n = digits.len();
        let plain = groups.len() == 1 && !has_plus;
        let only = |allowed: &[u8]| seps.iter().all(|s| allowed.contains(s));
        let hint = |t: DataType| p.hints.contains(t);

        if v::parse_date(text).is_some() || (groups.len() == 4 && only(b".")) {
            return; // dates and dotted quads are not numbers of this kind
        }
        // Payment cards: 13–19 digits in plain or 4-grouped form.
        if (13..=19).contains(&n)
            && !has_plus
            && only(b" -")
            && (plain || groups.iter().all(|&g| g >= 4))
        {
            f.check(CreditCard, v::credit_card(text));
            if f.hits.contains(CreditCard) || !plain {
                return;
            }
        }
        if n == 9 && !has_plus {
            let dashed_ssn = groups == [3, 2, 4] && only(b"- ");
            let sin_shape = groups == [3, 3, 3] && only(b"- ");
            let bsn_shape = groups == [4, 2, 3] && only(b".");
            let id_hints = [UsSsn, UsItin, CaSin, NlBsn, AbaRouting];
            let hinted: Vec<DataType> = id_hints.iter().copied().filter(|t| hint(*t)).collect();
            let ssn_only = hinted.iter().all(|t| matches!(t, UsSsn | UsItin));
            if dashed_ssn || (plain && !hinted.is_empty() && ssn_only) {
                if v::us_itin(text) {
                    f.hit(UsItin);
                    f.cand(UsSsn);
                } else {
                    f.check(UsSsn, v::us_ssn(text));
                    f.cand(UsItin);
                }
                return;
            }
            if sin_shape {
                f.check(CaSin, v::ca_sin(text));
                return;
            }
            if bsn_shape {
                f.check(NlBsn, v::nl_bsn(text));
                return;
            }
            if plain {
                // Ambiguous plain nine digits: each checksum is a candidate; the field's
                // pass ratio decides which (if any) the column holds.
                let check = |t: DataType| hinted.is_empty() || hinted.contains(&t);
                if hint(UsSsn) {
                    f.check(UsSsn, v::us_ssn(text));
                }
                if check(AbaRouting) {
                    f.check(AbaRouting, v::aba_routing(text));
                }
                if check(NlBsn) {
                    f.check(NlBsn, v::nl_bsn(text));
                }
                if check(CaSin) {
                    f.check(CaSin, v::ca_sin(text));
                }
                if !hint(Phone) {
                    return;
                }
            }
        }
        if n == 11 && !has_plus && (plain || (groups == [3, 3, 3, 2] && only(b".-"))) {
            f.check(BrCpf, v::br_cpf(text));
            if f.hits.contains(BrCpf) || !plain {
                return;
            }
        }
        if n == 12 && !has_plus && (plain || (groups == [4, 4, 4] && only(b" -"))) {
            f.check(InAadhaar, v::in_aadhaar(text));
            if f.hits.contains(InAadhaar) || !plain {
                return;
            }
        }
        if n == 15
            && (plain || (groups == [1, 2, 2, 2, 3, 3, 2] && only(b" ")))
            && matches!(digits[0], 1 | 2)
        {
            f.check(FrInsee, v::fr_insee(text));
            return;
        }
        self.phone(
            text, &groups, &seps, has_plus, n, p, region, spans_all, phone_hint, f,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn phone(
        &self,
        text: &str,
        groups: &[usize],
        seps: &[u8],
        has_plus: bool,
        n: usize,
        p: &FieldProfile,
        region: Option<Region>,
        spans_all: bool,
        phone_hint: bool,
        f: &mut Findings,
    ) {
        if !(7..=15).contains(&n) {
            return;
        }
        let hinted = (spans_all
            && (p.hints.contains(DataType::Phone) || p.typed.contains(DataType::Phone)))
            || phone_hint;
        let first_all_zero = text
            .trim_start_matches(['+', '('])
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .is_some_and(|g| g.bytes().all(|b| b == b'0'));
        let year_like = groups.len() == 2
            && groups[0] == 4
            && (text.starts_with("19") || text.starts_with("20"));
        let shaped = has_plus
            || (groups.len() >= 2
                && groups.iter().all(|&g| g <= 8)
                && seps
                    .iter()
                    .all(|s| matches!(s, b' ' | b'-' | b'.' | b'(' | b')'))
                && !year_like
                && !first_all_zero);
        if !(hinted || (shaped && !p.business_number)) {
            return;
        }
        let valid = if has_plus {
            phonenumber::parse(None, text).is_ok_and(|pn| pn.is_valid())
        } else if hinted {
            let try_region =
                |r: Region| phonenumber::parse(Some(r), text).is_ok_and(|pn| pn.is_valid());
            region.is_some_and(try_region)
                || (region.is_none() && FALLBACK_REGIONS.iter().any(|&r| try_region(r)))
        } else {
            let r = region.unwrap_or(Region::US);
            phonenumber::parse(Some(r), text).is_ok_and(|pn| pn.is_valid())
        };
        f.check(DataType::Phone, valid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det() -> Detector {
        Detector::new(chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap())
    }
    fn col(name: &str) -> FieldProfile {
        FieldProfile::from_column(name)
    }
    fn hits(value: &str, field: &str) -> Vec<&'static str> {
        det()
            .detect(value, &col(field), None)
            .hits
            .iter()
            .map(DataType::name)
            .collect()
    }

    #[test]
    fn emails_not_urls() {
        assert_eq!(hits("jane.doe@example.com", "Email"), ["email"]);
        assert_eq!(hits("jane.doe@example.com", "Contact_Info__c"), ["email"]);
        assert_eq!(hits("https://www.example.com", "Website"), ["url"]);
        assert_eq!(hits("example.com", "Website"), ["url"]);
    }

    #[test]
    fn phones_in_national_and_international_formats() {
        assert_eq!(hits("(415) 555-2671", "Phone"), ["phone"]);
        assert_eq!(hits("+44 20 7946 0958", "Phone"), ["phone"]);
        assert_eq!(hits("+49 30 901820", "Notes"), ["phone"]);
        assert_eq!(hits("030 901820", "Phone"), ["phone"]);
        let de = FieldProfile::from_column("MobilePhone");
        let f = det().detect("0151 23456789", &de, Some(Region::DE));
        assert!(f.hits.contains(DataType::Phone));
        assert_eq!(
            hits("Call me at 415-555-2671 tomorrow", "Description"),
            ["phone"]
        );
    }

    #[test]
    fn national_phones_in_text_count_after_a_phone_word() {
        // No country on the record: the words before the number vouch for it.
        let text = |v: &str| {
            let mut p = col("Description");
            p.kind = ContentKind::FreeText;
            det().detect(v, &p, None).hits.contains(DataType::Phone)
        };
        assert!(text(
            "Password reset link expired. Call back on 07911 123456."
        ));
        assert!(text("Met at the conference. Tel: 06 12345678"));
        // Without the context a national format of another region stays unconfirmed, and
        // the context does not make an invalid number (or an order number) a phone.
        assert!(!text("Package 07911 123456 arrived."));
        assert!(!text("Call back on 00000 000000."));
        assert!(!text("Call about order 00012345 please"));
    }

    #[test]
    fn hard_negatives_are_not_phones() {
        // A GUID fragment, an order number and a case number.
        assert!(hits("550e8400-e29b-41d4-a716-446655440000", "Description").is_empty());
        assert!(hits("ORD-2024-000123", "Order_Ref__c").is_empty());
        assert!(hits("00001026", "CaseNumber").is_empty());
        assert!(hits("Order 00012345 shipped", "Description").is_empty());
        assert!(hits("2024-000123", "Notes").is_empty());
        assert!(hits("Invoice 1042-33", "Description").is_empty());
    }

    #[test]
    fn timestamps_are_not_cards() {
        assert!(hits("1700000000004", "Created_Ms__c").is_empty());
        assert_eq!(hits("4111 1111 1111 1111", "Notes"), ["credit_card"]);
        assert_eq!(
            hits("card 5500-0000-0000-0004 exp 12/27", "Description"),
            ["credit_card"]
        );
    }

    #[test]
    fn national_ids() {
        assert_eq!(hits("536-22-1234", "Notes"), ["us_ssn"]);
        assert!(hits("078-05-1120", "Notes").is_empty());
        assert_eq!(hits("912-70-1234", "Notes"), ["us_itin"]);
        assert_eq!(hits("130 692 007", "Notes"), ["ca_sin"]);
        assert_eq!(hits("529.982.247-25", "Notes"), ["br_cpf"]);
        assert_eq!(hits("2345 6789 0124", "Notes"), ["in_aadhaar"]);
        assert_eq!(hits("AB 12 34 56 C", "Notes"), ["uk_nino"]);
        assert_eq!(hits("12345678Z", "Notes"), ["es_nif"]);
        assert_eq!(hits("1 84 12 76 451 089 46", "Notes"), ["fr_insee"]);
        assert_eq!(hits("GB82 WEST 1234 5698 7654 32", "Notes"), ["iban"]);
        assert_eq!(hits("021000021", "Routing_Number__c"), ["aba_routing"]);
        assert_eq!(hits("123456782", "BSN__c"), ["nl_bsn"]);
        assert_eq!(hits("536221234", "SSN__c"), ["us_ssn"]);
    }

    #[test]
    fn hinted_ids_need_their_hint() {
        assert_eq!(hits("X1234567", "Passport_Number__c"), ["passport_number"]);
        assert!(hits("X1234567", "Code__c").is_empty());
        assert_eq!(
            hits("D1234-56789", "Drivers_License__c"),
            ["drivers_license"]
        );
        assert_eq!(hits("1984-02-29", "Birth_Date__c"), ["date_of_birth"]);
        assert!(hits("1984-02-29", "Start_Date__c").is_empty());
        assert!(hits("1850-02-01", "Birth_Date__c").is_empty());
    }

    #[test]
    fn names_in_any_casing() {
        assert_eq!(hits("Jane Doe", "Full_Name__c"), ["person_name"]);
        assert_eq!(hits("JANE SMITH", "Owner_Label__c"), ["person_name"]);
        assert_eq!(hits("josé garcía", "Attendee__c"), ["person_name"]);
        assert_eq!(hits("Zxqv", "FirstName"), ["person_name"]);
        assert!(hits("Acme Corp", "Company").is_empty());
        assert!(hits("Smith & Sons", "Company").is_empty());
    }

    #[test]
    fn places_and_devices() {
        assert_eq!(hits("123 Main Street", "Street"), ["street_address"]);
        assert_eq!(hits("42 Baker St", "Line__c"), ["street_address"]);
        assert_eq!(hits("Springfield", "City"), ["city"]);
        assert_eq!(hits("94105", "PostalCode"), ["postal_code"]);
        assert_eq!(hits("SW1A 1AA", "Code__c"), ["postal_code"]);
        assert_eq!(hits("Germany", "Country"), ["country"]);
        assert_eq!(hits("California", "State"), ["state"]);
        assert_eq!(hits("Female", "Gender__c"), ["gender"]);
        assert_eq!(hits("10.1.2.3", "Last_Login_Ip__c"), ["ip_address"]);
        assert_eq!(
            hits("login from 2001:db8::1 today", "Notes"),
            ["ip_address"]
        );
        assert_eq!(hits("00:1A:2B:3C:4D:5E", "Device__c"), ["mac_address"]);
        assert_eq!(hits("37.7749, -122.4194", "Location__c"), ["geolocation"]);
        assert!(hits("12:30:45", "Notes").is_empty());
    }

    #[test]
    fn names_inside_text() {
        assert_eq!(
            hits(
                "Hi, this is Helena Silva. Package arrived damaged.",
                "Description"
            ),
            ["person_name"]
        );
        assert!(hits("Customer reports the app crashes on start.", "Description").is_empty());
        assert!(hits("Met at the annual conference in New York.", "Description").is_empty());
    }

    #[test]
    fn mixed_national_id_field() {
        for (v, t) in [
            ("123456782", "nl_bsn"),
            ("536-22-1234", "us_ssn"),
            ("AB 12 34 56 C", "uk_nino"),
            ("12345678Z", "es_nif"),
        ] {
            // One value can pass several nine-digit checks; the field's mix decides.
            assert!(hits(v, "National_Id__c").contains(&t), "{v}");
        }
    }

    #[test]
    fn credentials() {
        assert_eq!(
            hits("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "Notes"),
            ["credential"]
        );
        assert_eq!(hits("password: hunter22", "Description"), ["credential"]);
        assert_eq!(hits("s3cr3tP@ss", "Password__c"), ["credential"]);
        assert!(hits("0035g00000AbCdEAAZ", "Legacy_Id__c").is_empty());
    }

    #[test]
    fn a_token_or_key_field_counts_random_values_and_a_password_field_any() {
        // Token and key fields: machine-made values only.
        for (v, field) in [
            ("9f8e7d6c5b4a39281706f5e4d3c2b1a0", "Integration_Token__c"),
            ("AbC123xYz789QwE456rtY0", "Api_Key__c"),
            (
                "ghp_4eC39HqLyjWDarjtT1zdp7dcXyZ12345abcd",
                "Access_Token__c",
            ),
        ] {
            assert_eq!(hits(v, field), ["credential"], "{v} in {field}");
        }
        for (v, field) in [
            ("Active", "Integration_Token__c"),
            ("Revoked", "Api_Key__c"),
            ("2026-12-31", "Access_Token__c"),
            ("pending_rotation", "Token__c"),
            ("Bearer", "Access_Key__c"),
        ] {
            assert!(
                hits(v, field).is_empty(),
                "{v} in {field}: {:?}",
                hits(v, field)
            );
        }
        // Fields about a token hold no secret at all.
        for (v, field) in [
            ("Active", "Token_Status__c"),
            ("Expired", "Token_Status__c"),
            ("2026-12-31", "Token_Expiry__c"),
            ("Bearer", "Token_Type__c"),
            ("Strategic", "Key_Account__c"),
            ("Expired", "Password_Status__c"),
            ("2026-01-15", "Password_Last_Changed__c"),
            ("Complex", "Password_Policy__c"),
        ] {
            assert!(
                hits(v, field).is_empty(),
                "{v} in {field}: {:?}",
                hits(v, field)
            );
        }
        // A password is whatever its owner chose.
        for (v, field) in [
            ("sunshine", "Password__c"),
            ("Tr0ub4dor", "Client_Secret__c"),
        ] {
            assert_eq!(hits(v, field), ["credential"], "{v} in {field}");
        }
        assert!(hits("abc", "Password__c").is_empty());
    }

    #[test]
    fn a_token_secret_or_api_key_in_text_must_look_random() {
        for v in [
            "api_key=AbC123xYz789QwE456rtY0",
            "Integration token: 9f8e7d6c5b4a39281706f5e4d3c2b1a0 (rotate monthly)",
            "secret=Zk3+pQ9/wR2xL7mN4vB8cT1y",
            "pwd: Tr0ub4dor&3",
        ] {
            assert_eq!(hits(v, "Description"), ["credential"], "{v}");
        }
        // Remarks about a token are not one; neither are ids that merely look random.
        for v in [
            "Token: expired.",
            "The API key: rotated yesterday",
            "secret=unknown_value",
            "token: refreshed_by_admin",
            "Case 550e8400-e29b-41d4-a716-446655440000 linked to 0035g00000AbCdEAAZ",
            "Fixed in commit 3f786850e387550fdab836ed7e6dc881de23001b",
        ] {
            assert!(
                hits(v, "Description").is_empty(),
                "{v}: {:?}",
                hits(v, "Description")
            );
        }
    }
}
