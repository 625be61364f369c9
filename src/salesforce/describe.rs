//! Salesforce describe metadata, as typed values (only the parts the worker reads).
//! Field and relationship names follow Salesforce's JSON so these deserialize its responses.

use serde::{Deserialize, Serialize};

/// One entry of the global describe (`GET /sobjects`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SObjectSummary {
    pub name: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub queryable: bool,
    #[serde(default)]
    pub searchable: bool,
    #[serde(default)]
    pub deletable: bool,
    #[serde(default)]
    pub updateable: bool,
    #[serde(default)]
    pub createable: bool,
}

/// `GET /sobjects/{name}/describe`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SObjectDescribe {
    pub name: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub queryable: bool,
    #[serde(default)]
    pub searchable: bool,
    #[serde(default)]
    pub deletable: bool,
    #[serde(default)]
    pub updateable: bool,
    #[serde(default)]
    pub createable: bool,
    #[serde(default)]
    pub fields: Vec<FieldDescribe>,
    #[serde(default)]
    pub child_relationships: Vec<ChildRelationship>,
}

impl SObjectDescribe {
    pub fn field(&self, name: &str) -> Option<&FieldDescribe> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// Fields typed `email`.
    pub fn email_fields(&self) -> impl Iterator<Item = &FieldDescribe> {
        self.fields.iter().filter(|f| f.kind == "email")
    }

    /// Fields a query can select directly: every field except compound ones (address,
    /// location), which are read through their components.
    pub fn selectable_fields(&self) -> impl Iterator<Item = &FieldDescribe> {
        self.fields.iter().filter(|f| !f.is_compound())
    }
}

/// One field of a describe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDescribe {
    pub name: String,
    #[serde(default)]
    pub label: String,
    /// Salesforce's lowercase type: `id`, `string`, `email`, `phone`, `url`, `textarea`,
    /// `picklist`, `reference`, `address`, `location`, `date`, `datetime`, `boolean`, …
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub length: u32,
    #[serde(default)]
    pub nillable: bool,
    #[serde(default)]
    pub createable: bool,
    #[serde(default)]
    pub updateable: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub calculated: bool,
    #[serde(default)]
    pub defaulted_on_create: bool,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub compound_field_name: Option<String>,
    #[serde(default)]
    pub reference_to: Vec<String>,
    #[serde(default)]
    pub relationship_name: Option<String>,
    #[serde(default)]
    pub cascade_delete: bool,
    #[serde(default)]
    pub restricted_delete: bool,
    #[serde(default)]
    pub name_field: bool,
    #[serde(default)]
    pub security_classification: Option<String>,
    #[serde(default)]
    pub compliance_group: Option<String>,
    #[serde(default)]
    pub picklist_values: Vec<serde_json::Value>,
}

impl FieldDescribe {
    /// Address and location fields are compounds: read and written through components.
    pub fn is_compound(&self) -> bool {
        matches!(self.kind.as_str(), "address" | "location")
    }

    /// Required on write: not nillable, not defaulted, and writable at all.
    pub fn is_required(&self) -> bool {
        !self.nillable
            && !self.defaulted_on_create
            && self.kind != "boolean"
            && (self.createable || self.updateable)
    }
}

/// A child relationship of a parent object (from the parent's describe).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildRelationship {
    #[serde(rename = "childSObject")]
    pub child_sobject: String,
    pub field: String,
    #[serde(default)]
    pub relationship_name: Option<String>,
    #[serde(default)]
    pub cascade_delete: bool,
    #[serde(default)]
    pub restricted_delete: bool,
}
