//! The org's schema: every object and field the emulator knows, with the metadata a
//! describe call reports (types, lengths, write flags, relationships, delete rules,
//! field-level security, security classification) and how the seeded generator fills each
//! field ([`Gen`]); ground truth is derived from the latter, so labels cannot drift from data.
//!
//! Definitions are plain Rust builders: one line per field, close to how Setup shows them.

use std::collections::HashMap;

use super::seeded::{Gen, TextMix};

/// Salesforce's field types, reported lowercase in describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FType {
    Id,
    Reference,
    String,
    TextArea,
    Email,
    Phone,
    Url,
    Picklist,
    Boolean,
    Date,
    DateTime,
    Int,
    Double,
    Currency,
    Address,
    Location,
    AnyType,
}

impl FType {
    pub fn as_str(self) -> &'static str {
        match self {
            FType::Id => "id",
            FType::Reference => "reference",
            FType::String => "string",
            FType::TextArea => "textarea",
            FType::Email => "email",
            FType::Phone => "phone",
            FType::Url => "url",
            FType::Picklist => "picklist",
            FType::Boolean => "boolean",
            FType::Date => "date",
            FType::DateTime => "datetime",
            FType::Int => "int",
            FType::Double => "double",
            FType::Currency => "currency",
            FType::Address => "address",
            FType::Location => "location",
            FType::AnyType => "anyType",
        }
    }

    /// SOAP type reported next to the type.
    pub fn soap_type(self) -> &'static str {
        match self {
            FType::Id | FType::Reference => "tns:ID",
            FType::Boolean => "xsd:boolean",
            FType::Date => "xsd:date",
            FType::DateTime => "xsd:dateTime",
            FType::Int => "xsd:int",
            FType::Double | FType::Currency => "xsd:double",
            FType::Address => "urn:address",
            FType::Location => "urn:location",
            FType::AnyType => "xsd:anyType",
            _ => "xsd:string",
        }
    }

    /// Text-like: compared case-insensitively, searchable by SOSL.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FType::String
                | FType::TextArea
                | FType::Email
                | FType::Phone
                | FType::Url
                | FType::Picklist
                | FType::AnyType
        )
    }

    pub fn is_compound(self) -> bool {
        matches!(self, FType::Address | FType::Location)
    }
}

/// What happens to a child when its parent is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    /// The lookup is cleared.
    SetNull,
    /// The child is deleted with the parent (master-detail, Account→Contact, …).
    Cascade,
    /// The parent cannot be deleted while the child exists (`DELETE_FAILED`).
    Restrict,
}

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: &'static str,
    pub label: String,
    pub kind: FType,
    pub length: u32,
    pub nillable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub unique: bool,
    pub calculated: bool,
    pub defaulted_on_create: bool,
    pub custom: bool,
    pub name_field: bool,
    pub external_id: bool,
    pub id_lookup: bool,
    /// The compound this field is a component of (`FirstName` → `Name`).
    pub compound: Option<&'static str>,
    pub reference_to: Vec<&'static str>,
    pub relationship_name: Option<&'static str>,
    /// Child relationship name on the parent, and the delete rule.
    pub child: Option<(&'static str, OnDelete)>,
    pub security_classification: Option<&'static str>,
    pub compliance_group: Option<&'static str>,
    /// Field-level security: invisible to the integration user.
    pub hidden: bool,
    pub picklist: Vec<&'static str>,
    pub fill: Gen,
}

fn label_of(name: &str) -> String {
    let base = name.trim_end_matches("__c").replace('_', " ");
    let mut out = String::new();
    let chars: Vec<char> = base.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if i > 0 && c.is_uppercase() && chars[i - 1].is_lowercase() {
            out.push(' ');
        }
        out.push(*c);
    }
    out
}

/// A new field with Salesforce's defaults for a writable, nillable field.
pub fn f(name: &'static str, kind: FType) -> FieldDef {
    let length = match kind {
        FType::String => 255,
        FType::TextArea => 32000,
        FType::Email => 80,
        FType::Phone => 40,
        FType::Url => 255,
        FType::Picklist => 255,
        FType::Id | FType::Reference => 18,
        _ => 0,
    };
    FieldDef {
        name,
        label: label_of(name),
        kind,
        length,
        nillable: !matches!(kind, FType::Boolean),
        createable: true,
        updateable: true,
        unique: false,
        calculated: false,
        defaulted_on_create: matches!(kind, FType::Boolean),
        custom: name.ends_with("__c"),
        name_field: false,
        external_id: false,
        id_lookup: false,
        compound: None,
        reference_to: Vec::new(),
        relationship_name: None,
        child: None,
        security_classification: None,
        compliance_group: None,
        hidden: false,
        picklist: Vec::new(),
        fill: Gen::None,
    }
}

impl FieldDef {
    pub fn len(mut self, n: u32) -> Self {
        self.length = n;
        self
    }
    pub fn label(mut self, l: &str) -> Self {
        self.label = l.to_string();
        self
    }
    /// Required: not nillable, no default.
    pub fn req(mut self) -> Self {
        self.nillable = false;
        self
    }
    /// System-maintained: neither createable nor updateable, never null.
    pub fn sys(mut self) -> Self {
        self.createable = false;
        self.updateable = false;
        self.nillable = false;
        self.defaulted_on_create = true;
        self
    }
    /// Read-only but nillable (formula-like or set by the platform).
    pub fn ro(mut self) -> Self {
        self.createable = false;
        self.updateable = false;
        self
    }
    pub fn create_only(mut self) -> Self {
        self.updateable = false;
        self
    }
    pub fn calc(mut self) -> Self {
        self.calculated = true;
        self.createable = false;
        self.updateable = false;
        self
    }
    pub fn defaulted(mut self) -> Self {
        self.defaulted_on_create = true;
        self
    }
    pub fn uniq(mut self) -> Self {
        self.unique = true;
        self.id_lookup = true;
        self
    }
    pub fn name_field(mut self) -> Self {
        self.name_field = true;
        self.id_lookup = true;
        self
    }
    pub fn ext_id(mut self) -> Self {
        self.external_id = true;
        self.id_lookup = true;
        self
    }
    pub fn part_of(mut self, compound: &'static str) -> Self {
        self.compound = Some(compound);
        self
    }
    pub fn refs(mut self, to: &[&'static str], rel: &'static str) -> Self {
        self.reference_to = to.to_vec();
        self.relationship_name = Some(rel);
        self
    }
    pub fn child(mut self, name: &'static str, rule: OnDelete) -> Self {
        self.child = Some((name, rule));
        self
    }
    pub fn sc(mut self, classification: &'static str, group: &'static str) -> Self {
        self.security_classification = Some(classification);
        self.compliance_group = Some(group);
        self
    }
    pub fn hidden(mut self) -> Self {
        self.hidden = true;
        self
    }
    pub fn picks(mut self, values: &[&'static str]) -> Self {
        self.picklist = values.to_vec();
        self
    }
    pub fn fill(mut self, g: Gen) -> Self {
        self.fill = g;
        self
    }
}

/// One sObject type.
#[derive(Debug, Clone)]
pub struct ObjectDef {
    pub name: &'static str,
    pub label: &'static str,
    pub label_plural: &'static str,
    pub key_prefix: &'static str,
    pub custom: bool,
    /// Object permissions of the integration user.
    pub createable: bool,
    pub updateable: bool,
    pub deletable: bool,
    pub searchable: bool,
    /// Seeded rows per 1,000 of the org's size (see `gen::counts`).
    pub weight: u32,
    pub fields: Vec<FieldDef>,
    by_name: HashMap<String, usize>,
    by_relationship: HashMap<String, usize>,
}

impl ObjectDef {
    fn new(
        name: &'static str,
        label: &'static str,
        label_plural: &'static str,
        key_prefix: &'static str,
        weight: u32,
        fields: Vec<FieldDef>,
    ) -> Self {
        let mut o = ObjectDef {
            name,
            label,
            label_plural,
            key_prefix,
            custom: name.ends_with("__c"),
            createable: true,
            updateable: true,
            deletable: true,
            searchable: true,
            weight,
            fields,
            by_name: HashMap::new(),
            by_relationship: HashMap::new(),
        };
        o.reindex();
        o
    }

    fn reindex(&mut self) {
        self.by_name = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.to_ascii_lowercase(), i))
            .collect();
        self.by_relationship = self
            .fields
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.relationship_name.map(|r| (r.to_ascii_lowercase(), i)))
            .collect();
    }

    fn read_only(mut self) -> Self {
        self.createable = false;
        self.updateable = false;
        self.deletable = false;
        self
    }

    fn not_searchable(mut self) -> Self {
        self.searchable = false;
        self
    }

    /// Index of a field by case-insensitive name, including fields hidden by FLS.
    pub fn field_index_any(&self, name: &str) -> Option<usize> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    /// Index of a field the integration user can see.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.field_index_any(name)
            .filter(|i| !self.fields[*i].hidden)
    }

    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.field_index(name).map(|i| &self.fields[i])
    }

    /// The reference field behind a parent relationship name (`Account` → `AccountId`).
    pub fn relationship_field(&self, rel: &str) -> Option<usize> {
        self.by_relationship
            .get(&rel.to_ascii_lowercase())
            .copied()
            .filter(|i| !self.fields[*i].hidden)
    }

    /// Visible fields, in describe order.
    pub fn visible_fields(&self) -> impl Iterator<Item = (usize, &FieldDef)> {
        self.fields.iter().enumerate().filter(|(_, f)| !f.hidden)
    }

    /// The name field (`Name`, or `Subject`, `CaseNumber`, …).
    pub fn name_field(&self) -> Option<usize> {
        self.fields.iter().position(|f| f.name_field)
    }
}

/// A child relationship as seen from the parent.
#[derive(Debug, Clone)]
pub struct ChildRel {
    pub child: &'static str,
    pub field: &'static str,
    pub name: &'static str,
    pub on_delete: OnDelete,
}

/// All objects of the org.
#[derive(Debug, Clone)]
pub struct Schema {
    pub objects: Vec<ObjectDef>,
    by_name: HashMap<String, usize>,
    by_prefix: HashMap<&'static str, usize>,
    children: HashMap<&'static str, Vec<ChildRel>>,
}

impl Schema {
    /// The standard schema; `person_accounts` adds the person-account fields to Account.
    pub fn standard(person_accounts: bool) -> Self {
        let mut objects = vec![
            account(person_accounts),
            contact(person_accounts),
            lead(),
            user(),
            case(),
            opportunity(),
            opportunity_contact_role(),
            task(),
            event(),
            campaign(),
            campaign_member(),
            email_message(),
            individual(),
            contact_point_email(),
            contact_point_phone(),
            history("ContactHistory", "Contact", "017"),
            history("LeadHistory", "Lead", "0LH"),
            identity_document(),
            payment_method(),
            project(),
            inventory_item(),
        ];
        for o in &mut objects {
            o.reindex();
        }
        Self::from_objects(objects)
    }

    pub fn from_objects(objects: Vec<ObjectDef>) -> Self {
        let by_name = objects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.name.to_ascii_lowercase(), i))
            .collect();
        let by_prefix = objects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.key_prefix, i))
            .collect();
        let mut children: HashMap<&'static str, Vec<ChildRel>> = HashMap::new();
        for o in &objects {
            for fd in &o.fields {
                if let Some((name, rule)) = fd.child {
                    for parent in &fd.reference_to {
                        if let Some(p) = objects.iter().find(|x| x.name == *parent) {
                            children.entry(p.name).or_default().push(ChildRel {
                                child: o.name,
                                field: fd.name,
                                name,
                                on_delete: rule,
                            });
                        }
                    }
                }
            }
        }
        Schema {
            objects,
            by_name,
            by_prefix,
            children,
        }
    }

    pub fn object(&self, name: &str) -> Option<&ObjectDef> {
        self.by_name
            .get(&name.to_ascii_lowercase())
            .map(|i| &self.objects[*i])
    }

    pub fn object_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    pub fn object_by_prefix(&self, prefix: &str) -> Option<&ObjectDef> {
        self.by_prefix.get(prefix).map(|i| &self.objects[*i])
    }

    /// Child relationships of `parent` (the parent's describe `childRelationships`).
    pub fn children_of(&self, parent: &str) -> &[ChildRel] {
        self.children.get(parent).map_or(&[], Vec::as_slice)
    }

    /// A child relationship of `parent` by its name (`Contacts`), for subqueries.
    pub fn child_relationship(&self, parent: &str, rel: &str) -> Option<&ChildRel> {
        self.children_of(parent)
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(rel))
    }
}

// ---------------------------------------------------------------------------------------
// Object definitions. Delete rules follow real orgs: Account→Contact/Opportunity/Case
// cascade; Contact→Case restricted (a contact with cases cannot be deleted); activities,
// campaign members, contact roles and history cascade with their parent; plain lookups
// are cleared.
// ---------------------------------------------------------------------------------------

use FType as T;

/// Id, IsDeleted, audit fields (and OwnerId when the object is owned).
fn system_fields(owned: bool) -> Vec<FieldDef> {
    let mut v = vec![
        f("Id", T::Id).sys().label("Record ID").fill(Gen::System),
        f("IsDeleted", T::Boolean)
            .sys()
            .label("Deleted")
            .fill(Gen::System),
    ];
    if owned {
        v.push(
            f("OwnerId", T::Reference)
                .req()
                .defaulted()
                .refs(&["User"], "Owner")
                .label("Owner ID")
                .fill(Gen::Owner),
        );
    }
    v.extend([
        f("CreatedDate", T::DateTime).sys().fill(Gen::System),
        f("CreatedById", T::Reference)
            .sys()
            .refs(&["User"], "CreatedBy")
            .fill(Gen::System),
        f("LastModifiedDate", T::DateTime).sys().fill(Gen::System),
        f("LastModifiedById", T::Reference)
            .sys()
            .refs(&["User"], "LastModifiedBy")
            .fill(Gen::System),
        f("SystemModstamp", T::DateTime).sys().fill(Gen::System),
    ]);
    v
}

fn address(prefix: &'static str, compound: &'static str) -> Vec<FieldDef> {
    // Component names are built from the prefix: MailingStreet, BillingCity, …
    let name = |s: &str| -> &'static str { Box::leak(format!("{prefix}{s}").into_boxed_str()) };
    vec![
        f(name("Street"), T::TextArea)
            .len(255)
            .part_of(compound)
            .sc("Confidential", "PII")
            .fill(Gen::Street),
        f(name("City"), T::String)
            .len(40)
            .part_of(compound)
            .fill(Gen::City),
        f(name("State"), T::String)
            .len(80)
            .part_of(compound)
            .fill(Gen::State),
        f(name("PostalCode"), T::String)
            .len(20)
            .part_of(compound)
            .fill(Gen::PostalCode),
        f(name("Country"), T::String)
            .len(80)
            .part_of(compound)
            .fill(Gen::Country),
        f(name("Latitude"), T::Double)
            .part_of(compound)
            .fill(Gen::Latitude),
        f(name("Longitude"), T::Double)
            .part_of(compound)
            .fill(Gen::Longitude),
        f(compound, T::Address).ro().fill(Gen::AddressOf(prefix)),
    ]
}

fn person_name_fields(name_len: u32) -> Vec<FieldDef> {
    vec![
        f("Salutation", T::Picklist)
            .len(40)
            .part_of("Name")
            .picks(&["Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "Mx."])
            .fill(Gen::Salutation),
        f("FirstName", T::String)
            .len(40)
            .part_of("Name")
            .sc("Confidential", "PII")
            .fill(Gen::FirstName),
        f("LastName", T::String)
            .len(80)
            .req()
            .part_of("Name")
            .sc("Confidential", "PII")
            .fill(Gen::LastName),
        f("Name", T::String)
            .len(name_len)
            .ro()
            .req()
            .defaulted()
            .name_field()
            .label("Full Name")
            .fill(Gen::FullName),
    ]
}

fn account(person_accounts: bool) -> ObjectDef {
    let mut fields = system_fields(true);
    fields.extend([
        f("Name", T::String)
            .len(255)
            .req()
            .name_field()
            .label("Account Name")
            .fill(Gen::AccountName),
        f("Type", T::Picklist)
            .picks(&[
                "Prospect",
                "Customer - Direct",
                "Customer - Channel",
                "Partner",
                "Other",
            ])
            .fill(Gen::Pick),
        f("ParentId", T::Reference)
            .refs(&["Account"], "Parent")
            .child("ChildAccounts", OnDelete::SetNull),
        f("Phone", T::Phone).fill(Gen::CompanyPhone),
        f("Fax", T::Phone),
        f("Website", T::Url).fill(Gen::Website),
        f("Industry", T::Picklist)
            .picks(&[
                "Agriculture",
                "Banking",
                "Education",
                "Healthcare",
                "Manufacturing",
                "Retail",
                "Technology",
            ])
            .fill(Gen::Pick),
        f("AnnualRevenue", T::Currency).fill(Gen::Amount),
        f("NumberOfEmployees", T::Int).fill(Gen::Employees),
        f("AccountNumber", T::String)
            .len(40)
            .fill(Gen::AccountNumber),
        f("Description", T::TextArea).fill(Gen::Text(TextMix::BUSINESS)),
    ]);
    fields.extend(address("Billing", "BillingAddress"));
    fields.extend(address("Shipping", "ShippingAddress"));
    if person_accounts {
        fields.extend([
            f("IsPersonAccount", T::Boolean)
                .sys()
                .label("Is Person Account")
                .fill(Gen::IsPersonAccount),
            f("PersonContactId", T::Reference)
                .ro()
                .refs(&["Contact"], "PersonContact")
                .fill(Gen::PersonContact),
            f("Salutation", T::Picklist)
                .len(40)
                .picks(&["Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "Mx."])
                .fill(Gen::PersonOnly(&Gen::Salutation)),
            f("FirstName", T::String)
                .len(40)
                .sc("Confidential", "PII")
                .fill(Gen::PersonOnly(&Gen::FirstName)),
            f("LastName", T::String)
                .len(80)
                .sc("Confidential", "PII")
                .fill(Gen::PersonOnly(&Gen::LastName)),
            f("PersonEmail", T::Email)
                .label("Email")
                .sc("Confidential", "PII;GDPR")
                .fill(Gen::PersonOnly(&Gen::Email)),
            f("PersonMobilePhone", T::Phone)
                .label("Mobile")
                .sc("Confidential", "PII")
                .fill(Gen::PersonOnly(&Gen::MobilePhone)),
            f("PersonHomePhone", T::Phone)
                .label("Home Phone")
                .fill(Gen::PersonOnly(&Gen::Phone)),
            f("PersonBirthdate", T::Date)
                .label("Birthdate")
                .sc("Restricted", "PII;GDPR")
                .fill(Gen::PersonOnly(&Gen::Birthdate)),
            f("PersonMailingStreet", T::TextArea)
                .len(255)
                .part_of("PersonMailingAddress")
                .fill(Gen::PersonOnly(&Gen::Street)),
            f("PersonMailingCity", T::String)
                .len(40)
                .part_of("PersonMailingAddress")
                .fill(Gen::PersonOnly(&Gen::City)),
            f("PersonMailingState", T::String)
                .len(80)
                .part_of("PersonMailingAddress")
                .fill(Gen::PersonOnly(&Gen::State)),
            f("PersonMailingPostalCode", T::String)
                .len(20)
                .part_of("PersonMailingAddress")
                .fill(Gen::PersonOnly(&Gen::PostalCode)),
            f("PersonMailingCountry", T::String)
                .len(80)
                .part_of("PersonMailingAddress")
                .fill(Gen::PersonOnly(&Gen::Country)),
            f("PersonMailingAddress", T::Address)
                .ro()
                .fill(Gen::AddressOf("PersonMailing")),
        ]);
    }
    ObjectDef::new("Account", "Account", "Accounts", "001", 80, fields)
}

/// A person account's fields that live on its person Contact too, as (Contact field, Account
/// field): a write to either side shows on the other (see `rules`), and the seeded person
/// Contact reads them from its Account. Contact fields not listed have no Account counterpart
/// in this schema (a real org has PersonTitle, `__pc` fields, …) and stay empty on person
/// Contacts, so the Account really holds all of the person's data.
pub const PERSON_CONTACT_FIELDS: [(&str, &str); 14] = [
    ("Salutation", "Salutation"),
    ("FirstName", "FirstName"),
    ("LastName", "LastName"),
    ("Email", "PersonEmail"),
    ("Phone", "Phone"),
    ("MobilePhone", "PersonMobilePhone"),
    ("HomePhone", "PersonHomePhone"),
    ("Birthdate", "PersonBirthdate"),
    ("MailingStreet", "PersonMailingStreet"),
    ("MailingCity", "PersonMailingCity"),
    ("MailingState", "PersonMailingState"),
    ("MailingPostalCode", "PersonMailingPostalCode"),
    ("MailingCountry", "PersonMailingCountry"),
    ("OwnerId", "OwnerId"),
];

fn contact(person_accounts: bool) -> ObjectDef {
    let mut fields = system_fields(true);
    fields.extend(person_name_fields(121));
    fields.extend([
        f("AccountId", T::Reference)
            .refs(&["Account"], "Account")
            .label("Account ID")
            .child("Contacts", OnDelete::Cascade)
            .fill(Gen::Ref {
                to: "Account",
                null_pct: 10,
            }),
        f("ReportsToId", T::Reference)
            .refs(&["Contact"], "ReportsTo")
            .child("ReportsTo", OnDelete::SetNull),
        f("IndividualId", T::Reference)
            .refs(&["Individual"], "Individual")
            .child("Contacts", OnDelete::SetNull)
            .fill(Gen::SameIndex("Individual")),
        f("Email", T::Email)
            .sc("Confidential", "PII;GDPR")
            .fill(Gen::Email),
        f("Phone", T::Phone)
            .label("Business Phone")
            .sc("Confidential", "PII")
            .fill(Gen::Phone),
        f("MobilePhone", T::Phone)
            .label("Mobile Phone")
            .sc("Confidential", "PII")
            .fill(Gen::MobilePhone),
        f("HomePhone", T::Phone).fill(Gen::Maybe(30, &Gen::Phone)),
        f("Title", T::String).len(128).fill(Gen::Title),
        f("Department", T::String).len(80).fill(Gen::Department),
        f("Birthdate", T::Date)
            .sc("Restricted", "PII;GDPR")
            .fill(Gen::Maybe(60, &Gen::Birthdate)),
        f("LeadSource", T::Picklist)
            .picks(&[
                "Web",
                "Phone Inquiry",
                "Partner Referral",
                "Purchased List",
                "Other",
            ])
            .fill(Gen::Pick),
        f("HasOptedOutOfEmail", T::Boolean)
            .label("Email Opt Out")
            .fill(Gen::Bool(15)),
        f("DoNotCall", T::Boolean).fill(Gen::Bool(10)),
        f("Description", T::TextArea).fill(Gen::Text(TextMix::NOTES)),
        f("SSN__c", T::String)
            .len(11)
            .label("SSN")
            .hidden()
            .sc("Restricted", "PII")
            .fill(Gen::NationalId),
    ]);
    fields.extend(address("Mailing", "MailingAddress"));
    if person_accounts {
        fields.push(
            f("IsPersonAccount", T::Boolean)
                .sys()
                .label("Is Person Account")
                .fill(Gen::IsPersonAccount),
        );
    }
    ObjectDef::new("Contact", "Contact", "Contacts", "003", 250, fields)
}

fn lead() -> ObjectDef {
    let mut fields = system_fields(true);
    fields.extend(person_name_fields(121));
    fields.extend([
        f("Company", T::String).len(255).req().fill(Gen::Company),
        f("Title", T::String).len(128).fill(Gen::Title),
        f("Email", T::Email)
            .sc("Confidential", "PII;GDPR")
            .fill(Gen::Email),
        f("Phone", T::Phone)
            .sc("Confidential", "PII")
            .fill(Gen::Phone),
        f("MobilePhone", T::Phone)
            .sc("Confidential", "PII")
            .fill(Gen::MobilePhone),
        f("Website", T::Url).fill(Gen::Maybe(40, &Gen::Website)),
        f("Status", T::Picklist)
            .req()
            .defaulted()
            .picks(&[
                "Open - Not Contacted",
                "Working - Contacted",
                "Closed - Converted",
                "Closed - Not Converted",
            ])
            .fill(Gen::LeadStatus),
        f("LeadSource", T::Picklist)
            .picks(&[
                "Web",
                "Phone Inquiry",
                "Partner Referral",
                "Purchased List",
                "Other",
            ])
            .fill(Gen::Pick),
        f("Description", T::TextArea).fill(Gen::Text(TextMix::NOTES)),
        f("IsConverted", T::Boolean)
            .sys()
            .label("Converted")
            .fill(Gen::Converted),
        f("ConvertedDate", T::Date).ro().fill(Gen::ConvertedDate),
        f("ConvertedContactId", T::Reference)
            .ro()
            .refs(&["Contact"], "ConvertedContact")
            .fill(Gen::ConvertedContact),
        f("ConvertedAccountId", T::Reference)
            .ro()
            .refs(&["Account"], "ConvertedAccount")
            .fill(Gen::ConvertedAccount),
        f("IndividualId", T::Reference)
            .refs(&["Individual"], "Individual")
            .child("Leads", OnDelete::SetNull),
    ]);
    fields.extend(address("", "Address"));
    ObjectDef::new("Lead", "Lead", "Leads", "00Q", 150, fields)
}

fn user() -> ObjectDef {
    let mut fields = vec![
        f("Id", T::Id).sys().label("User ID").fill(Gen::System),
        f("CreatedDate", T::DateTime).sys().fill(Gen::System),
        f("LastModifiedDate", T::DateTime).sys().fill(Gen::System),
        f("SystemModstamp", T::DateTime).sys().fill(Gen::System),
    ];
    fields.extend(person_name_fields(121));
    fields.extend([
        f("Username", T::String)
            .len(80)
            .req()
            .uniq()
            .fill(Gen::Username),
        f("Email", T::Email)
            .req()
            .sc("Confidential", "PII;GDPR")
            .fill(Gen::Email),
        f("Alias", T::String).len(8).req().fill(Gen::Alias),
        f("CommunityNickname", T::String)
            .len(40)
            .uniq()
            .fill(Gen::Nickname),
        f("Phone", T::Phone).fill(Gen::Phone),
        f("MobilePhone", T::Phone).fill(Gen::MobilePhone),
        f("Title", T::String).len(80).fill(Gen::Title),
        f("Department", T::String).len(80).fill(Gen::Department),
        f("IsActive", T::Boolean)
            .label("Active")
            .fill(Gen::Bool(95)),
        f("UserType", T::Picklist)
            .ro()
            .picks(&["Standard", "PowerCustomerSuccess", "CsnOnly"])
            .fill(Gen::UserType),
        f("ContactId", T::Reference)
            .create_only()
            .refs(&["Contact"], "Contact")
            .fill(Gen::PortalContact),
        f("TimeZoneSidKey", T::Picklist)
            .req()
            .picks(&[
                "America/Los_Angeles",
                "America/New_York",
                "Europe/London",
                "Europe/Paris",
                "Asia/Kolkata",
            ])
            .fill(Gen::Pick),
        f("LocaleSidKey", T::Picklist)
            .req()
            .picks(&[
                "en_US", "en_GB", "fr_FR", "es_ES", "nl_NL", "pt_BR", "en_IN", "en_CA",
            ])
            .fill(Gen::LocaleKey),
        f("LanguageLocaleKey", T::Picklist)
            .req()
            .picks(&["en_US", "fr", "es", "nl_NL", "pt_BR"])
            .fill(Gen::Const("en_US")),
        f("EmailEncodingKey", T::Picklist)
            .req()
            .picks(&["UTF-8", "ISO-8859-1"])
            .fill(Gen::Const("UTF-8")),
        f("ProfileId", T::Reference).req().label("Profile ID"),
    ]);
    fields.extend(address("", "Address"));
    let mut o = ObjectDef::new("User", "User", "Users", "005", 2, fields);
    o.createable = false;
    o.deletable = false;
    o
}

fn case() -> ObjectDef {
    let mut fields = system_fields(true);
    fields.extend([
        f("CaseNumber", T::String)
            .len(30)
            .sys()
            .name_field()
            .label("Case Number")
            .fill(Gen::AutoNumber("")),
        f("ContactId", T::Reference)
            .refs(&["Contact"], "Contact")
            .label("Contact ID")
            .child("Cases", OnDelete::Restrict)
            .fill(Gen::Ref {
                to: "Contact",
                null_pct: 5,
            }),
        f("AccountId", T::Reference)
            .refs(&["Account"], "Account")
            .label("Account ID")
            .child("Cases", OnDelete::Cascade)
            .fill(Gen::RefVia("ContactId", "AccountId")),
        f("SuppliedName", T::String)
            .len(80)
            .label("Web Name")
            .fill(Gen::Maybe(40, &Gen::FullNameFromRef("ContactId"))),
        f("SuppliedEmail", T::Email)
            .label("Web Email")
            .fill(Gen::Maybe(40, &Gen::EmailFromRef("ContactId"))),
        f("SuppliedPhone", T::Phone)
            .len(40)
            .label("Web Phone")
            .fill(Gen::Maybe(30, &Gen::Phone)),
        f("Subject", T::String).len(255).fill(Gen::CaseSubject),
        f("Status", T::Picklist)
            .req()
            .defaulted()
            .picks(&["New", "Working", "Escalated", "Closed"])
            .fill(Gen::Pick),
        f("Origin", T::Picklist)
            .picks(&["Phone", "Email", "Web"])
            .fill(Gen::Pick),
        f("Priority", T::Picklist)
            .picks(&["High", "Medium", "Low"])
            .fill(Gen::Pick),
        f("Description", T::TextArea).fill(Gen::Text(TextMix::SUPPORT)),
        f("Comments", T::TextArea)
            .len(4000)
            .label("Internal Comments")
            .fill(Gen::Text(TextMix::NOTES)),
    ]);
    ObjectDef::new("Case", "Case", "Cases", "500", 80, fields)
}

fn opportunity() -> ObjectDef {
    let mut fields = system_fields(true);
    fields.extend([
        f("Name", T::String)
            .len(120)
            .req()
            .name_field()
            .fill(Gen::OpportunityName),
        f("AccountId", T::Reference)
            .refs(&["Account"], "Account")
            .child("Opportunities", OnDelete::Cascade)
            .fill(Gen::Ref {
                to: "Account",
                null_pct: 0,
            }),
        f("StageName", T::Picklist)
            .req()
            .label("Stage")
            .picks(&[
                "Prospecting",
                "Qualification",
                "Proposal/Price Quote",
                "Negotiation/Review",
                "Closed Won",
                "Closed Lost",
            ])
            .fill(Gen::Pick),
        f("CloseDate", T::Date).req().fill(Gen::RecentDate),
        f("Amount", T::Currency).fill(Gen::Amount),
        f("Probability", T::Double).fill(Gen::Percent),
        f("Description", T::TextArea).fill(Gen::Text(TextMix::BUSINESS)),
    ]);
    ObjectDef::new(
        "Opportunity",
        "Opportunity",
        "Opportunities",
        "006",
        50,
        fields,
    )
}

fn opportunity_contact_role() -> ObjectDef {
    let mut fields = system_fields(false);
    fields.extend([
        f("OpportunityId", T::Reference)
            .req()
            .create_only()
            .refs(&["Opportunity"], "Opportunity")
            .child("OpportunityContactRoles", OnDelete::Cascade)
            .fill(Gen::Ref {
                to: "Opportunity",
                null_pct: 0,
            }),
        f("ContactId", T::Reference)
            .req()
            .refs(&["Contact"], "Contact")
            .child("OpportunityContactRoles", OnDelete::Cascade)
            .fill(Gen::Ref {
                to: "Contact",
                null_pct: 0,
            }),
        f("Role", T::Picklist)
            .picks(&[
                "Business User",
                "Decision Maker",
                "Economic Buyer",
                "Evaluator",
                "Influencer",
            ])
            .fill(Gen::Pick),
        f("IsPrimary", T::Boolean).fill(Gen::Bool(30)),
    ]);
    ObjectDef::new(
        "OpportunityContactRole",
        "Opportunity Contact Role",
        "Opportunity Contact Role",
        "00K",
        40,
        fields,
    )
    .not_searchable()
}

fn activity(name: &'static str, prefix: &'static str, weight: u32, mix: TextMix) -> ObjectDef {
    let mut fields = system_fields(true);
    let (who_rel, what_rel) = if name == "Task" {
        ("Tasks", "Tasks")
    } else {
        ("Events", "Events")
    };
    fields.extend([
        f("Subject", T::String)
            .len(255)
            .name_field()
            .fill(Gen::ActivitySubject),
        f("WhoId", T::Reference)
            .refs(&["Contact", "Lead"], "Who")
            .label("Name ID")
            .child(who_rel, OnDelete::Cascade)
            .fill(Gen::Who),
        f("WhatId", T::Reference)
            .refs(&["Account", "Opportunity", "Case"], "What")
            .label("Related To ID")
            .child(what_rel, OnDelete::Cascade),
        f("ActivityDate", T::Date)
            .label("Due Date Only")
            .fill(Gen::RecentDate),
        f("Description", T::TextArea).fill(Gen::Text(mix)),
    ]);
    if name == "Task" {
        fields.push(
            f("Status", T::Picklist)
                .req()
                .defaulted()
                .picks(&["Not Started", "In Progress", "Completed"])
                .fill(Gen::Pick),
        );
        fields.push(
            f("Priority", T::Picklist)
                .req()
                .defaulted()
                .picks(&["High", "Normal", "Low"])
                .fill(Gen::Pick),
        );
    } else {
        fields.push(f("StartDateTime", T::DateTime).fill(Gen::RecentDateTime));
        fields.push(f("EndDateTime", T::DateTime).fill(Gen::RecentDateTime));
        fields.push(f("DurationInMinutes", T::Int).fill(Gen::Duration));
        fields.push(
            f("Location", T::String)
                .len(255)
                .fill(Gen::Maybe(40, &Gen::City)),
        );
    }
    ObjectDef::new(
        name,
        name,
        if name == "Task" { "Tasks" } else { "Events" },
        prefix,
        weight,
        fields,
    )
}

fn task() -> ObjectDef {
    activity("Task", "00T", 90, TextMix::CALL_NOTES)
}

fn event() -> ObjectDef {
    activity("Event", "00U", 40, TextMix::NOTES)
}

fn campaign() -> ObjectDef {
    let mut fields = system_fields(true);
    fields.extend([
        f("Name", T::String)
            .len(80)
            .req()
            .name_field()
            .fill(Gen::CampaignName),
        f("Type", T::Picklist)
            .picks(&[
                "Conference",
                "Webinar",
                "Email",
                "Direct Mail",
                "Advertisement",
            ])
            .fill(Gen::Pick),
        f("Status", T::Picklist)
            .picks(&["Planned", "In Progress", "Completed", "Aborted"])
            .fill(Gen::Pick),
        f("StartDate", T::Date).fill(Gen::RecentDate),
        f("IsActive", T::Boolean)
            .label("Active")
            .fill(Gen::Bool(50)),
        f("Description", T::TextArea).fill(Gen::Text(TextMix::BUSINESS)),
    ]);
    // The integration user is not a Marketing User: campaigns are read-only to it.
    ObjectDef::new("Campaign", "Campaign", "Campaigns", "701", 1, fields).read_only()
}

fn campaign_member() -> ObjectDef {
    let mut fields = system_fields(false);
    fields.extend([
        f("CampaignId", T::Reference)
            .req()
            .create_only()
            .refs(&["Campaign"], "Campaign")
            .child("CampaignMembers", OnDelete::Cascade)
            .fill(Gen::Ref {
                to: "Campaign",
                null_pct: 0,
            }),
        f("ContactId", T::Reference)
            .create_only()
            .refs(&["Contact"], "Contact")
            .child("CampaignMembers", OnDelete::Cascade)
            .fill(Gen::MemberContact),
        f("LeadId", T::Reference)
            .create_only()
            .refs(&["Lead"], "Lead")
            .child("CampaignMembers", OnDelete::Cascade)
            .fill(Gen::MemberLead),
        f("Status", T::Picklist)
            .picks(&["Sent", "Responded"])
            .fill(Gen::Pick),
        f("FirstName", T::String)
            .len(40)
            .ro()
            .fill(Gen::FromMember("FirstName")),
        f("LastName", T::String)
            .len(80)
            .ro()
            .fill(Gen::FromMember("LastName")),
        f("Email", T::Email).ro().fill(Gen::FromMember("Email")),
        f("Phone", T::Phone).ro().fill(Gen::FromMember("Phone")),
    ]);
    ObjectDef::new(
        "CampaignMember",
        "Campaign Member",
        "Campaign Members",
        "00v",
        50,
        fields,
    )
    .not_searchable()
}

fn email_message() -> ObjectDef {
    let mut fields = system_fields(false);
    fields.extend([
        f("ParentId", T::Reference)
            .create_only()
            .refs(&["Case"], "Parent")
            .label("Case ID")
            .child("EmailMessages", OnDelete::Cascade)
            .fill(Gen::Ref {
                to: "Case",
                null_pct: 0,
            }),
        f("Subject", T::String)
            .len(3000)
            .name_field()
            .fill(Gen::CaseSubject),
        f("FromName", T::String)
            .len(1000)
            .fill(Gen::FullNameFromRef("ParentId")),
        f("FromAddress", T::Email)
            .len(1000)
            .fill(Gen::EmailFromRef("ParentId")),
        f("ToAddress", T::String)
            .len(4000)
            .fill(Gen::SupportAddress),
        f("TextBody", T::TextArea).fill(Gen::Text(TextMix::EMAIL_BODY)),
        f("Incoming", T::Boolean).fill(Gen::Bool(70)),
        f("MessageDate", T::DateTime).fill(Gen::RecentDateTime),
        f("Status", T::Picklist)
            .req()
            .picks(&["0", "1", "2", "3", "4"])
            .fill(Gen::Pick),
    ]);
    ObjectDef::new(
        "EmailMessage",
        "Email Message",
        "Email Messages",
        "02s",
        40,
        fields,
    )
}

fn individual() -> ObjectDef {
    let mut fields = system_fields(true);
    fields.extend(person_name_fields(121));
    fields.extend([
        f("BirthDate", T::Date)
            .sc("Restricted", "PII;GDPR")
            .fill(Gen::Maybe(60, &Gen::Birthdate)),
        f("HasOptedOutTracking", T::Boolean).fill(Gen::Bool(20)),
        f("HasOptedOutProfiling", T::Boolean).fill(Gen::Bool(20)),
        f("HasOptedOutSolicit", T::Boolean).fill(Gen::Bool(25)),
        f("ShouldForget", T::Boolean)
            .label("Forget this Individual")
            .fill(Gen::Bool(3)),
    ]);
    ObjectDef::new("Individual", "Individual", "Individuals", "0PK", 30, fields)
}

fn contact_point(name: &'static str, prefix: &'static str, email: bool) -> ObjectDef {
    let mut fields = system_fields(true);
    fields.push(
        f("ParentId", T::Reference)
            .req()
            .refs(&["Individual", "Account"], "Parent")
            .child(
                if email {
                    "ContactPointEmails"
                } else {
                    "ContactPointPhones"
                },
                OnDelete::Cascade,
            )
            .fill(Gen::Ref {
                to: "Individual",
                null_pct: 0,
            }),
    );
    if email {
        fields.extend([
            f("EmailAddress", T::Email)
                .req()
                .sc("Confidential", "PII;GDPR")
                .fill(Gen::EmailFromRef("ParentId")),
            f("Name", T::String)
                .len(80)
                .ro()
                .name_field()
                .fill(Gen::Same("EmailAddress")),
        ]);
    } else {
        fields.extend([
            f("TelephoneNumber", T::Phone)
                .req()
                .sc("Confidential", "PII")
                .fill(Gen::Phone),
            f("PhoneType", T::Picklist)
                .picks(&["Home", "Mobile", "Work"])
                .fill(Gen::Pick),
            f("Name", T::String)
                .len(80)
                .ro()
                .name_field()
                .fill(Gen::Same("TelephoneNumber")),
        ]);
    }
    fields.push(f("IsPrimary", T::Boolean).fill(Gen::Bool(50)));
    let (label, plural) = if email {
        ("Contact Point Email", "Contact Point Emails")
    } else {
        ("Contact Point Phone", "Contact Point Phones")
    };
    ObjectDef::new(
        name,
        label,
        plural,
        prefix,
        if email { 25 } else { 20 },
        fields,
    )
}

fn contact_point_email() -> ObjectDef {
    contact_point("ContactPointEmail", "9CE", true)
}

fn contact_point_phone() -> ObjectDef {
    contact_point("ContactPointPhone", "0Ow", false)
}

fn history(name: &'static str, parent: &'static str, prefix: &'static str) -> ObjectDef {
    let parent_field: &'static str = if parent == "Contact" {
        "ContactId"
    } else {
        "LeadId"
    };
    let fields = vec![
        f("Id", T::Id).sys().fill(Gen::System),
        f("IsDeleted", T::Boolean).sys().fill(Gen::System),
        f(parent_field, T::Reference)
            .sys()
            .refs(&[parent], parent)
            .child("Histories", OnDelete::Cascade)
            .fill(Gen::Ref {
                to: parent,
                null_pct: 0,
            }),
        f("CreatedById", T::Reference)
            .sys()
            .refs(&["User"], "CreatedBy")
            .fill(Gen::System),
        f("CreatedDate", T::DateTime).sys().fill(Gen::System),
        f("Field", T::Picklist)
            .sys()
            .picks(if parent == "Lead" {
                &["Email", "Phone", "LastName", "City"]
            } else {
                &["Email", "Phone", "LastName", "MailingCity"]
            })
            .fill(Gen::HistoryField),
        f("DataType", T::Picklist).ro().fill(Gen::Const("Text")),
        f("OldValue", T::AnyType)
            .ro()
            .fill(Gen::HistoryValue(false)),
        f("NewValue", T::AnyType).ro().fill(Gen::HistoryValue(true)),
    ];
    let weight = if parent == "Contact" { 15 } else { 10 };
    let label: &'static str = if parent == "Contact" {
        "Contact History"
    } else {
        "Lead History"
    };
    ObjectDef::new(name, label, label, prefix, weight, fields)
        .read_only()
        .not_searchable()
}

fn custom_system_fields() -> Vec<FieldDef> {
    system_fields(true)
}

fn identity_document() -> ObjectDef {
    let mut fields = custom_system_fields();
    fields.extend([
        f("Name", T::String)
            .len(80)
            .sys()
            .name_field()
            .label("Document Number")
            .fill(Gen::AutoNumber("ID-")),
        f("Contact__c", T::Reference)
            .req()
            .refs(&["Contact"], "Contact__r")
            .label("Contact")
            .child("Identity_Documents__r", OnDelete::Cascade)
            .fill(Gen::Ref {
                to: "Contact",
                null_pct: 0,
            }),
        f("National_Id__c", T::String)
            .len(30)
            .label("National ID")
            .sc("Restricted", "PII")
            .fill(Gen::NationalId),
        f("Tax_Id__c", T::String)
            .len(11)
            .label("US Tax ID")
            .fill(Gen::TaxId),
        f("Passport_Number__c", T::String)
            .len(20)
            .fill(Gen::Maybe(50, &Gen::Passport)),
        f("Drivers_License__c", T::String)
            .len(20)
            .label("Driver's License")
            .fill(Gen::Maybe(50, &Gen::DriversLicense)),
        f("Date_of_Birth__c", T::Date).fill(Gen::Birthdate),
        f("Gender__c", T::Picklist)
            .picks(&["Female", "Male", "Non-binary", "Prefer not to say"])
            .fill(Gen::Gender),
        f("Verified__c", T::Boolean).fill(Gen::Bool(70)),
        f("Internal_Risk_Score__c", T::Double)
            .hidden()
            .fill(Gen::Percent),
    ]);
    ObjectDef::new(
        "Identity_Document__c",
        "Identity Document",
        "Identity Documents",
        "a01",
        20,
        fields,
    )
}

fn payment_method() -> ObjectDef {
    let mut fields = custom_system_fields();
    fields.extend([
        f("Name", T::String)
            .len(80)
            .req()
            .name_field()
            .label("Payment Method Name")
            .fill(Gen::PaymentName),
        f("Contact__c", T::Reference)
            .refs(&["Contact"], "Contact__r")
            .label("Contact")
            .child("Payment_Methods__r", OnDelete::Restrict)
            .fill(Gen::Ref {
                to: "Contact",
                null_pct: 10,
            }),
        f("Cardholder_Name__c", T::String)
            .len(100)
            .fill(Gen::FullNameFromRef("Contact__c")),
        f("Card_Number__c", T::String)
            .len(19)
            .sc("Restricted", "PCI")
            .fill(Gen::Maybe(70, &Gen::CardNumber)),
        f("IBAN__c", T::String)
            .len(34)
            .label("IBAN")
            .fill(Gen::Maybe(50, &Gen::Iban)),
        f("Routing_Number__c", T::String)
            .len(9)
            .fill(Gen::Maybe(30, &Gen::Routing)),
        f("Billing_Email__c", T::Email).fill(Gen::EmailFromRef("Contact__c")),
        f("Last_Login_IP__c", T::String)
            .len(45)
            .label("Last Login IP")
            .fill(Gen::IpAddress),
        f("Device_MAC__c", T::String)
            .len(17)
            .label("Device MAC")
            .fill(Gen::Maybe(40, &Gen::MacAddress)),
        f("Integration_Token__c", T::String)
            .len(80)
            .fill(Gen::Maybe(20, &Gen::Credential)),
        f("Profile_Url__c", T::Url).fill(Gen::Maybe(30, &Gen::ProfileUrl)),
        f("Expiry__c", T::Date).fill(Gen::FutureDate),
    ]);
    ObjectDef::new(
        "Payment_Method__c",
        "Payment Method",
        "Payment Methods",
        "a02",
        20,
        fields,
    )
}

fn project() -> ObjectDef {
    let mut fields = custom_system_fields();
    fields.extend([
        f("Name", T::String)
            .len(80)
            .req()
            .name_field()
            .label("Project Name")
            .fill(Gen::ProjectName),
        f("Account__c", T::Reference)
            .refs(&["Account"], "Account__r")
            .label("Account")
            .child("Projects__r", OnDelete::SetNull)
            .fill(Gen::Ref {
                to: "Account",
                null_pct: 20,
            }),
        f("Status__c", T::Picklist)
            .picks(&["Planned", "Active", "On Hold", "Done"])
            .fill(Gen::Pick),
        f("Budget__c", T::Currency).fill(Gen::Amount),
        f("Start_Date__c", T::Date).fill(Gen::RecentDate),
        f("Notes__c", T::TextArea)
            .len(32768)
            .fill(Gen::Text(TextMix::BUSINESS)),
    ]);
    ObjectDef::new("Project__c", "Project", "Projects", "a03", 10, fields)
}

fn inventory_item() -> ObjectDef {
    let mut fields = custom_system_fields();
    fields.extend([
        f("Name", T::String)
            .len(80)
            .req()
            .name_field()
            .label("Item Name")
            .fill(Gen::ItemName),
        f("Sku__c", T::String)
            .len(20)
            .uniq()
            .ext_id()
            .label("SKU")
            .fill(Gen::Sku),
        f("Quantity__c", T::Double).fill(Gen::Employees),
        f("Unit_Price__c", T::Currency).fill(Gen::Amount),
        f("Warehouse__c", T::Picklist)
            .picks(&["North", "South", "East", "West"])
            .fill(Gen::Pick),
    ]);
    ObjectDef::new(
        "Inventory_Item__c",
        "Inventory Item",
        "Inventory Items",
        "a04",
        10,
        fields,
    )
}
