//! What a field's metadata says before any value is read: hints from the API name and label
//! tokens, Salesforce's field type, SecurityClassification and ComplianceGroup.
//!
//! A [`FieldProfile`] is built once per field (from a describe, or from a CSV header) and
//! steers the detectors: which value shapes count, and how much metadata adds to a verdict.

use super::types::{DataType, TypeSet};
use crate::salesforce::describe::FieldDescribe;

/// How the content of a field is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    /// Short text: whole-value detectors and embedded candidates.
    Text,
    /// Long text (descriptions, comments, bodies): embedded candidates only.
    FreeText,
    /// A date field: only date of birth can apply.
    Date,
    /// A number: only coordinates can apply (latitude/longitude fields).
    Number,
    /// Not read (ids, references, booleans, binary, money, …).
    Skip,
}

/// Metadata evidence for one field.
#[derive(Debug, Clone)]
pub struct FieldProfile {
    pub name: String,
    pub kind: ContentKind,
    /// Types the API name or label points to.
    pub hints: TypeSet,
    /// Types Salesforce's own field type asserts (`email`, `phone`, `url`).
    pub typed: TypeSet,
    /// The name says this is a business number (order, case, invoice …), not personal data.
    pub business_number: bool,
    /// Salesforce's SecurityClassification or ComplianceGroup marks it as sensitive.
    pub flagged_sensitive: bool,
    /// The field holds a person's name by Salesforce convention (User/Contact/Lead `Name`).
    pub person_object_name: bool,
    /// Some rows hold a person's name by Salesforce's data model, the others not
    /// (`Account.Name` with person accounts enabled).
    pub partly_person_name: bool,
    /// Which kind of secret the name announces, when it announces one.
    pub credential: Option<CredentialName>,
}

/// What a credential-hinted field's name says its values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialName {
    /// Password, passwd, pwd, secret, passphrase, credential: whatever its owner chose, so
    /// any six characters or more may be one.
    Password,
    /// Token, API key, access key: machine-made, so a value counts only if it looks random.
    Token,
}

/// Words that make a credential word describe something about the secret rather than the
/// secret itself: `Token_Status__c`, `Password_Expiry__c`, `Api_Key_Type__c`.
const ABOUT_A_SECRET: &[&str] = &[
    "status",
    "state",
    "stage",
    "expiry",
    "expires",
    "expiration",
    "expired",
    "date",
    "datetime",
    "time",
    "timestamp",
    "type",
    "kind",
    "category",
    "count",
    "length",
    "policy",
    "strength",
    "changed",
    "created",
    "updated",
    "modified",
    "enabled",
    "required",
    "valid",
    "validity",
    "name",
    "label",
    "hint",
    "question",
    "format",
    "provider",
];

/// The kind of secret a field's name tokens announce, if any.
pub fn credential_name(t: &[String]) -> Option<CredentialName> {
    let any = |words: &[&str]| words.iter().any(|w| has(t, w));
    if any(ABOUT_A_SECRET) {
        return None;
    }
    if any(&[
        "password",
        "passwd",
        "pwd",
        "secret",
        "passphrase",
        "credential",
        "credentials",
    ]) {
        Some(CredentialName::Password)
    } else if any(&["token", "apikey", "accesskey"])
        || has_seq(t, "api", "key")
        || has_seq(t, "access", "key")
    {
        Some(CredentialName::Token)
    } else {
        None
    }
}

/// Objects whose `Name` is a person's name.
const PERSON_OBJECTS: &[&str] = &[
    "Contact",
    "Lead",
    "User",
    "Individual",
    "Person",
    "PersonAccount",
];

/// Splits `MailingPostalCode`, `Home_Phone__c`, `e-mail address` into lowercase tokens.
pub fn tokens(name: &str) -> Vec<String> {
    let name = name.strip_suffix("__c").unwrap_or(name);
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let boundary = c.is_uppercase()
            && !cur.is_empty()
            && (chars[i - 1].is_lowercase() || chars.get(i + 1).is_some_and(|n| n.is_lowercase()));
        if boundary {
            out.push(std::mem::take(&mut cur));
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn has(tokens: &[String], t: &str) -> bool {
    tokens.iter().any(|x| x == t)
}

fn has_seq(tokens: &[String], a: &str, b: &str) -> bool {
    tokens.windows(2).any(|w| w[0] == a && w[1] == b)
}

/// The hints an API name (and label) carry.
pub fn name_hints(api_name: &str, label: &str, object: &str) -> (TypeSet, bool, bool) {
    let mut t = tokens(api_name);
    t.extend(tokens(label));
    let mut h = TypeSet::EMPTY;
    let any = |words: &[&str]| words.iter().any(|w| has(&t, w));
    use DataType::*;
    if any(&["email", "mail", "emailaddress"]) || has_seq(&t, "e", "mail") {
        h.insert(Email);
    }
    if any(&[
        "phone",
        "mobile",
        "fax",
        "telephone",
        "tel",
        "cell",
        "cellphone",
        "mobilephone",
        "homephone",
    ]) {
        h.insert(Phone);
    }
    let name_word = any(&[
        "name",
        "surname",
        "firstname",
        "lastname",
        "fullname",
        "forename",
        "middlename",
    ]);
    if any(&[
        "firstname",
        "lastname",
        "fullname",
        "surname",
        "forename",
        "middlename",
        "given",
    ]) || (name_word
        && any(&[
            "first",
            "last",
            "full",
            "middle",
            "given",
            "family",
            "maiden",
            "contact",
            "person",
            "customer",
            "owner",
            "emergency",
            "spouse",
            "legal",
            "preferred",
            // Web-to-case / web-to-lead: the name the submitter supplied (Case.SuppliedName,
            // label "Web Name").
            "supplied",
            "web",
        ]))
    {
        h.insert(PersonName);
    }
    let person_object_name = PERSON_OBJECTS.contains(&object) && t == ["name"];
    if person_object_name {
        h.insert(PersonName);
    }
    if any(&["street", "addressline", "line1", "line2"])
        || has_seq(&t, "address", "line")
        || (has(&t, "address") && !any(&["email", "ip", "mac", "web"]))
    {
        h.insert(StreetAddress);
    }
    if any(&["city", "town", "locality"]) {
        h.insert(City);
    }
    if any(&["state", "province", "county", "region"]) && !any(&["status"]) {
        h.insert(State);
    }
    if any(&["postal", "postalcode", "zip", "zipcode", "postcode"]) {
        h.insert(PostalCode);
    }
    if any(&["country", "nationality"]) {
        h.insert(Country);
    }
    if any(&["card", "cc", "pan", "creditcard"]) && !any(&["business", "scorecard", "rate"]) {
        h.insert(CreditCard);
    }
    if any(&["iban", "bankaccount"]) || has_seq(&t, "bank", "account") {
        h.insert(Iban);
    }
    if any(&["ssn", "socialsecurity"]) || has_seq(&t, "social", "security") {
        h.insert(UsSsn);
    }
    if any(&["itin", "tin", "taxid"]) || has_seq(&t, "tax", "id") {
        h.insert(UsItin);
    }
    if any(&["routing", "aba"]) {
        h.insert(AbaRouting);
    }
    if any(&["nino"]) || has_seq(&t, "national", "insurance") {
        h.insert(UkNino);
    }
    if any(&["sin"]) || has_seq(&t, "social", "insurance") {
        h.insert(CaSin);
    }
    // A generic national-id field can hold any country's id: every one is plausible.
    if has_seq(&t, "national", "id") || has_seq(&t, "government", "id") || any(&["nationalid"]) {
        for id in [
            UsSsn, UkNino, CaSin, BrCpf, InAadhaar, NlBsn, EsNif, FrInsee,
        ] {
            h.insert(id);
        }
    }
    if any(&["cpf"]) {
        h.insert(BrCpf);
    }
    if any(&["aadhaar", "aadhar", "uidai"]) {
        h.insert(InAadhaar);
    }
    if any(&["bsn", "burgerservicenummer"]) {
        h.insert(NlBsn);
    }
    if any(&["nif", "dni", "nie"]) {
        h.insert(EsNif);
    }
    if any(&["insee", "nir"]) {
        h.insert(FrInsee);
    }
    if any(&["passport"]) {
        h.insert(PassportNumber);
    }
    if any(&["driver", "drivers", "license", "licence", "dl"]) && !any(&["software", "key"]) {
        h.insert(DriversLicense);
    }
    if any(&["birthdate", "dob", "birthday", "born"]) || has(&t, "birth") {
        h.insert(DateOfBirth);
    }
    if any(&["ip", "ipaddress", "ipv4", "ipv6"]) {
        h.insert(IpAddress);
    }
    if any(&["mac", "macaddress"]) {
        h.insert(MacAddress);
    }
    // "web" qualifies another kind as often as it names a URL ("Web Name", "Web Email").
    if any(&[
        "url", "website", "site", "homepage", "link", "linkedin", "twitter",
    ]) || (has(&t, "web") && !any(&["name", "email", "phone", "company"]))
    {
        h.insert(Url);
    }
    if any(&[
        "latitude",
        "longitude",
        "lat",
        "lng",
        "lon",
        "geo",
        "geolocation",
        "coordinates",
        "gps",
    ]) {
        h.insert(Geolocation);
    }
    if any(&["gender", "sex", "pronouns"]) {
        h.insert(Gender);
    }
    if credential_name(&t).is_some() {
        h.insert(Credential);
    }
    let business_number = any(&[
        "order",
        "case",
        "invoice",
        "quote",
        "contract",
        "ticket",
        "po",
        "sku",
        "serial",
        "product",
        "opportunity",
        "account",
        "employee",
        "reference",
        "ref",
        "number",
    ]) && !any(&[
        "phone", "mobile", "fax", "card", "passport", "license", "licence", "ssn", "tax",
        "routing", "iban",
    ]);
    (h, business_number, person_object_name)
}

impl FieldProfile {
    /// From a Salesforce describe.
    pub fn from_describe(object: &str, f: &FieldDescribe) -> Self {
        let (mut hints, business_number, person_object_name) =
            name_hints(&f.name, &f.label, object);
        let mut typed = TypeSet::EMPTY;
        let kind = match f.kind.as_str() {
            "email" => {
                typed.insert(DataType::Email);
                ContentKind::Text
            }
            "phone" => {
                typed.insert(DataType::Phone);
                ContentKind::Text
            }
            "url" => {
                typed.insert(DataType::Url);
                ContentKind::Text
            }
            "string" | "picklist" | "combobox" | "encryptedstring" | "multipicklist" => {
                if f.length > 1000 {
                    ContentKind::FreeText
                } else {
                    ContentKind::Text
                }
            }
            "textarea" => {
                // Street components are textareas; long text areas are free text.
                if hints.contains(DataType::StreetAddress) && f.length <= 1000 {
                    ContentKind::Text
                } else {
                    ContentKind::FreeText
                }
            }
            // History OldValue/NewValue: whatever the tracked field held, as short values.
            "anyType" => ContentKind::Text,
            "date" => ContentKind::Date,
            "double" if hints.contains(DataType::Geolocation) => ContentKind::Number,
            _ => ContentKind::Skip,
        };
        let mut name_tokens = tokens(&f.name);
        name_tokens.extend(tokens(&f.label));
        let mut credential = credential_name(&name_tokens);
        if f.kind == "encryptedstring" {
            hints.insert(DataType::Credential);
            credential.get_or_insert(CredentialName::Password);
        }
        // A field Salesforce types as email, phone or URL holds that: a name or place word in
        // its label ("From Address", "Home Phone") does not make it a street or a name.
        if !typed.is_empty() {
            for t in [
                DataType::PersonName,
                DataType::StreetAddress,
                DataType::City,
                DataType::State,
                DataType::PostalCode,
                DataType::Country,
            ] {
                hints.remove(t);
            }
        }
        let flagged_sensitive = f
            .security_classification
            .as_deref()
            .is_some_and(|c| matches!(c, "Confidential" | "Restricted" | "MissionCritical"))
            || f.compliance_group.as_deref().is_some_and(|g| {
                g.split(';').any(|x| {
                    matches!(
                        x.trim(),
                        "PII" | "GDPR" | "CCPA" | "HIPAA" | "PCI" | "COPPA" | "GLBA"
                    )
                })
            });
        FieldProfile {
            name: f.name.clone(),
            kind,
            hints,
            typed,
            business_number,
            flagged_sensitive,
            person_object_name,
            partly_person_name: false,
            credential,
        }
    }

    /// From a column header (offline files): name hints only, content decides the rest.
    pub fn from_column(name: &str) -> Self {
        let (hints, business_number, _) = name_hints(name, "", "");
        let t = tokens(name);
        let free = t.iter().any(|x| {
            matches!(
                x.as_str(),
                "description"
                    | "comment"
                    | "comments"
                    | "notes"
                    | "note"
                    | "body"
                    | "message"
                    | "details"
            )
        });
        FieldProfile {
            name: name.to_string(),
            kind: if free {
                ContentKind::FreeText
            } else {
                ContentKind::Text
            },
            hints,
            typed: TypeSet::EMPTY,
            business_number,
            flagged_sensitive: false,
            person_object_name: false,
            partly_person_name: false,
            credential: credential_name(&t),
        }
    }

    /// With person accounts enabled (the Account describe has `IsPersonAccount`), an
    /// account's `Name` is the person's full name on person-account rows.
    pub fn person_accounts(mut self, object: &str, enabled: bool) -> Self {
        if enabled && object == "Account" && self.name == "Name" {
            self.hints.insert(DataType::PersonName);
            self.partly_person_name = true;
        }
        self
    }

    /// Metadata support for `t`: 0 (none), name hint, or Salesforce type.
    pub fn metadata_weight(&self, t: DataType) -> f64 {
        if self.typed.contains(t) {
            0.8
        } else if self.hints.contains(t) {
            0.55
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(name: &str, kind: &str, label: &str) -> FieldProfile {
        let f: FieldDescribe = serde_json::from_value(serde_json::json!({
            "name": name, "type": kind, "label": label, "length": 255
        }))
        .unwrap();
        FieldProfile::from_describe("Case", &f)
    }

    fn classified(security: Option<&str>, compliance: Option<&str>) -> FieldProfile {
        let f: FieldDescribe = serde_json::from_value(serde_json::json!({
            "name": "Ref__c", "type": "string", "label": "Ref", "length": 255,
            "securityClassification": security, "complianceGroup": compliance
        }))
        .unwrap();
        FieldProfile::from_describe("Account", &f)
    }

    #[test]
    fn salesforce_data_classification_flags_a_field_and_raises_its_confidence() {
        use crate::classify::aggregate::{FieldStats, verdict};
        use crate::message::ConfidenceLevel;
        for (sec, comp) in [
            (Some("Confidential"), None),
            (Some("Restricted"), None),
            (Some("MissionCritical"), None),
            (None, Some("PII")),
            (Some("Internal"), Some("CCPA; GDPR")),
            (None, Some("PCI")),
        ] {
            assert!(classified(sec, comp).flagged_sensitive, "{sec:?} {comp:?}");
        }
        for (sec, comp) in [
            (None, None),
            (Some("Public"), None),
            (Some("Internal"), Some("")),
            (None, Some("None")),
        ] {
            assert!(!classified(sec, comp).flagged_sensitive, "{sec:?} {comp:?}");
        }

        // The same content (street addresses in 40 of 100 values) in a plain and a flagged
        // field: just under `high` plain, over it flagged.
        let mut s = FieldStats {
            non_empty: 100,
            ..FieldStats::default()
        };
        s.hits[DataType::StreetAddress.index()] = 40;
        let plain = verdict(&classified(None, None), &s, ConfidenceLevel::Low);
        let flagged = verdict(
            &classified(Some("Confidential"), Some("GDPR")),
            &s,
            ConfidenceLevel::Low,
        );
        let (a, b) = (&plain.data_types[0], &flagged.data_types[0]);
        assert_eq!(
            (a.data_type.as_str(), b.data_type.as_str()),
            ("street_address", "street_address")
        );
        assert!(b.confidence > a.confidence, "{a:?} vs {b:?}");
        assert_eq!(
            (a.level, b.level),
            (ConfidenceLevel::Medium, ConfidenceLevel::High),
            "the flag lifts it a level: {a:?} vs {b:?}"
        );
        assert!(
            b.evidence
                .contains(&"salesforce_classification".to_string())
        );
        assert!(
            !a.evidence
                .contains(&"salesforce_classification".to_string())
        );
        // The flag strengthens content; on its own it labels nothing.
        let empty = verdict(
            &classified(Some("Restricted"), Some("PII")),
            &FieldStats::default(),
            ConfidenceLevel::Low,
        );
        assert!(empty.data_types.is_empty(), "{empty:?}");
    }

    #[test]
    fn salesforce_types_and_labels() {
        // History values (anyType) are read as short text.
        assert_eq!(
            described("OldValue", "anyType", "Old Value").kind,
            ContentKind::Text
        );
        // "Web Name" is the submitter's name, not a URL.
        let web = described("SuppliedName", "string", "Web Name");
        assert!(web.hints.contains(DataType::PersonName));
        assert!(!web.hints.contains(DataType::Url));
        assert!(
            described("Website", "url", "Website")
                .typed
                .contains(DataType::Url)
        );
        // An email-typed "From Address" is no street address.
        let from = described("FromAddress", "email", "From Address");
        assert!(!from.hints.contains(DataType::StreetAddress));
        assert!(from.typed.contains(DataType::Email));
    }

    #[test]
    fn credential_names_tell_passwords_from_tokens_and_from_fields_about_them() {
        use CredentialName::*;
        let kind = |n: &str| FieldProfile::from_column(n).credential;
        for n in [
            "Password__c",
            "Passwd",
            "Pwd__c",
            "Client_Secret__c",
            "Passphrase__c",
        ] {
            assert_eq!(kind(n), Some(Password), "{n}");
        }
        for n in [
            "Integration_Token__c",
            "Api_Key__c",
            "ApiKey__c",
            "Access_Key__c",
            "Token",
        ] {
            assert_eq!(kind(n), Some(Token), "{n}");
        }
        // Names about a secret (its status, expiry, type) or merely containing "key".
        for n in [
            "Token_Status__c",
            "Token_Expiry__c",
            "Token_Type__c",
            "Api_Key_Created_Date__c",
            "Password_Last_Changed__c",
            "Password_Policy__c",
            "Key_Account__c",
            "Account_Key__c",
        ] {
            let p = FieldProfile::from_column(n);
            assert_eq!(p.credential, None, "{n}");
            assert!(!p.hints.contains(DataType::Credential), "{n}");
        }
        // The label counts too; an encrypted field is password-like unless named a token.
        assert_eq!(
            described("Key__c", "string", "API Key").credential,
            Some(Token)
        );
        assert_eq!(
            described("Secret_Answer__c", "encryptedstring", "Answer").credential,
            Some(Password)
        );
        assert_eq!(
            described("Vault__c", "encryptedstring", "Vault").credential,
            Some(Password)
        );
    }

    #[test]
    fn tokenises_api_names() {
        assert_eq!(tokens("MailingPostalCode"), ["mailing", "postal", "code"]);
        assert_eq!(tokens("Home_Phone__c"), ["home", "phone"]);
        assert_eq!(tokens("SSNNumber__c"), ["ssn", "number"]);
        assert_eq!(tokens("e-mail address"), ["e", "mail", "address"]);
    }

    #[test]
    fn hints_from_names() {
        let h = |n: &str| name_hints(n, "", "Contact").0;
        assert!(h("MobilePhone").contains(DataType::Phone));
        assert!(h("FirstName").contains(DataType::PersonName));
        assert!(h("Name").contains(DataType::PersonName));
        assert!(
            !name_hints("Name", "", "Account")
                .0
                .contains(DataType::PersonName)
        );
        assert!(h("MailingStreet").contains(DataType::StreetAddress));
        assert!(h("Birthdate").contains(DataType::DateOfBirth));
        assert!(h("Api_Key__c").contains(DataType::Credential));
        assert!(!h("Token_Status__c").contains(DataType::Credential));
        assert!(!h("Status").contains(DataType::State));
        assert!(name_hints("CaseNumber", "", "Case").1);
        assert!(!name_hints("PhoneNumber__c", "", "Case").1);
    }
}
