//! The seeded org generator.
//!
//! Row `i` of object `O` is a pure function of `(seed, O, i)`: nothing is stored for seeded
//! rows, so a 1M-record org costs no memory until rows are written (writes go to the
//! table's overlay, see `store`). Each field value is computed on its own from a hash of
//! `(seed, O, i, field)` plus the row's *persona* (locale, names), so a query that reads two
//! fields of a million rows computes two values per row, not a whole record.
//!
//! Choices (documented in the README's "Seeded org" section):
//! - counts per object are proportional to `size` ([`counts`]); users 1–3 are the OAuth
//!   directory's users (integration, denier, inactive: same ids and usernames), user 4 a
//!   customer-portal user linked to contact 0, the rest owners of seeded records;
//! - 8 locales (US, GB, CA, BR, IN, NL, ES, FR) for names, phones, addresses, national ids;
//! - every 5th lead (i % 5 == 0) is converted and is the same person as a contact;
//!   contact `k` has individual `k`; every 5th account (i % 5 == 4) is a person account;
//! - with person accounts, person account `5j + 4` has person contact `base + j`, appended
//!   after the `base` business contacts; its person fields are read from the Account, and
//!   random references to contacts pick business contacts only, so every other object's
//!   seeded rows are the same with or without person accounts;
//! - free text mixes ([`TextMix`]) put emails / phones / names into a fixed share of rows;
//! - ground truth ([`Gen::labels`]) is derived from the same variants that generate values.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::ids::make_id;
use super::locale::{self, Locale};
use super::pii::{self, Rng, pattern};
use super::schema::{ObjectDef, Schema};

/// Share of rows (percent) of a free-text field that carry each kind of personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextMix {
    pub kind: u8,
    pub email_pct: u32,
    pub phone_pct: u32,
    pub name_pct: u32,
}

impl TextMix {
    pub const BUSINESS: TextMix = TextMix {
        kind: 0,
        email_pct: 0,
        phone_pct: 0,
        name_pct: 0,
    };
    pub const NOTES: TextMix = TextMix {
        kind: 1,
        email_pct: 10,
        phone_pct: 8,
        name_pct: 0,
    };
    pub const SUPPORT: TextMix = TextMix {
        kind: 2,
        email_pct: 15,
        phone_pct: 10,
        name_pct: 0,
    };
    pub const CALL_NOTES: TextMix = TextMix {
        kind: 3,
        email_pct: 6,
        phone_pct: 12,
        name_pct: 0,
    };
    pub const EMAIL_BODY: TextMix = TextMix {
        kind: 4,
        email_pct: 30,
        phone_pct: 10,
        name_pct: 60,
    };
}

/// How the generator fills a field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gen {
    /// Always null in seeded rows.
    None,
    /// Id, IsDeleted and audit fields.
    System,
    Owner,
    Salutation,
    FirstName,
    LastName,
    /// Computed on read: `FirstName LastName`.
    FullName,
    Email,
    Phone,
    MobilePhone,
    CompanyPhone,
    Street,
    City,
    State,
    PostalCode,
    Country,
    Latitude,
    Longitude,
    /// Computed on read: the compound address of the components with this prefix.
    AddressOf(&'static str),
    Title,
    Department,
    Company,
    AccountName,
    AccountNumber,
    Website,
    ProfileUrl,
    Text(TextMix),
    Birthdate,
    RecentDate,
    FutureDate,
    RecentDateTime,
    Duration,
    Amount,
    Employees,
    Percent,
    Bool(u32),
    /// A value of the field's picklist.
    Pick,
    Const(&'static str),
    /// A random row of another object; null in `null_pct` percent of rows.
    Ref {
        to: &'static str,
        null_pct: u32,
    },
    /// The value of `field` on the row referenced by `via` (Case.AccountId = its contact's).
    RefVia(&'static str, &'static str),
    /// Row `i` of the other object when it exists (Contact `k` → Individual `k`).
    SameIndex(&'static str),
    /// Another field of the same row, computed on read.
    Same(&'static str),
    /// The full name / email of the person behind the referenced row.
    FullNameFromRef(&'static str),
    EmailFromRef(&'static str),
    /// Present in `p` percent of rows.
    Maybe(u32, &'static Gen),
    /// Only on person accounts.
    PersonOnly(&'static Gen),
    /// True on person accounts and on their person contacts.
    IsPersonAccount,
    /// Account.PersonContactId: the person account's person contact.
    PersonContact,
    Username,
    Alias,
    Nickname,
    UserType,
    PortalContact,
    LocaleKey,
    LeadStatus,
    Converted,
    ConvertedDate,
    ConvertedContact,
    ConvertedAccount,
    AutoNumber(&'static str),
    CaseSubject,
    OpportunityName,
    ActivitySubject,
    Who,
    CampaignName,
    MemberContact,
    MemberLead,
    FromMember(&'static str),
    SupportAddress,
    HistoryField,
    HistoryValue(bool),
    NationalId,
    TaxId,
    Passport,
    DriversLicense,
    CardNumber,
    Iban,
    Routing,
    IpAddress,
    MacAddress,
    Credential,
    Gender,
    PaymentName,
    ProjectName,
    ItemName,
    Sku,
}

impl Gen {
    /// Computed on read from other fields of the same row (also for written rows).
    pub fn is_computed(&self) -> bool {
        matches!(self, Gen::FullName | Gen::AddressOf(_) | Gen::Same(_))
    }

    /// Ground-truth labels: the kinds of personal data this generator puts in a field
    /// (free text: only kinds present in ≥ 5% of rows).
    pub fn labels(&self, obj: &ObjectDef, person_accounts: bool) -> Vec<&'static str> {
        match self {
            Gen::FirstName | Gen::LastName | Gen::FullName | Gen::FullNameFromRef(_) => {
                vec!["person_name"]
            }
            Gen::Email | Gen::EmailFromRef(_) | Gen::Username | Gen::SupportAddress => {
                vec!["email"]
            }
            Gen::Phone | Gen::MobilePhone | Gen::CompanyPhone => vec!["phone"],
            Gen::Street => vec!["street_address"],
            Gen::City => vec!["city"],
            Gen::State => vec!["state"],
            Gen::PostalCode => vec!["postal_code"],
            Gen::Country => vec!["country"],
            Gen::Latitude | Gen::Longitude => vec!["geolocation"],
            Gen::AddressOf(prefix) => {
                let mut v = vec!["street_address", "city", "state", "postal_code", "country"];
                // Only a compound with coordinate components holds a location
                // (PersonMailingAddress has none).
                if obj.field_index_any(&format!("{prefix}Latitude")).is_some() {
                    v.push("geolocation");
                }
                v
            }
            Gen::AccountName if person_accounts => vec!["person_name"],
            Gen::Website | Gen::ProfileUrl => vec!["url"],
            Gen::Text(mix) => {
                let mut v = Vec::new();
                if mix.email_pct >= 5 {
                    v.push("email");
                }
                if mix.phone_pct >= 5 {
                    v.push("phone");
                }
                if mix.name_pct >= 5 {
                    v.push("person_name");
                }
                v
            }
            Gen::Birthdate => vec!["date_of_birth"],
            Gen::Maybe(p, inner) if *p >= 5 => inner.labels(obj, person_accounts),
            Gen::PersonOnly(inner) => inner.labels(obj, person_accounts),
            Gen::Same(field) => obj
                .field_index_any(field)
                .map(|i| obj.fields[i].fill.labels(obj, person_accounts))
                .unwrap_or_default(),
            Gen::FromMember(field) => match *field {
                "FirstName" | "LastName" => vec!["person_name"],
                "Email" => vec!["email"],
                "Phone" => vec!["phone"],
                _ => vec![],
            },
            Gen::HistoryValue(_) => vec!["email", "phone", "person_name", "city"],
            Gen::NationalId => vec![
                "us_ssn",
                "uk_nino",
                "ca_sin",
                "br_cpf",
                "in_aadhaar",
                "nl_bsn",
                "es_nif",
                "fr_insee",
            ],
            Gen::TaxId => vec!["us_itin"],
            Gen::Passport => vec!["passport_number"],
            Gen::DriversLicense => vec!["drivers_license"],
            Gen::CardNumber => vec!["credit_card"],
            Gen::Iban => vec!["iban"],
            Gen::Routing => vec!["aba_routing"],
            Gen::IpAddress => vec!["ip_address"],
            Gen::MacAddress => vec!["mac_address"],
            Gen::Credential => vec!["credential"],
            Gen::Gender => vec!["gender"],
            _ => vec![],
        }
    }
}

/// Seeded row counts per object for an org of `size` records.
pub fn counts(schema: &Schema, size: u64) -> HashMap<&'static str, u64> {
    schema
        .objects
        .iter()
        .map(|o| {
            let n = if o.name == "User" {
                if size == 0 {
                    SYSTEM_USERS.len() as u64
                } else {
                    (5 + size * 2 / 1000).max(6)
                }
            } else if size == 0 {
                0
            } else {
                (size * u64::from(o.weight) / 1000).max(1)
            };
            (o.name, n)
        })
        .collect()
}

fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The OAuth directory's users (`oauth::directory`), rows 0–2 of User: first name, last
/// name, username (= email), active.
pub const SYSTEM_USERS: [(&str, &str, &str, bool); 3] = [
    ("Integration", "User", "integration@sfprivacy.example", true),
    ("Dana", "Denier", "denier@sfprivacy.example", true),
    ("Ivan", "Inactive", "inactive@sfprivacy.example", false),
];
/// Row of the customer-portal user.
const PORTAL_USER: u64 = 3;

/// Who a seeded row is about: locale and names, shared by every field of the row.
#[derive(Debug, Clone)]
pub struct Persona {
    pub locale: Locale,
    pub first: &'static str,
    pub last: &'static str,
    pub key: u64,
    family: &'static str,
}

impl Persona {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }
    pub fn email(&self) -> String {
        let local = format!("{}.{}", ascii_fold(self.first), ascii_fold(self.last))
            .replace(' ', "")
            .to_ascii_lowercase();
        let domains = locale::data(self.locale).domains;
        let d = domains[(self.key % domains.len() as u64) as usize];
        let tag = match self.family {
            "Lead" => "l",
            "User" => "u",
            "Account" => "p",
            _ => "",
        };
        format!("{local}{tag}{}@{d}", self.key)
    }
}

fn ascii_fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' => 'a',
            'é' | 'è' | 'ê' => 'e',
            'í' | 'ï' => 'i',
            'ó' | 'ô' | 'õ' => 'o',
            'ú' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            'É' => 'E',
            'Î' => 'I',
            c => c,
        })
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .collect()
}

/// The generator of one org: seed, counts, and the schema it fills.
#[derive(Debug, Clone)]
pub struct Generator {
    pub seed: u64,
    pub counts: HashMap<&'static str, u64>,
    pub person_accounts: bool,
    /// Seeded business contacts; person contacts are the Contact rows after them.
    pub base_contacts: u64,
    /// Seeded timestamps count back from here (fixed so output is reproducible).
    pub epoch: chrono::DateTime<chrono::Utc>,
}

impl Generator {
    pub fn new(schema: &Schema, seed: u64, size: u64, person_accounts: bool) -> Self {
        let mut counts = counts(schema, size);
        let base_contacts = counts.get("Contact").copied().unwrap_or(0);
        // One person contact per person account (rows 4, 9, 14, … of Account).
        let person_contacts = counts.get("Account").copied().unwrap_or(0) / 5;
        if person_accounts && let Some(n) = counts.get_mut("Contact") {
            *n += person_contacts;
        }
        Self {
            seed,
            counts,
            person_accounts,
            base_contacts,
            epoch: chrono::DateTime::parse_from_rfc3339("2025-06-01T09:00:00Z")
                .map(|d| d.with_timezone(&chrono::Utc))
                .unwrap_or_default(),
        }
    }

    pub fn count(&self, obj: &str) -> u64 {
        self.counts.get(obj).copied().unwrap_or(0)
    }

    fn rng(&self, obj: &str, row: u64, salt: &str) -> Rng {
        let mut r = Rng(self.seed
            ^ fnv(obj).rotate_left(17)
            ^ fnv(salt).rotate_left(41)
            ^ row.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next_u64();
        r
    }

    fn persona_for(&self, family: &'static str, key: u64) -> Persona {
        let mut r = self.rng(family, key, "persona");
        let locale = *r.pick(&locale::ALL);
        let data = locale::data(locale);
        Persona {
            locale,
            first: data.first[r.below(data.first.len() as u64) as usize],
            last: data.last[r.below(data.last.len() as u64) as usize],
            key,
            family,
        }
    }

    fn is_converted_lead(&self, row: u64) -> bool {
        row.is_multiple_of(5) && self.count("Contact") > 0
    }

    pub fn is_person_account(&self, row: u64) -> bool {
        self.person_accounts && row % 5 == 4
    }

    /// The Account row whose person contact is Contact row `row`, if it is one.
    pub fn person_contact_account(&self, row: u64) -> Option<u64> {
        let j = row.checked_sub(self.base_contacts)?;
        (self.person_accounts && j < self.count("Account") / 5).then_some(5 * j + 4)
    }

    /// Rows that random references to `obj` pick from: contacts are business contacts only
    /// (a person contact belongs to its account and nothing else).
    fn ref_count(&self, obj: &str) -> u64 {
        if obj == "Contact" {
            self.base_contacts
        } else {
            self.count(obj)
        }
    }

    /// A person contact's value of `field`, when it is not generated as on other contacts:
    /// mirrored person fields come from the Account, unmirrored personal ones are empty.
    fn person_contact_value(
        &self,
        schema: &Schema,
        account_row: u64,
        field: &str,
        g: &Gen,
    ) -> Option<Value> {
        if let Some((_, af)) = super::schema::PERSON_CONTACT_FIELDS
            .iter()
            .find(|(cf, _)| *cf == field)
        {
            let ao = schema.object("Account")?;
            return Some(
                ao.field_index_any(af)
                    .map_or(Value::Null, |ai| self.value(schema, ao, account_row, ai)),
            );
        }
        match (field, g) {
            ("AccountId", _) => Some(self.id_of(schema, "Account", account_row)),
            (_, Gen::IsPersonAccount) => Some(Value::Bool(true)),
            (_, Gen::System | Gen::Bool(_) | Gen::Pick) => None,
            _ => Some(Value::Null),
        }
    }

    /// The persona of a seeded row (people-like objects), following references for
    /// objects about a person (a case → its contact).
    pub fn persona(&self, schema: &Schema, obj: &str, row: u64) -> Persona {
        match obj {
            "Lead" if self.is_converted_lead(row) => {
                self.persona_for("Contact", (row / 5) % self.ref_count("Contact"))
            }
            "Individual" => self.persona_for("Contact", row),
            "User" if row == PORTAL_USER && self.count("Contact") > 0 => {
                self.persona_for("Contact", 0)
            }
            "Contact" => match self.person_contact_account(row) {
                Some(acc) => self.persona_for("Account", acc),
                None => self.persona_for("Contact", row),
            },
            "Lead" => self.persona_for("Lead", row),
            "User" => self.persona_for("User", row),
            "Account" => self.persona_for("Account", row),
            _ => {
                // Objects about someone else: follow the first person-like reference.
                let o = schema.object(obj);
                let via = o.and_then(|o| {
                    o.fields.iter().find(|f| {
                        f.reference_to.first().is_some_and(|t| {
                            matches!(*t, "Contact" | "Lead" | "Case" | "Individual")
                        }) && matches!(f.fill, Gen::Ref { .. } | Gen::Who)
                    })
                });
                if let (Some(o), Some(fd)) = (o, via) {
                    let idx = o.field_index_any(fd.name).unwrap_or(0);
                    if let Value::String(id) = self.value(schema, o, row, idx)
                        && let Some((pobj, prow)) = self.locate(schema, &id)
                    {
                        return self.persona(schema, pobj, prow);
                    }
                }
                self.persona_for("Contact", row)
            }
        }
    }

    /// Object and seeded row of an id minted by this generator.
    pub fn locate<'s>(&self, schema: &'s Schema, id: &str) -> Option<(&'s str, u64)> {
        let parsed = super::ids::parse_id(id)?;
        let o = schema.object_by_prefix(&parsed.prefix)?;
        let n = self.count(o.name);
        (parsed.number >= 1 && parsed.number <= n).then_some((o.name, parsed.number - 1))
    }

    fn id_of(&self, schema: &Schema, obj: &str, row: u64) -> Value {
        schema.object(obj).map_or(Value::Null, |o| {
            Value::String(make_id(o.key_prefix, row + 1))
        })
    }

    fn ref_row(&self, obj: &str, row: u64, salt: &str, to: &str) -> Option<u64> {
        let n = self.ref_count(to);
        if n == 0 {
            return None;
        }
        Some(self.rng(obj, row, salt).below(n))
    }

    fn created(&self, obj: &str, row: u64) -> chrono::DateTime<chrono::Utc> {
        let mut r = self.rng(obj, row, "created");
        self.epoch - chrono::Duration::minutes(r.below(3 * 365 * 24 * 60) as i64)
    }

    fn date_back(&self, r: &mut Rng, max_days: u64) -> String {
        (self.epoch - chrono::Duration::days(r.below(max_days) as i64))
            .format("%Y-%m-%d")
            .to_string()
    }

    /// The value of field `fi` on seeded row `row` of `obj`.
    pub fn value(&self, schema: &Schema, obj: &ObjectDef, row: u64, fi: usize) -> Value {
        let fd = &obj.fields[fi];
        self.gen_value(schema, obj, row, fd.name, &fd.fill, &fd.picklist)
    }

    fn gen_value(
        &self,
        schema: &Schema,
        obj: &ObjectDef,
        row: u64,
        field: &'static str,
        g: &Gen,
        picklist: &[&'static str],
    ) -> Value {
        let name = obj.name;
        if name == "User"
            && let Some(v) = system_user_value(row, field)
        {
            return v;
        }
        if name == "Contact"
            && let Some(acc) = self.person_contact_account(row)
            && let Some(v) = self.person_contact_value(schema, acc, field, g)
        {
            return v;
        }
        let mut r = self.rng(name, row, field);
        let s = |v: String| Value::String(v);
        match g {
            Gen::None | Gen::FullName | Gen::AddressOf(_) | Gen::Same(_) => Value::Null,
            Gen::System => match field {
                "Id" => Value::String(make_id(obj.key_prefix, row + 1)),
                "IsDeleted" => Value::Bool(false),
                "CreatedDate" => s(crate::clock::sf_datetime(self.created(name, row))),
                "LastModifiedDate" | "SystemModstamp" => {
                    let c = self.created(name, row);
                    let m = c + chrono::Duration::minutes(
                        self.rng(name, row, "mod").below(30 * 24 * 60) as i64,
                    );
                    s(crate::clock::sf_datetime(m.min(self.epoch)))
                }
                "CreatedById" | "LastModifiedById" => self.id_of(schema, "User", 0),
                _ => Value::Null,
            },
            Gen::Owner => {
                let n = self.count("User");
                let first = PORTAL_USER + 1;
                let u = if n > first {
                    first + r.below(n - first)
                } else {
                    0
                };
                self.id_of(schema, "User", u)
            }
            Gen::Salutation => {
                if r.pct(60) {
                    s(r.pick(&["Mr.", "Ms.", "Mrs.", "Dr."]).to_string())
                } else {
                    Value::Null
                }
            }
            Gen::FirstName => s(self.persona(schema, name, row).first.to_string()),
            Gen::LastName => s(self.persona(schema, name, row).last.to_string()),
            Gen::Email => s(self.persona(schema, name, row).email()),
            Gen::Username => {
                let p = self.persona(schema, name, row);
                s(format!(
                    "{}.{}{}@sfprivacy-emulator.example.com",
                    ascii_fold(p.first),
                    ascii_fold(p.last),
                    row
                )
                .replace(' ', "")
                .to_ascii_lowercase())
            }
            Gen::Alias => {
                let p = self.persona(schema, name, row);
                let a: String = format!(
                    "{}{}",
                    &ascii_fold(p.first)[..1.min(p.first.len())],
                    ascii_fold(p.last)
                )
                .replace(' ', "")
                .to_ascii_lowercase();
                s(a.chars().take(8).collect())
            }
            Gen::Nickname => {
                let p = self.persona(schema, name, row);
                s(format!(
                    "{}{}",
                    ascii_fold(p.first).to_ascii_lowercase(),
                    row
                ))
            }
            Gen::Phone | Gen::MobilePhone => {
                let p = self.persona(schema, name, row);
                let d = locale::data(p.locale);
                let pats = if *g == Gen::Phone {
                    d.phones
                } else {
                    d.mobiles
                };
                s(pick_pattern(&mut r, pats))
            }
            Gen::CompanyPhone => {
                let l = *r.pick(&locale::ALL);
                s(pick_pattern(&mut r, locale::data(l).phones))
            }
            Gen::Street
            | Gen::City
            | Gen::State
            | Gen::PostalCode
            | Gen::Country
            | Gen::Latitude
            | Gen::Longitude => self.address_part(schema, obj, row, field, g),
            Gen::Title => s(r
                .pick(&[
                    "CEO",
                    "VP Sales",
                    "Director of Operations",
                    "Account Manager",
                    "Engineer",
                    "Buyer",
                    "Office Manager",
                    "CFO",
                ])
                .to_string()),
            Gen::Department => s(r
                .pick(&[
                    "Sales",
                    "Finance",
                    "Engineering",
                    "Operations",
                    "Marketing",
                    "Procurement",
                ])
                .to_string()),
            Gen::Company => s(company(&mut r)),
            Gen::AccountName => {
                if self.is_person_account(row) {
                    s(self.persona(schema, name, row).full_name())
                } else {
                    s(company(&mut r))
                }
            }
            Gen::AccountNumber => s(pattern(&mut r, "CD999999")),
            Gen::Website => s(format!(
                "https://www.{}.example.com",
                company(&mut r)
                    .to_ascii_lowercase()
                    .replace([' ', ',', '.', '&'], "")
            )),
            Gen::ProfileUrl => {
                let p = self.persona(schema, name, row);
                s(format!(
                    "https://social.example.com/in/{}-{}-{}",
                    ascii_fold(p.first),
                    ascii_fold(p.last),
                    p.key
                )
                .to_ascii_lowercase()
                .replace(' ', ""))
            }
            Gen::Text(mix) => self.text(schema, obj, row, &mut r, *mix),
            Gen::Birthdate => {
                let days = r.below(65 * 365);
                s(
                    (chrono::NaiveDate::from_ymd_opt(1940, 1, 1).unwrap_or_default()
                        + chrono::Duration::days(days as i64))
                    .format("%Y-%m-%d")
                    .to_string(),
                )
            }
            Gen::RecentDate => s(self.date_back(&mut r, 720)),
            Gen::FutureDate => s(
                (self.epoch + chrono::Duration::days(30 + r.below(1500) as i64))
                    .format("%Y-%m-%d")
                    .to_string(),
            ),
            Gen::RecentDateTime => s(crate::clock::sf_datetime(
                self.epoch - chrono::Duration::minutes(r.below(720 * 24 * 60) as i64),
            )),
            Gen::Duration => json!(15 * (1 + r.below(8))),
            Gen::Amount => json!((r.below(5_000_000) as f64) / 10.0),
            Gen::Employees => json!(1 + r.below(5000)),
            Gen::Percent => json!(r.below(101)),
            Gen::Bool(p) => Value::Bool(r.pct(*p)),
            Gen::Pick | Gen::Gender => {
                if picklist.is_empty() {
                    Value::Null
                } else {
                    s(r.pick(picklist).to_string())
                }
            }
            Gen::Const(c) => s((*c).to_string()),
            Gen::Ref { to, null_pct } => {
                if r.pct(*null_pct) {
                    return Value::Null;
                }
                let picked = self.ref_row(name, row, field, to);
                // A person account's only contact is its person contact: business contacts
                // belong to the business account just before it.
                let picked = match picked {
                    Some(p)
                        if name == "Contact" && *to == "Account" && self.is_person_account(p) =>
                    {
                        Some(p - 1)
                    }
                    other => other,
                };
                picked.map_or(Value::Null, |p| self.id_of(schema, to, p))
            }
            Gen::RefVia(via, pfield) => {
                let Some(vi) = obj.field_index_any(via) else {
                    return Value::Null;
                };
                let Value::String(pid) = self.value(schema, obj, row, vi) else {
                    return Value::Null;
                };
                let Some((pobj, prow)) = self.locate(schema, &pid) else {
                    return Value::Null;
                };
                let Some(po) = schema.object(pobj) else {
                    return Value::Null;
                };
                po.field_index_any(pfield)
                    .map_or(Value::Null, |pi| self.value(schema, po, prow, pi))
            }
            Gen::SameIndex(to) => {
                if row < self.count(to) {
                    self.id_of(schema, to, row)
                } else {
                    Value::Null
                }
            }
            Gen::FullNameFromRef(via) | Gen::EmailFromRef(via) => {
                let Some(vi) = obj.field_index_any(via) else {
                    return Value::Null;
                };
                let Value::String(pid) = self.value(schema, obj, row, vi) else {
                    return Value::Null;
                };
                let Some((pobj, prow)) = self.locate(schema, &pid) else {
                    return Value::Null;
                };
                let p = self.persona(schema, pobj, prow);
                if matches!(g, Gen::FullNameFromRef(_)) {
                    s(p.full_name())
                } else {
                    s(p.email())
                }
            }
            Gen::Maybe(p, inner) => {
                if r.pct(*p) {
                    self.gen_value(schema, obj, row, field, inner, picklist)
                } else {
                    Value::Null
                }
            }
            Gen::PersonOnly(inner) => {
                if self.is_person_account(row) {
                    self.gen_value(schema, obj, row, field, inner, picklist)
                } else {
                    Value::Null
                }
            }
            Gen::IsPersonAccount => Value::Bool(if name == "Contact" {
                self.person_contact_account(row).is_some()
            } else {
                self.is_person_account(row)
            }),
            Gen::PersonContact => {
                if self.is_person_account(row) {
                    self.id_of(schema, "Contact", self.base_contacts + row / 5)
                } else {
                    Value::Null
                }
            }
            Gen::UserType => s(if row == PORTAL_USER {
                "PowerCustomerSuccess"
            } else {
                "Standard"
            }
            .into()),
            Gen::PortalContact => {
                if row == PORTAL_USER && self.count("Contact") > 0 {
                    self.id_of(schema, "Contact", 0)
                } else {
                    Value::Null
                }
            }
            Gen::LocaleKey => {
                let p = self.persona(schema, name, row);
                s(match p.locale {
                    Locale::Us => "en_US",
                    Locale::Gb => "en_GB",
                    Locale::Ca => "en_CA",
                    Locale::Br => "pt_BR",
                    Locale::In => "en_IN",
                    Locale::Nl => "nl_NL",
                    Locale::Es => "es_ES",
                    Locale::Fr => "fr_FR",
                }
                .into())
            }
            Gen::LeadStatus => {
                if self.is_converted_lead(row) {
                    s("Closed - Converted".into())
                } else {
                    s(r.pick(&[
                        "Open - Not Contacted",
                        "Working - Contacted",
                        "Closed - Not Converted",
                    ])
                    .to_string())
                }
            }
            Gen::Converted => Value::Bool(self.is_converted_lead(row)),
            Gen::ConvertedDate => {
                if self.is_converted_lead(row) {
                    s(self.date_back(&mut r, 365))
                } else {
                    Value::Null
                }
            }
            Gen::ConvertedContact | Gen::ConvertedAccount => {
                if !self.is_converted_lead(row) {
                    return Value::Null;
                }
                let c = (row / 5) % self.ref_count("Contact");
                if *g == Gen::ConvertedContact {
                    self.id_of(schema, "Contact", c)
                } else {
                    schema
                        .object("Contact")
                        .and_then(|co| {
                            co.field_index_any("AccountId")
                                .map(|ai| self.value(schema, co, c, ai))
                        })
                        .unwrap_or(Value::Null)
                }
            }
            Gen::AutoNumber(prefix) => s(format!("{prefix}{:08}", row + 1)),
            Gen::CaseSubject => s(r
                .pick(&[
                    "Cannot log in",
                    "Invoice question",
                    "Delivery delayed",
                    "Change my address",
                    "Product not working",
                    "Request a refund",
                    "Update billing details",
                ])
                .to_string()),
            Gen::OpportunityName => s(format!("{} - {} units", company(&mut r), 10 + r.below(990))),
            Gen::ActivitySubject => s(r
                .pick(&[
                    "Call",
                    "Send Quote",
                    "Follow up",
                    "Email",
                    "Meeting",
                    "Demo",
                ])
                .to_string()),
            Gen::Who => {
                let (to, salt) = if r.pct(70) {
                    ("Contact", "WhoC")
                } else {
                    ("Lead", "WhoL")
                };
                self.ref_row(name, row, salt, to)
                    .map_or(Value::Null, |p| self.id_of(schema, to, p))
            }
            Gen::CampaignName => s(format!(
                "{} {} {}",
                r.pick(&["Spring", "Summer", "Autumn", "Winter"]),
                2022 + r.below(4),
                r.pick(&["Webinar", "Conference", "Newsletter", "Roadshow"])
            )),
            Gen::MemberContact | Gen::MemberLead => {
                let contact = self.rng(name, row, "member").pct(60);
                let want_contact = *g == Gen::MemberContact;
                if contact != want_contact {
                    return Value::Null;
                }
                let to = if want_contact { "Contact" } else { "Lead" };
                self.ref_row(name, row, "memberref", to)
                    .map_or(Value::Null, |p| self.id_of(schema, to, p))
            }
            Gen::FromMember(f) => {
                let contact = self.rng(name, row, "member").pct(60);
                let to = if contact { "Contact" } else { "Lead" };
                let Some(prow) = self.ref_row(name, row, "memberref", to) else {
                    return Value::Null;
                };
                let Some(po) = schema.object(to) else {
                    return Value::Null;
                };
                po.field_index_any(f)
                    .map_or(Value::Null, |pi| self.value(schema, po, prow, pi))
            }
            Gen::SupportAddress => s("support@sfprivacy-emulator.example.com".into()),
            Gen::HistoryField => s(history_field(name, &mut self.rng(name, row, "hf")).into()),
            Gen::HistoryValue(new) => {
                let which = history_field(name, &mut self.rng(name, row, "hf"));
                let mut r2 = self.rng(name, row, if *new { "new" } else { "old" });
                let p = self.persona_for("Contact", r2.below(1 << 20));
                let d = locale::data(p.locale);
                s(match which {
                    "Email" => p.email(),
                    "Phone" => pick_pattern(&mut r2, d.phones),
                    "LastName" => p.last.to_string(),
                    // MailingCity (Contact) or City (Lead).
                    _ => r2.pick(d.cities).0.to_string(),
                })
            }
            Gen::NationalId => {
                let p = self.persona(schema, name, row);
                s(pii::national_id(&mut r, p.locale))
            }
            Gen::TaxId => {
                let p = self.persona(schema, name, row);
                if p.locale == Locale::Us {
                    s(pii::us_itin(&mut r))
                } else {
                    Value::Null
                }
            }
            Gen::Passport => s(pii::passport(
                &mut r,
                self.persona(schema, name, row).locale,
            )),
            Gen::DriversLicense => s(pii::drivers_license(
                &mut r,
                self.persona(schema, name, row).locale,
            )),
            Gen::CardNumber => s(pii::credit_card(&mut r)),
            Gen::Iban => s(pii::iban(&mut r)),
            Gen::Routing => s(pii::aba_routing(&mut r)),
            Gen::IpAddress => s(pii::ip_address(&mut r)),
            Gen::MacAddress => s(pii::mac_address(&mut r)),
            Gen::Credential => s(pii::credential(&mut r)),
            Gen::PaymentName => s(format!(
                "{} {}",
                r.pick(&["Primary", "Backup", "Corporate", "Travel"]),
                r.pick(&["card", "account", "wallet"])
            )),
            Gen::ProjectName => s(format!(
                "{} {} rollout",
                r.pick(&["CRM", "ERP", "Website", "Warehouse", "Billing"]),
                2022 + r.below(4)
            )),
            Gen::ItemName => s(format!(
                "{} {}",
                r.pick(&["Steel", "Copper", "Oak", "Carbon", "Nylon"]),
                r.pick(&["bolt", "panel", "valve", "bracket", "cable"])
            )),
            Gen::Sku => s(format!("SKU-{:07}", row + 1)),
        }
    }

    fn address_part(
        &self,
        schema: &Schema,
        obj: &ObjectDef,
        row: u64,
        field: &str,
        g: &Gen,
    ) -> Value {
        // One address per (row, compound): components agree with each other.
        // The same as chained `trim_end_matches`, without building a substring searcher
        // per suffix (this runs for every address component of every row read).
        const PARTS: [&str; 7] = [
            "Street",
            "City",
            "State",
            "PostalCode",
            "Country",
            "Latitude",
            "Longitude",
        ];
        let prefix = PARTS.iter().fold(field, |mut f, part| {
            while let Some(rest) = f.strip_suffix(part) {
                f = rest;
            }
            f
        });
        let mut r = self.rng(obj.name, row, prefix);
        if r.pct(10) {
            return Value::Null; // some rows have no address at all
        }
        let locale = if matches!(obj.name, "Contact" | "Lead" | "User" | "Individual")
            || prefix == "PersonMailing"
        {
            self.persona(schema, obj.name, row).locale
        } else {
            *r.pick(&locale::ALL)
        };
        let d = locale::data(locale);
        let (city, state, postal) = *r.pick(d.cities);
        let street = format!("{} {}", 1 + r.below(250), r.pick(d.streets));
        let postal = pattern(&mut r, postal);
        let geo = r.pct(30);
        let lat = (20_000.0 + r.below(40_000) as f64) / 1000.0;
        let lon = (r.below(140_000) as f64 - 120_000.0) / 1000.0;
        match g {
            Gen::Street => Value::String(street),
            Gen::City => Value::String(city.into()),
            Gen::State => Value::String(state.into()),
            Gen::PostalCode => Value::String(postal),
            Gen::Country => Value::String(d.country.into()),
            Gen::Latitude if geo => json!(lat),
            Gen::Longitude if geo => json!(lon),
            _ => Value::Null,
        }
    }

    fn text(&self, schema: &Schema, obj: &ObjectDef, row: u64, r: &mut Rng, mix: TextMix) -> Value {
        const BUSINESS: &[&str] = &[
            "Renewal expected next quarter.",
            "Key account in the manufacturing segment.",
            "Budget approved for phase two.",
            "Pricing discussed; awaiting procurement sign-off.",
            "Migrated from the legacy system in 2021.",
        ];
        const NOTES: &[&str] = &[
            "Prefers contact in the morning.",
            "Met at the annual conference.",
            "Interested in the premium plan.",
            "Asked for a follow-up after the demo.",
            "Moved to a new role last year.",
        ];
        const SUPPORT: &[&str] = &[
            "Customer reports the app crashes on start.",
            "The invoice total does not match the order.",
            "Package arrived damaged.",
            "Password reset link expired.",
            "Requests a copy of their data.",
        ];
        if mix.kind == 0 {
            return if r.pct(70) {
                Value::String(r.pick(BUSINESS).to_string())
            } else {
                Value::Null
            };
        }
        let base = match mix.kind {
            2 | 4 => r.pick(SUPPORT),
            _ => r.pick(NOTES),
        };
        let p = self.persona(schema, obj.name, row);
        let d = locale::data(p.locale);
        let mut out = String::new();
        if r.pct(mix.name_pct) {
            out.push_str(&format!("Hi, this is {}. ", p.full_name()));
        }
        out.push_str(base);
        if r.pct(mix.email_pct) {
            out.push_str(&format!(" Reach me at {}.", p.email()));
        }
        if r.pct(mix.phone_pct) {
            let ph = pick_pattern(r, d.mobiles);
            out.push_str(&format!(" Call back on {ph}."));
        }
        Value::String(out)
    }
}

/// Fixed values of the directory users' identity fields.
fn system_user_value(row: u64, field: &str) -> Option<Value> {
    let (first, last, username, active) = *SYSTEM_USERS.get(row as usize)?;
    Some(match field {
        "FirstName" => Value::String(first.into()),
        "LastName" => Value::String(last.into()),
        "Username" | "Email" => Value::String(username.into()),
        "IsActive" => Value::Bool(active),
        "Alias" => Value::String(
            format!("{}{}", &first[..1], last)
                .to_ascii_lowercase()
                .chars()
                .take(8)
                .collect(),
        ),
        "CommunityNickname" => Value::String(username.split('@').next().unwrap_or(username).into()),
        _ => return None,
    })
}

/// The tracked field a history row of `history` (e.g. `LeadHistory`) records, by its API name
/// on the parent object.
fn history_field(history: &str, r: &mut Rng) -> &'static str {
    let city = if history == "LeadHistory" {
        "City"
    } else {
        "MailingCity"
    };
    ["Email", "Phone", "LastName", city][r.below(4) as usize]
}

/// The personal data a tracked field's values are, in the ground truth's vocabulary.
fn history_label(field: &str) -> &'static str {
    match field {
        "Email" => "email",
        "Phone" => "phone",
        "LastName" => "person_name",
        _ => "city",
    }
}

impl Generator {
    /// Ground truth of a history object's `OldValue`/`NewValue`: the kinds of the tracked
    /// fields its rows really record. A small org's few rows may not record every field, and
    /// a label no row supports is not in the data. Past a few hundred rows every field shows.
    pub fn history_labels(&self, history: &str) -> Vec<&'static str> {
        let rows = self.count(history).min(10_000);
        let mut labels: Vec<&'static str> = (0..rows)
            .map(|row| history_label(history_field(history, &mut self.rng(history, row, "hf"))))
            .collect();
        labels.sort_unstable();
        labels.dedup();
        labels
    }
}

fn company(r: &mut Rng) -> String {
    const A: &[&str] = &[
        "Acme",
        "Globex",
        "Initech",
        "Umbrella",
        "Stark",
        "Wayne",
        "Hooli",
        "Vandelay",
        "Soylent",
        "Tyrell",
        "Cyberdyne",
        "Wonka",
    ];
    const B: &[&str] = &[
        "Corp",
        "Industries",
        "Ltd",
        "GmbH",
        "SA",
        "Holdings",
        "Labs",
        "Partners",
        "BV",
        "Systems",
    ];
    format!("{} {}", r.pick(A), r.pick(B))
}

fn pick_pattern(r: &mut Rng, patterns: &[&str]) -> String {
    let p = *r.pick(patterns);
    pattern(r, p)
}
