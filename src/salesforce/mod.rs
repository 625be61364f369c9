//! The Salesforce adapter: OAuth grants, the REST client (retry/backoff, limits), describe
//! cache, SOQL/SOSL builders with escaping, sObject Collections, Bulk API 2.0.
//!
//! Everything HTTP lives here; `dsr` and `classify` call typed methods and never build URLs.

pub mod client;
pub mod describe;
pub mod error;

pub use client::{QueryPager, Record, SalesforceClient, SaveResult};
pub use describe::{ChildRelationship, FieldDescribe, SObjectDescribe, SObjectSummary};
pub use error::{ErrorKind, SfError};
