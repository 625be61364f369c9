//! Exact validators: given a candidate string, is it really a value of that type?
//!
//! Pure functions, no allocation beyond a small digit buffer. Each one checks structure and,
//! where the identifier has one, its check digits; known specimen numbers are rejected. They
//! take the candidate as found (separators allowed) and normalise it themselves.

/// ASCII digits of `s`, ignoring spaces, dashes, dots and slashes; `None` if `s` holds
/// anything else (letters, for instance).
pub fn digits(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'0'..=b'9' => out.push(b - b'0'),
            b' ' | b'-' | b'.' | b'/' => {}
            _ => return None,
        }
    }
    Some(out)
}

fn all_same(d: &[u8]) -> bool {
    d.windows(2).all(|w| w[0] == w[1])
}

/// Luhn (mod 10) over digit values.
pub fn luhn(d: &[u8]) -> bool {
    if d.is_empty() {
        return false;
    }
    let mut sum = 0u32;
    for (i, &x) in d.iter().rev().enumerate() {
        let mut v = u32::from(x);
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

fn prefix_num(d: &[u8], n: usize) -> u32 {
    d.iter()
        .take(n)
        .fold(0u32, |acc, &x| acc * 10 + u32::from(x))
}

/// Payment card: an issuer's prefix with one of its lengths, and Luhn. A 13-digit millisecond
/// timestamp passes Luhn one time in ten but starts with `1`, which no issuer uses.
pub fn credit_card(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    let n = d.len();
    if !(12..=19).contains(&n) || all_same(&d) {
        return false;
    }
    let p1 = prefix_num(&d, 1);
    let p2 = prefix_num(&d, 2);
    let p3 = prefix_num(&d, 3);
    let p4 = prefix_num(&d, 4);
    let p6 = prefix_num(&d, 6);
    let issuer = match () {
        _ if p1 == 4 => matches!(n, 13 | 16 | 19), // Visa
        _ if (51..=55).contains(&p2) || (2221..=2720).contains(&p4) => n == 16, // Mastercard
        _ if p2 == 34 || p2 == 37 => n == 15,      // Amex
        _ if p4 == 6011 || p2 == 65 || (644..=649).contains(&p3) => (16..=19).contains(&n), // Discover
        _ if (622126..=622925).contains(&p6) || p2 == 62 => (16..=19).contains(&n), // UnionPay
        _ if (3528..=3589).contains(&p4) => (16..=19).contains(&n),                 // JCB
        _ if (300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39 => {
            (14..=19).contains(&n)
        } // Diners
        _ if matches!(
            p4,
            5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761 | 6762 | 6763
        ) =>
        {
            (12..=19).contains(&n) // Maestro
        }
        _ => false,
    };
    issuer && luhn(&d)
}

/// IBAN lengths by country (ISO 13616 registry).
fn iban_length(cc: &str) -> Option<usize> {
    Some(match cc {
        "AD" => 24,
        "AE" => 23,
        "AL" => 28,
        "AT" => 20,
        "AZ" => 28,
        "BA" => 20,
        "BE" => 16,
        "BG" => 22,
        "BH" => 22,
        "BR" => 29,
        "BY" => 28,
        "CH" => 21,
        "CR" => 22,
        "CY" => 28,
        "CZ" => 24,
        "DE" => 22,
        "DK" => 18,
        "DO" => 28,
        "EE" => 20,
        "EG" => 29,
        "ES" => 24,
        "FI" => 18,
        "FO" => 18,
        "FR" => 27,
        "GB" => 22,
        "GE" => 22,
        "GI" => 23,
        "GL" => 18,
        "GR" => 27,
        "GT" => 28,
        "HR" => 21,
        "HU" => 28,
        "IE" => 22,
        "IL" => 23,
        "IQ" => 23,
        "IS" => 26,
        "IT" => 27,
        "JO" => 30,
        "KW" => 30,
        "KZ" => 20,
        "LB" => 28,
        "LC" => 32,
        "LI" => 21,
        "LT" => 20,
        "LU" => 20,
        "LV" => 21,
        "MC" => 27,
        "MD" => 24,
        "ME" => 22,
        "MK" => 19,
        "MR" => 27,
        "MT" => 31,
        "MU" => 30,
        "NL" => 18,
        "NO" => 15,
        "PK" => 24,
        "PL" => 28,
        "PS" => 29,
        "PT" => 25,
        "QA" => 29,
        "RO" => 24,
        "RS" => 22,
        "SA" => 24,
        "SC" => 31,
        "SE" => 24,
        "SI" => 19,
        "SK" => 24,
        "SM" => 27,
        "ST" => 25,
        "SV" => 28,
        "TL" => 23,
        "TN" => 24,
        "TR" => 26,
        "UA" => 29,
        "VA" => 22,
        "VG" => 24,
        "XK" => 20,
        _ => return None,
    })
}

/// IBAN: known country, that country's length, mod 97 == 1. Spaces allowed, any case.
pub fn iban(s: &str) -> bool {
    let compact: Vec<u8> = s
        .bytes()
        .filter(|b| *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if compact.len() < 15 || !compact.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let Ok(cc) = std::str::from_utf8(&compact[..2]) else {
        return false;
    };
    if iban_length(cc) != Some(compact.len()) || !compact[2..4].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut rem = 0u32;
    for &b in compact[4..].iter().chain(&compact[..4]) {
        let v = if b.is_ascii_digit() {
            u32::from(b - b'0')
        } else {
            u32::from(b - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// Specimen SSNs printed in advertising and documentation; never real people's.
const SSN_SPECIMENS: &[&str] = &["078051120", "219099999", "123456789", "111111111"];

/// US SSN: area not 000, 666 or 900–999; group not 00; serial not 0000; not a specimen.
pub fn us_ssn(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 9 {
        return false;
    }
    let area = prefix_num(&d, 3);
    let group = prefix_num(&d[3..], 2);
    let serial = prefix_num(&d[5..], 4);
    let text: String = d.iter().map(|x| char::from(b'0' + x)).collect();
    area != 0
        && area != 666
        && area < 900
        && group != 0
        && serial != 0
        && !SSN_SPECIMENS.contains(&text.as_str())
}

/// US ITIN: 9xx-GG-xxxx with the group in 50–65, 70–88, 90–92 or 94–99.
pub fn us_itin(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 9 || d[0] != 9 {
        return false;
    }
    let group = prefix_num(&d[3..], 2);
    matches!(group, 50..=65 | 70..=88 | 90..=92 | 94..=99)
}

/// ABA routing number: valid Federal Reserve prefix and the 3-7-1 weighted checksum.
pub fn aba_routing(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 9 || all_same(&d) {
        return false;
    }
    let p = prefix_num(&d, 2);
    if !matches!(p, 0..=12 | 21..=32 | 61..=72 | 80) || p == 0 {
        return false;
    }
    let w = [3u32, 7, 1, 3, 7, 1, 3, 7, 1];
    d.iter().zip(w).map(|(&x, w)| u32::from(x) * w).sum::<u32>() % 10 == 0
}

/// UK National Insurance number: two prefix letters (with HMRC's exclusions), six digits, a
/// suffix A–D.
pub fn uk_nino(s: &str) -> bool {
    let c: Vec<u8> = s
        .bytes()
        .filter(|b| *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if c.len() != 9 {
        return false;
    }
    let (a, b) = (c[0], c[1]);
    let bad_first = b"DFIQUV";
    let bad_second = b"DFIQUVO";
    let bad_pairs: [&[u8]; 6] = [b"BG", b"GB", b"NK", b"KN", b"TN", b"ZZ"];
    a.is_ascii_uppercase()
        && b.is_ascii_uppercase()
        && !bad_first.contains(&a)
        && !bad_second.contains(&b)
        && !bad_pairs.contains(&&c[..2])
        && c[2..8].iter().all(u8::is_ascii_digit)
        && matches!(c[8], b'A'..=b'D')
}

/// Canadian SIN: nine digits, Luhn, first digit not 0 or 8.
pub fn ca_sin(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    d.len() == 9 && d[0] != 0 && d[0] != 8 && !all_same(&d) && luhn(&d)
}

/// Brazilian CPF: eleven digits with two mod-11 check digits; repeated digits rejected.
pub fn br_cpf(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 11 || all_same(&d) {
        return false;
    }
    let check = |len: usize| {
        let sum: u32 = d[..len]
            .iter()
            .enumerate()
            .map(|(i, &x)| u32::from(x) * (len as u32 + 1 - i as u32))
            .sum();
        let r = (sum * 10) % 11;
        if r == 10 { 0 } else { r as u8 }
    };
    check(9) == d[9] && check(10) == d[10]
}

const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// Verhoeff check over digit values (last digit is the check digit).
pub fn verhoeff(d: &[u8]) -> bool {
    let mut c = 0usize;
    for (i, &x) in d.iter().rev().enumerate() {
        c = usize::from(VERHOEFF_D[c][usize::from(VERHOEFF_P[i % 8][usize::from(x)])]);
    }
    c == 0
}

/// Indian Aadhaar: twelve digits, first 2–9, Verhoeff check digit.
pub fn in_aadhaar(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    d.len() == 12 && d[0] >= 2 && !all_same(&d) && verhoeff(&d)
}

/// Dutch BSN: nine digits passing the "elfproef" (weights 9..2 and −1).
pub fn nl_bsn(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 9 || all_same(&d) {
        return false;
    }
    let sum: i32 = d[..8]
        .iter()
        .enumerate()
        .map(|(i, &x)| i32::from(x) * (9 - i as i32))
        .sum::<i32>()
        - i32::from(d[8]);
    sum != 0 && sum % 11 == 0
}

/// Spanish DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter), letter = number mod 23.
pub fn es_nif(s: &str) -> bool {
    const LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let c: Vec<u8> = s
        .bytes()
        .filter(|b| !matches!(b, b'-' | b' ' | b'.'))
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if c.len() != 9 {
        return false;
    }
    let lead = match c[0] {
        b'X' => 0,
        b'Y' => 1,
        b'Z' => 2,
        b'0'..=b'9' => u32::from(c[0] - b'0'),
        _ => return false,
    };
    if !c[1..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let num = c[1..8]
        .iter()
        .fold(lead, |acc, &b| acc * 10 + u32::from(b - b'0'));
    LETTERS[(num % 23) as usize] == c[8]
}

/// French INSEE (NIR): sex 1/2, year, month 01–12 (or 20+ for unknown), department (2A/2B for
/// Corsica), commune, order, then key = 97 − (number mod 97).
pub fn fr_insee(s: &str) -> bool {
    let c: Vec<u8> = s
        .bytes()
        .filter(|b| *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if c.len() != 15 || !matches!(c[0], b'1' | b'2') {
        return false;
    }
    // Corsica: 2A counts as 19, 2B as 18 in the key computation.
    let (body, adjust): (Vec<u8>, u64) = match &c[5..7] {
        b"2A" => ([&c[..5], b"19", &c[7..13]].concat(), 0),
        b"2B" => ([&c[..5], b"18", &c[7..13]].concat(), 0),
        _ => (c[..13].to_vec(), 0),
    };
    if !body.iter().all(u8::is_ascii_digit) || !c[13..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let month = u32::from(c[3] - b'0') * 10 + u32::from(c[4] - b'0');
    if month == 0 || (13..20).contains(&month) {
        return false;
    }
    let n = body
        .iter()
        .fold(0u64, |acc, &b| acc * 10 + u64::from(b - b'0'))
        + adjust;
    let key = u64::from(c[13] - b'0') * 10 + u64::from(c[14] - b'0');
    97 - (n % 97) == key
}

/// IPv4 or IPv6, by the standard library's parsers. Leading zeros in IPv4 octets are rejected
/// (they mostly mean version numbers and dotted ids).
pub fn ip_address(s: &str) -> bool {
    if s.contains(':') {
        return s.parse::<std::net::Ipv6Addr>().is_ok();
    }
    s.parse::<std::net::Ipv4Addr>().is_ok() && s.split('.').all(|o| o == "0" || !o.starts_with('0'))
}

/// MAC-48 in colon, dash or Cisco dotted notation; all-zero and all-FF rejected.
pub fn mac_address(s: &str) -> bool {
    let hex: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    let seps: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_hexdigit()).collect();
    let shape_ok = match seps.len() {
        5 => seps
            .iter()
            .all(|&b| b == seps[0] && (b == b':' || b == b'-')),
        2 => seps.iter().all(|&b| b == b'.'),
        _ => false,
    };
    shape_ok
        && hex.len() == 12
        && !hex.iter().all(|&b| b == b'0')
        && !hex.iter().all(|&b| b.eq_ignore_ascii_case(&b'f'))
}

/// Email address: one `@`, a sane local part, a dotted domain with an alphabetic TLD.
pub fn email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || domain.len() > 253 || local.contains('@') {
        return false;
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return false;
    }
    let local_ok = local
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    let labels: Vec<&str> = domain.split('.').collect();
    let tld = labels.last().copied().unwrap_or("");
    local_ok
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && tld.len() >= 2
        && tld.bytes().all(|b| b.is_ascii_alphabetic())
}

/// URL: `http(s)://host…` or `www.host…` with a dotted host; `bare` also accepts `host.tld/…`
/// (only used where the field says it holds URLs).
pub fn url(s: &str, bare: bool) -> bool {
    let lower = s.to_ascii_lowercase();
    let rest = if let Some(r) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    {
        r
    } else if lower.starts_with("www.") || bare {
        lower.as_str()
    } else {
        return false;
    };
    let host = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .split(':')
        .next()
        .unwrap_or("");
    if host.contains('@') || host.is_empty() {
        return false;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let tld = labels.last().copied().unwrap_or("");
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        && tld.len() >= 2
        && tld.bytes().all(|b| b.is_ascii_alphabetic())
}

/// A latitude/longitude pair `lat, lon` within range, with at least three decimals each.
pub fn geo_pair(s: &str) -> bool {
    let Some((a, b)) = s.split_once(',') else {
        return false;
    };
    let (a, b) = (a.trim(), b.trim());
    let decimals = |x: &str| x.split_once('.').is_some_and(|(_, f)| f.len() >= 3);
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(lat), Ok(lon)) => {
            decimals(a)
                && decimals(b)
                && (-90.0..=90.0).contains(&lat)
                && (-180.0..=180.0).contains(&lon)
                && !(lat == 0.0 && lon == 0.0)
        }
        _ => false,
    }
}

/// A single coordinate (a latitude or longitude field's value).
pub fn coordinate(s: &str) -> bool {
    s.parse::<f64>()
        .is_ok_and(|v| (-180.0..=180.0).contains(&v) && v != 0.0)
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// A secret-looking token: 16+ characters, no spaces, letters and digits mixed, high entropy.
pub fn secret_token(s: &str) -> bool {
    s.len() >= 16
        && s.len() <= 512
        && !s.contains(char::is_whitespace)
        && s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().any(|b| b.is_ascii_alphabetic())
        && entropy(s) >= 3.5
}

/// A calendar date as (year, month, day): `YYYY-MM-DD`, `DD/MM/YYYY`, `MM/DD/YYYY`,
/// `DD.MM.YYYY` (day/month order decided by which one can be a month).
pub fn parse_date(s: &str) -> Option<(i32, u32, u32)> {
    let s = s.trim();
    let s = s.split(['T', ' ']).next().unwrap_or(s);
    let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
    if parts.len() != 3 || !parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let nums: Vec<u32> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    if nums.len() != 3 {
        return None;
    }
    let (y, m, d) = if parts[0].len() == 4 {
        (nums[0], nums[1], nums[2])
    } else if parts[2].len() == 4 {
        if nums[0] > 12 {
            (nums[2], nums[1], nums[0])
        } else {
            (nums[2], nums[0], nums[1])
        }
    } else {
        return None;
    };
    let y = i32::try_from(y).ok()?;
    chrono::NaiveDate::from_ymd_opt(y, m, d).map(|_| (y, m, d))
}

/// A date that can be a living person's birth date: 0 to 120 years before `today_year`.
pub fn plausible_birth_date(s: &str, today: chrono::NaiveDate) -> bool {
    use chrono::Datelike;
    let Some((y, m, d)) = parse_date(s) else {
        return false;
    };
    let Some(date) = chrono::NaiveDate::from_ymd_opt(y, m, d) else {
        return false;
    };
    date <= today && today.year() - y <= 120
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_cards() {
        for ok in [
            "4111 1111 1111 1111",
            "5500-0000-0000-0004",
            "340000000000009",
            "6011000990139424",
            "3530111333300000",
            "2221000000000009",
            "4222222222222",
        ] {
            assert!(credit_card(ok), "{ok}");
        }
        // Hard negative: a millisecond timestamp that passes Luhn is not a card.
        let ts = "1700000000004";
        assert!(luhn(&digits(ts).unwrap()));
        assert!(!credit_card(ts));
        for bad in [
            "4111 1111 1111 1112",
            "0000000000000000",
            "1234567812345678",
            "9111111111111111",
            "4111-1111-1111-111a",
        ] {
            assert!(!credit_card(bad), "{bad}");
        }
    }

    #[test]
    fn iban_checks_country_length_and_mod97() {
        assert!(iban("GB82 WEST 1234 5698 7654 32"));
        assert!(iban("DE89370400440532013000"));
        assert!(iban("fr1420041010050500013m02606"));
        assert!(iban("NL91ABNA0417164300"));
        assert!(!iban("GB82 WEST 1234 5698 7654 33"));
        assert!(!iban("DE8937040044053201300")); // one short for DE
        assert!(!iban("XX89370400440532013000"));
    }

    #[test]
    fn ssn_rules_and_specimens() {
        assert!(us_ssn("536-22-1234"));
        assert!(us_ssn("123-45-6780"));
        for bad in [
            "078-05-1120",
            "219-09-9999",
            "000-12-3456",
            "666-12-3456",
            "912-34-5678",
            "536-00-1234",
            "536-22-0000",
            "53622123",
        ] {
            assert!(!us_ssn(bad), "{bad}");
        }
    }

    #[test]
    fn itin_groups() {
        assert!(us_itin("912-70-1234"));
        assert!(us_itin("999-94-1234"));
        assert!(!us_itin("912-93-1234"));
        assert!(!us_itin("812-70-1234"));
    }

    #[test]
    fn aba_checksum() {
        assert!(aba_routing("011000015"));
        assert!(aba_routing("021000021"));
        assert!(aba_routing("121000358"));
        assert!(!aba_routing("021000022"));
        assert!(!aba_routing("991000021")); // 99 is no Federal Reserve prefix
    }

    #[test]
    fn nino_prefixes() {
        assert!(uk_nino("AB 12 34 56 C"));
        assert!(uk_nino("jg103759a"));
        assert!(!uk_nino("GB123456A"));
        assert!(!uk_nino("DA123456A"));
        assert!(!uk_nino("AB123456E"));
        assert!(!uk_nino("AO123456A"));
    }

    #[test]
    fn sin_luhn() {
        assert!(ca_sin("130 692 007"));
        assert!(!ca_sin("130 692 008"));
        assert!(!ca_sin("830 692 007"));
    }

    #[test]
    fn cpf_check_digits() {
        assert!(br_cpf("529.982.247-25"));
        assert!(br_cpf("11144477735"));
        assert!(!br_cpf("529.982.247-26"));
        assert!(!br_cpf("111.111.111-11"));
    }

    #[test]
    fn aadhaar_verhoeff() {
        assert!(verhoeff(&digits("2363").unwrap()));
        assert!(in_aadhaar("2345 6789 0124"));
        assert!(!in_aadhaar("2345 6789 0123"));
        assert!(!in_aadhaar("1345 6789 0124"));
    }

    #[test]
    fn bsn_elfproef() {
        assert!(nl_bsn("111222333"));
        assert!(nl_bsn("123456782"));
        assert!(!nl_bsn("123456789"));
        assert!(!nl_bsn("000000000"));
    }

    #[test]
    fn nif_letters() {
        assert!(es_nif("12345678Z"));
        assert!(es_nif("X1234567L"));
        assert!(es_nif("y-1234567-x"));
        assert!(!es_nif("12345678A"));
        assert!(!es_nif("A1234567L"));
    }

    #[test]
    fn insee_key() {
        assert!(fr_insee("1 84 12 76 451 089 46"));
        assert!(fr_insee("255082A12345646"));
        assert!(!fr_insee("184127645108947"));
        assert!(!fr_insee("384127645108946"));
        assert!(!fr_insee("184137645108946"));
    }

    #[test]
    fn ips_and_macs() {
        assert!(ip_address("192.168.10.1"));
        assert!(ip_address("2001:db8::ff00:42:8329"));
        assert!(!ip_address("256.1.1.1"));
        assert!(!ip_address("1.02.3.4"));
        assert!(!ip_address("1.2.3"));
        assert!(mac_address("00:1A:2b:3C:4d:5E"));
        assert!(mac_address("00-1a-2b-3c-4d-5e"));
        assert!(mac_address("001a.2b3c.4d5e"));
        assert!(!mac_address("00:1a-2b:3c:4d:5e"));
        assert!(!mac_address("ff:ff:ff:ff:ff:ff"));
        assert!(!mac_address("00:1a:2b:3c:4d"));
    }

    #[test]
    fn emails_and_urls() {
        assert!(email("jane.doe+x@example.co.uk"));
        assert!(!email("jane@localhost"));
        assert!(!email("jane..doe@example.com"));
        assert!(!email("@example.com"));
        assert!(url("https://www.example.com/a?b=c", false));
        assert!(url("www.example.org", false));
        assert!(!url("example.org", false));
        assert!(url("example.org/about", true));
        // An email address is not a URL, even where bare hosts are accepted.
        assert!(!url("jane@example.com", true));
        assert!(!url("http://", false));
    }

    #[test]
    fn geo_and_dates() {
        assert!(geo_pair("37.7749, -122.4194"));
        assert!(!geo_pair("137.7749, -122.4194"));
        assert!(!geo_pair("1.5, 2.5"));
        assert!(coordinate("-122.4194"));
        assert!(!coordinate("abc"));
        assert_eq!(parse_date("1984-02-29"), Some((1984, 2, 29)));
        assert_eq!(parse_date("31/12/1990"), Some((1990, 12, 31)));
        assert_eq!(parse_date("1985-02-29"), None);
        let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert!(plausible_birth_date("1970-05-17", today));
        assert!(!plausible_birth_date("1870-05-17", today));
        assert!(!plausible_birth_date("2030-05-17", today));
    }

    #[test]
    fn secrets_need_entropy() {
        assert!(secret_token("sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
        assert!(!secret_token("aaaaaaaaaaaaaaaaaaaa1"));
        assert!(!secret_token("short1a"));
        assert!(!secret_token("this is a sentence 123456"));
    }
}
