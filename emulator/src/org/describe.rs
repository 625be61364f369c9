//! Describe metadata as Salesforce's JSON: global describe entries and sObject describes.
//! Fields hidden by field-level security are left out, as for a real integration user; fields
//! it may read but not edit show `createable`/`updateable` false.

use serde_json::{Value, json};

use super::schema::{FType, FieldDef, ObjectDef, OnDelete, Schema};

fn urls(o: &ObjectDef, version: &str) -> Value {
    let base = format!("/services/data/{version}/sobjects/{}", o.name);
    json!({
        "sobject": base,
        "describe": format!("{base}/describe"),
        "rowTemplate": format!("{base}/{{ID}}"),
    })
}

/// One entry of `GET /sobjects`.
/// `deletable`: for the integration user (see `Org::deletable`).
pub fn summary(o: &ObjectDef, version: &str, deletable: bool) -> Value {
    json!({
        "activateable": false,
        "createable": o.createable,
        "custom": o.custom,
        "customSetting": false,
        "deletable": deletable,
        "deprecatedAndHidden": false,
        "feedEnabled": false,
        "hasSubtypes": false,
        "isSubtype": false,
        "keyPrefix": o.key_prefix,
        "label": o.label,
        "labelPlural": o.label_plural,
        "layoutable": true,
        "mergeable": matches!(o.name, "Account" | "Contact" | "Lead"),
        "mruEnabled": true,
        "name": o.name,
        "queryable": true,
        "replicateable": true,
        "retrieveable": true,
        "searchable": o.searchable,
        "triggerable": true,
        // Restorable from the recycle bin: deleted field history never goes there.
        "undeletable": o.deletable,
        "updateable": o.updateable,
        "urls": urls(o, version),
    })
}

fn field(fd: &FieldDef, fls_read_only: bool, length: u32) -> Value {
    let picklist: Vec<Value> = fd
        .picklist
        .iter()
        .map(|v| json!({"active": true, "defaultValue": false, "label": v, "validFor": null, "value": v}))
        .collect();
    let (precision, scale, digits) = match fd.kind {
        FType::Currency => (18, 2, 0),
        FType::Double => (18, 2, 0),
        FType::Int => (0, 0, 9),
        _ => (0, 0, 0),
    };
    let (cascade, restricted) = match fd.child.map(|c| c.1) {
        Some(OnDelete::Cascade) => (true, false),
        Some(OnDelete::Restrict) => (false, true),
        _ => (false, false),
    };
    json!({
        "aggregatable": !matches!(fd.kind, FType::TextArea | FType::Address | FType::Location),
        "autoNumber": matches!(fd.fill, super::seeded::Gen::AutoNumber(_)),
        "byteLength": length * 3,
        "calculated": fd.calculated,
        "calculatedFormula": null,
        "cascadeDelete": cascade,
        "caseSensitive": false,
        "compoundFieldName": fd.compound,
        "controllerName": null,
        "createable": fd.createable && !fls_read_only,
        "custom": fd.custom,
        "defaultValue": null,
        "defaultedOnCreate": fd.defaulted_on_create,
        "dependentPicklist": false,
        "deprecatedAndHidden": false,
        "digits": digits,
        "encrypted": false,
        "externalId": fd.external_id,
        "extraTypeInfo": match fd.kind { FType::TextArea => Some("plaintextarea"), FType::Phone => None, _ => None },
        "filterable": !matches!(fd.kind, FType::TextArea | FType::Address | FType::Location),
        "groupable": !matches!(fd.kind, FType::TextArea | FType::Double | FType::Currency | FType::Address | FType::Location | FType::DateTime),
        "htmlFormatted": false,
        "idLookup": fd.id_lookup || fd.kind == FType::Id,
        "inlineHelpText": null,
        "label": fd.label,
        "length": length,
        "name": fd.name,
        "nameField": fd.name_field,
        "namePointing": fd.reference_to.len() > 1,
        "nillable": fd.nillable,
        "permissionable": fd.nillable || fd.custom,
        "picklistValues": picklist,
        "polymorphicForeignKey": fd.reference_to.len() > 1,
        "precision": precision,
        "referenceTargetField": null,
        "referenceTo": fd.reference_to,
        "relationshipName": fd.relationship_name,
        "relationshipOrder": null,
        "restrictedDelete": restricted,
        "restrictedPicklist": false,
        "scale": scale,
        "searchPrefilterable": fd.kind == FType::Reference,
        "soapType": fd.kind.soap_type(),
        "sortable": !matches!(fd.kind, FType::TextArea | FType::Address | FType::Location),
        "type": fd.kind.as_str(),
        "unique": fd.unique,
        "updateable": fd.updateable && !fls_read_only,
        "writeRequiresMasterRead": false,
        "securityClassification": fd.security_classification,
        "complianceGroup": fd.compliance_group,
    })
}

/// `GET /sobjects/{name}/describe`; `fls_read_only(field index)` says whether field-level
/// security makes a field read-only for the integration user, `length(field index)` the
/// field's length as configured.
pub fn describe(
    schema: &Schema,
    o: &ObjectDef,
    version: &str,
    fls_read_only: impl Fn(usize) -> bool,
    length: impl Fn(usize) -> u32,
    deletable: bool,
) -> Value {
    let mut v = summary(o, version, deletable);
    let fields: Vec<Value> = o
        .visible_fields()
        .map(|(fi, f)| field(f, fls_read_only(fi), length(fi)))
        .collect();
    let children: Vec<Value> = schema
        .children_of(o.name)
        .iter()
        .filter(|c| {
            schema
                .object(c.child)
                .and_then(|co| co.field(c.field))
                .is_some()
        })
        .map(|c| {
            json!({
                "cascadeDelete": c.on_delete == OnDelete::Cascade,
                "childSObject": c.child,
                "deprecatedAndHidden": false,
                "field": c.field,
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": c.name,
                "restrictedDelete": c.on_delete == OnDelete::Restrict,
            })
        })
        .collect();
    if let Value::Object(m) = &mut v {
        m.insert("fields".into(), Value::Array(fields));
        m.insert("childRelationships".into(), Value::Array(children));
        m.insert("recordTypeInfos".into(), json!([]));
        m.insert("supportedScopes".into(), json!([{"label": "All records", "name": "everything"}, {"label": "My records", "name": "mine"}]));
        m.insert("namedLayoutInfos".into(), json!([]));
        m.insert("networkScopeFieldName".into(), Value::Null);
        m.insert("listviewable".into(), Value::Null);
        m.insert("lookupLayoutable".into(), Value::Null);
        m.insert("searchLayoutable".into(), json!(true));
        m.insert("compactLayoutable".into(), json!(true));
        m.insert("actionOverrides".into(), json!([]));
        m.insert("defaultImplementation".into(), Value::Null);
        m.insert("implementedBy".into(), Value::Null);
        m.insert("implementsInterfaces".into(), Value::Null);
        m.insert("sobjectDescribeOption".into(), json!("FULL"));
    }
    v
}
