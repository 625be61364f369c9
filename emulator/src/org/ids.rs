//! Salesforce record ids: 15 case-sensitive characters (3-character key prefix, 2 pod
//! characters, a reserved `0`, a 9-character base-62 counter) plus the 3-character
//! case-insensitivity suffix, 18 in all.
//!
//! The counter is the row's number in its table, so an id maps back to its row in O(1) and
//! ids sort (as strings) in row order: `Id > '…'` slicing works like in a real org.

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SUFFIX: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
/// Pod characters and the reserved digit, constant for the emulated org (the OAuth
/// directory's user ids, `005000000000001AAA`, follow the same scheme).
const POD: &str = "000";

/// Builds the 18-character id of row `number` of the object with `prefix`.
pub fn make_id(prefix: &str, number: u64) -> String {
    let mut counter = [b'0'; 9];
    let mut n = number;
    for slot in counter.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    let mut id = String::with_capacity(18);
    id.push_str(prefix);
    id.push_str(POD);
    id.push_str(std::str::from_utf8(&counter).unwrap_or("000000000"));
    let suffix = suffix_of(id.as_bytes());
    id.push_str(&suffix);
    id
}

fn suffix_of(id15: &[u8]) -> String {
    let mut out = String::with_capacity(3);
    for chunk in id15.chunks(5).take(3) {
        let mut bits = 0usize;
        for (i, c) in chunk.iter().enumerate() {
            if c.is_ascii_uppercase() {
                bits |= 1 << i;
            }
        }
        out.push(SUFFIX[bits] as char);
    }
    out
}

/// A well-formed id split into its key prefix and row number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedId {
    pub prefix: String,
    pub number: u64,
    /// The canonical 18-character form.
    pub id18: String,
}

/// Parses a 15- or 18-character id; `None` when it is not an id (→ `MALFORMED_ID`).
/// An 18-character id whose suffix does not match its case is malformed too.
pub fn parse_id(raw: &str) -> Option<ParsedId> {
    let bytes = raw.as_bytes();
    if !(bytes.len() == 15 || bytes.len() == 18) || !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let id15 = &raw[..15];
    if bytes.len() == 18 && !raw[15..].eq_ignore_ascii_case(&suffix_of(id15.as_bytes())) {
        return None;
    }
    let prefix = id15[..3].to_string();
    let mut number: u64 = 0;
    for c in id15[6..].bytes() {
        let digit = BASE62.iter().position(|b| *b == c)? as u64;
        number = number.checked_mul(62)?.checked_add(digit)?;
    }
    if &id15[3..6] != POD {
        // Not minted by this org: well formed but never found.
        return Some(ParsedId {
            prefix,
            number: u64::MAX,
            id18: format!("{id15}{}", suffix_of(id15.as_bytes())),
        });
    }
    Some(ParsedId {
        prefix,
        number,
        id18: format!("{id15}{}", suffix_of(id15.as_bytes())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_sorts() {
        let a = make_id("003", 1);
        let b = make_id("003", 62);
        let c = make_id("003", 1_000_000_001);
        assert_eq!(a.len(), 18);
        assert!(a[..15] < b[..15] && b[..15] < c[..15]);
        let p = parse_id(&c).unwrap();
        assert_eq!((p.prefix.as_str(), p.number), ("003", 1_000_000_001));
        assert_eq!(parse_id(&c[..15]).unwrap().id18, c);
    }

    #[test]
    fn suffix_encodes_case() {
        // Known real-world pair: 15-char 001A0000006Vm9r → 18-char 001A0000006Vm9rIAC.
        assert_eq!(suffix_of(b"001A0000006Vm9r"), "IAC");
    }

    #[test]
    fn rejects_malformed() {
        assert!(parse_id("abc").is_none());
        assert!(parse_id("003-00000000001").is_none());
        let mut bad = make_id("003", 5);
        bad.replace_range(15..18, "ZZZ");
        assert!(parse_id(&bad).is_none());
    }
}
