//! Valid-looking personal identifiers for the seeded generator: every value passes the
//! checksum a real validator applies (Luhn, IBAN mod 97, CPF, Verhoeff, 11-proof, …), so a
//! classifier that validates finds them, and one that only pattern-matches is not flattered.

use super::locale::Locale;

/// A tiny deterministic stream of numbers from one 64-bit state (splitmix64).
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
    pub fn digit(&mut self) -> u32 {
        self.below(10) as u32
    }
    pub fn pct(&mut self, p: u32) -> bool {
        self.below(100) < u64::from(p)
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn digits(&mut self, n: usize) -> Vec<u32> {
        (0..n).map(|_| self.digit()).collect()
    }
}

fn join(d: &[u32]) -> String {
    d.iter()
        .map(|x| char::from_digit(*x, 10).unwrap_or('0'))
        .collect()
}

/// Expands a pattern: `9` any digit, `N` 2–9, `A` an uppercase letter.
pub fn pattern(rng: &mut Rng, pat: &str) -> String {
    // Digits of a country calling code (`+91 …`) are literal, not placeholders. They still
    // draw, so every other value of the row stays what it was.
    let mut calling_code = false;
    pat.chars()
        .map(|c| {
            calling_code = c == '+' || (calling_code && c.is_ascii_digit());
            match c {
                '9' => {
                    let d = char::from_digit(rng.digit(), 10).unwrap_or('0');
                    if calling_code { c } else { d }
                }
                'N' => char::from_digit(2 + rng.below(8) as u32, 10).unwrap_or('2'),
                'A' => (b'A' + rng.below(26) as u8) as char,
                other => other,
            }
        })
        .collect()
}

pub fn luhn_check_digit(payload: &[u32]) -> u32 {
    // Double every second digit from the right of the payload (the check digit goes last).
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                *d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

pub fn us_ssn(rng: &mut Rng) -> String {
    let area = loop {
        let a = 1 + rng.below(899);
        if a != 666 {
            break a;
        }
    };
    let group = 1 + rng.below(99);
    let serial = 1 + rng.below(9999);
    format!("{area:03}-{group:02}-{serial:04}")
}

pub fn us_itin(rng: &mut Rng) -> String {
    let ranges: [(u64, u64); 4] = [(50, 65), (70, 88), (90, 92), (94, 99)];
    let (lo, hi) = *rng.pick(&ranges);
    let group = lo + rng.below(hi - lo + 1);
    format!("9{:02}-{group:02}-{:04}", rng.below(100), rng.below(10000))
}

pub fn uk_nino(rng: &mut Rng) -> String {
    const FIRST: &[u8] = b"ABCEGHJKLMNOPRSTWXYZ";
    const SECOND: &[u8] = b"ABCEGHJKLMNPRSTWXYZ";
    loop {
        let a = *rng.pick(FIRST) as char;
        let b = *rng.pick(SECOND) as char;
        let prefix = format!("{a}{b}");
        if ["BG", "GB", "NK", "KN", "TN", "NT", "ZZ"].contains(&prefix.as_str()) {
            continue;
        }
        let d = rng.digits(6);
        let suffix = *rng.pick(b"ABCD") as char;
        return format!(
            "{prefix} {}{} {}{} {}{} {suffix}",
            d[0], d[1], d[2], d[3], d[4], d[5]
        );
    }
}

pub fn ca_sin(rng: &mut Rng) -> String {
    let mut d = vec![1 + rng.below(7) as u32]; // 1–7: not 0, 8 or 9 (temporary)
    d.extend(rng.digits(7));
    d.push(luhn_check_digit(&d));
    let s = join(&d);
    format!("{} {} {}", &s[..3], &s[3..6], &s[6..])
}

pub fn br_cpf(rng: &mut Rng) -> String {
    let mut d = rng.digits(9);
    if d.iter().all(|x| *x == d[0]) {
        d[0] = (d[0] + 1) % 10;
    }
    for len in [9usize, 10] {
        let sum: u32 = d
            .iter()
            .enumerate()
            .map(|(i, x)| x * (len as u32 + 1 - i as u32))
            .sum();
        let r = (sum * 10) % 11;
        d.push(if r == 10 { 0 } else { r });
    }
    let s = join(&d);
    format!("{}.{}.{}-{}", &s[..3], &s[3..6], &s[6..9], &s[9..])
}

const VERHOEFF_D: [[u32; 10]; 10] = [
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
const VERHOEFF_P: [[u32; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];
const VERHOEFF_INV: [u32; 10] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

pub fn verhoeff_check_digit(payload: &[u32]) -> u32 {
    let mut c = 0u32;
    for (i, d) in payload.iter().rev().enumerate() {
        c = VERHOEFF_D[c as usize][VERHOEFF_P[(i + 1) % 8][*d as usize] as usize];
    }
    VERHOEFF_INV[c as usize]
}

pub fn in_aadhaar(rng: &mut Rng) -> String {
    let mut d = vec![2 + rng.below(8) as u32];
    d.extend(rng.digits(10));
    d.push(verhoeff_check_digit(&d));
    let s = join(&d);
    format!("{} {} {}", &s[..4], &s[4..8], &s[8..])
}

pub fn nl_bsn(rng: &mut Rng) -> String {
    loop {
        let mut d = vec![1 + rng.below(9) as u32];
        d.extend(rng.digits(7));
        let sum: u32 = d.iter().enumerate().map(|(i, x)| x * (9 - i as u32)).sum();
        let last = sum % 11;
        if last <= 9 {
            d.push(last);
            return join(&d);
        }
    }
}

pub fn es_nif(rng: &mut Rng) -> String {
    const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let n = rng.below(100_000_000);
    format!("{n:08}{}", LETTERS[(n % 23) as usize] as char)
}

pub fn fr_insee(rng: &mut Rng) -> String {
    let sex = 1 + rng.below(2);
    let yy = rng.below(100);
    let mm = 1 + rng.below(12);
    let dept = 1 + rng.below(95);
    let commune = 1 + rng.below(990);
    let order = 1 + rng.below(999);
    let base = format!("{sex}{yy:02}{mm:02}{dept:02}{commune:03}{order:03}");
    let n: u64 = base.parse().unwrap_or(0);
    let key = 97 - n % 97;
    format!(
        "{} {} {} {} {} {} {key:02}",
        &base[..1],
        &base[1..3],
        &base[3..5],
        &base[5..7],
        &base[7..10],
        &base[10..]
    )
}

/// The national id of `locale` (one of the vocabulary's national-id types).
pub fn national_id(rng: &mut Rng, locale: Locale) -> String {
    match locale {
        Locale::Us => us_ssn(rng),
        Locale::Gb => uk_nino(rng),
        Locale::Ca => ca_sin(rng),
        Locale::Br => br_cpf(rng),
        Locale::In => in_aadhaar(rng),
        Locale::Nl => nl_bsn(rng),
        Locale::Es => es_nif(rng),
        Locale::Fr => fr_insee(rng),
    }
}

pub fn credit_card(rng: &mut Rng) -> String {
    let (prefix, len): (Vec<u32>, usize) = match rng.below(4) {
        0 => (vec![4], 16),
        1 => (vec![5, 1 + rng.below(5) as u32], 16),
        2 => (vec![3, if rng.pct(50) { 4 } else { 7 }], 15),
        _ => (vec![6, 0, 1, 1], 16),
    };
    let mut d = prefix;
    while d.len() < len - 1 {
        d.push(rng.digit());
    }
    d.push(luhn_check_digit(&d));
    let s = join(&d);
    if len == 15 {
        format!("{} {} {}", &s[..4], &s[4..10], &s[10..])
    } else if rng.pct(50) {
        format!("{} {} {} {}", &s[..4], &s[4..8], &s[8..12], &s[12..])
    } else {
        s
    }
}

pub fn iban(rng: &mut Rng) -> String {
    // (country, BBAN pattern) with the right total length per country.
    let (cc, bban) = *rng.pick(&[
        ("DE", "999999999999999999"),
        ("GB", "AAAA99999999999999"),
        ("FR", "99999999999999999999999"),
        ("ES", "99999999999999999999"),
        ("NL", "AAAA9999999999"),
    ]);
    let bban = pattern(rng, bban);
    let rearranged = format!("{bban}{cc}00");
    let mut rem: u64 = 0;
    for c in rearranged.chars() {
        let v = c.to_digit(36).unwrap_or(0) as u64;
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    let check = 98 - rem;
    let raw = format!("{cc}{check:02}{bban}");
    if rng.pct(50) {
        raw.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        raw
    }
}

pub fn aba_routing(rng: &mut Rng) -> String {
    loop {
        let mut d = vec![rng.below(2) as u32, 1 + rng.below(9) as u32];
        d.extend(rng.digits(6));
        let partial = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5]);
        let last = (10 - partial % 10) % 10;
        d.push(last);
        if d[0] * 10 + d[1] <= 12 {
            return join(&d);
        }
    }
}

pub fn passport(rng: &mut Rng, locale: Locale) -> String {
    match locale {
        Locale::Us | Locale::Gb => pattern(rng, "5N9999999"),
        Locale::Fr => pattern(rng, "99AA99999"),
        Locale::Nl => pattern(rng, "AA9999999"),
        Locale::Es => pattern(rng, "AAA999999"),
        Locale::Ca => pattern(rng, "AA999999"),
        Locale::Br => pattern(rng, "AA999999"),
        Locale::In => pattern(rng, "A9999999"),
    }
}

pub fn drivers_license(rng: &mut Rng, locale: Locale) -> String {
    match locale {
        Locale::Us => pattern(rng, "A999-9999-9999"),
        Locale::Gb => pattern(rng, "AAAAA999999AA9AA"),
        Locale::Ca => pattern(rng, "A9999-99999-99999"),
        _ => pattern(rng, "A99999999"),
    }
}

pub fn ip_address(rng: &mut Rng) -> String {
    if rng.pct(15) {
        format!(
            "2001:db8:{:x}:{:x}::{:x}",
            rng.below(65536),
            rng.below(65536),
            rng.below(65536)
        )
    } else {
        format!(
            "{}.{}.{}.{}",
            1 + rng.below(223),
            rng.below(256),
            rng.below(256),
            1 + rng.below(254)
        )
    }
}

pub fn mac_address(rng: &mut Rng) -> String {
    (0..6)
        .map(|_| format!("{:02X}", rng.below(256)))
        .collect::<Vec<_>>()
        .join(":")
}

pub fn credential(rng: &mut Rng) -> String {
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let body: String = (0..32).map(|_| *rng.pick(ALNUM) as char).collect();
    match rng.below(3) {
        0 => format!("sk_live_{body}"),
        1 => format!("ghp_{}", &body[..32]),
        _ => format!("AKIA{}", body[..16].to_ascii_uppercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luhn_ok(s: &str) -> bool {
        let d: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
        let (payload, check) = d.split_at(d.len() - 1);
        luhn_check_digit(payload) == check[0]
    }

    #[test]
    fn calling_codes_stay_literal_and_draw_as_before() {
        let (mut a, mut b) = (Rng(3), Rng(3));
        for _ in 0..50 {
            let intl = pattern(&mut a, "+91 98N99 99999");
            // The same placeholders without the `+`: the `9` is drawn there too.
            let plain = pattern(&mut b, " 91 98N99 99999");
            assert!(intl.starts_with("+91 "), "{intl}");
            assert_eq!(intl[3..], plain[3..], "same draws for the rest");
        }
    }

    #[test]
    fn cards_and_sins_pass_luhn() {
        let mut r = Rng(7);
        for _ in 0..200 {
            assert!(luhn_ok(&credit_card(&mut r)));
            assert!(luhn_ok(&ca_sin(&mut r)));
        }
    }

    #[test]
    fn ibans_pass_mod97() {
        let mut r = Rng(9);
        for _ in 0..200 {
            let s: String = iban(&mut r)
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let re = format!("{}{}", &s[4..], &s[..4]);
            let mut rem = 0u64;
            for c in re.chars() {
                let v = c.to_digit(36).unwrap() as u64;
                rem = if v >= 10 {
                    (rem * 100 + v) % 97
                } else {
                    (rem * 10 + v) % 97
                };
            }
            assert_eq!(rem, 1, "{s}");
        }
    }

    #[test]
    fn national_ids_pass_their_checks() {
        let mut r = Rng(11);
        for _ in 0..200 {
            let bsn: Vec<u32> = nl_bsn(&mut r)
                .chars()
                .filter_map(|c| c.to_digit(10))
                .collect();
            let s: i64 =
                (0..8).map(|i| bsn[i] as i64 * (9 - i as i64)).sum::<i64>() - bsn[8] as i64;
            assert_eq!(s % 11, 0);
            let aad: Vec<u32> = in_aadhaar(&mut r)
                .chars()
                .filter_map(|c| c.to_digit(10))
                .collect();
            assert_eq!(verhoeff_check_digit(&aad[..11]), aad[11]);
            let aba: Vec<u32> = aba_routing(&mut r)
                .chars()
                .filter_map(|c| c.to_digit(10))
                .collect();
            let t = 3 * (aba[0] + aba[3] + aba[6])
                + 7 * (aba[1] + aba[4] + aba[7])
                + aba[2]
                + aba[5]
                + aba[8];
            assert_eq!(t % 10, 0);
            let insee: String = fr_insee(&mut r)
                .chars()
                .filter(|c| c.is_ascii_digit())
                .collect();
            let n: u64 = insee[..13].parse().unwrap();
            assert_eq!(97 - n % 97, insee[13..].parse::<u64>().unwrap());
        }
    }

    #[test]
    fn cpf_check_digits() {
        let mut r = Rng(3);
        let cpf: Vec<u32> = br_cpf(&mut r)
            .chars()
            .filter_map(|c| c.to_digit(10))
            .collect();
        let s1: u32 = (0..9).map(|i| cpf[i] * (10 - i as u32)).sum();
        assert_eq!(((s1 * 10) % 11) % 10, cpf[9]);
    }
}
