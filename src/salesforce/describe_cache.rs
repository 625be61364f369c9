//! Describe metadata cached per org, in process, with a TTL.
//!
//! Part of the Salesforce adapter. Describes change rarely and are large, so entries are
//! `Arc`s handed out without copying. Concurrent misses may fetch twice; the last one wins
//! (both results are equivalent).

use super::describe::{SObjectDescribe, SObjectSummary};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Entry<T> {
    value: Arc<T>,
    fetched: Instant,
}

pub struct DescribeCache {
    ttl: Duration,
    global: Mutex<Option<Entry<Vec<SObjectSummary>>>>,
    objects: Mutex<HashMap<String, Entry<SObjectDescribe>>>,
}

impl DescribeCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            global: Mutex::new(None),
            objects: Mutex::new(HashMap::new()),
        }
    }

    fn fresh<T>(&self, e: &Entry<T>) -> Option<Arc<T>> {
        (e.fetched.elapsed() < self.ttl).then(|| e.value.clone())
    }

    pub fn global(&self) -> Option<Arc<Vec<SObjectSummary>>> {
        let g = self.global.lock().unwrap_or_else(|p| p.into_inner());
        g.as_ref().and_then(|e| self.fresh(e))
    }

    pub fn put_global(&self, v: Vec<SObjectSummary>) -> Arc<Vec<SObjectSummary>> {
        let value = Arc::new(v);
        *self.global.lock().unwrap_or_else(|p| p.into_inner()) = Some(Entry {
            value: value.clone(),
            fetched: Instant::now(),
        });
        value
    }

    /// Object names are case-insensitive in Salesforce.
    pub fn object(&self, name: &str) -> Option<Arc<SObjectDescribe>> {
        let m = self.objects.lock().unwrap_or_else(|p| p.into_inner());
        m.get(&name.to_ascii_lowercase())
            .and_then(|e| self.fresh(e))
    }

    pub fn put_object(&self, name: &str, v: SObjectDescribe) -> Arc<SObjectDescribe> {
        let value = Arc::new(v);
        self.objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                name.to_ascii_lowercase(),
                Entry {
                    value: value.clone(),
                    fetched: Instant::now(),
                },
            );
        value
    }

    /// Drops everything (e.g. after a metadata change).
    pub fn clear(&self) {
        *self.global.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(name: &str) -> SObjectDescribe {
        serde_json::from_value(serde_json::json!({"name": name})).unwrap()
    }

    #[test]
    fn hits_case_insensitively_and_expires() {
        let c = DescribeCache::new(Duration::from_millis(30));
        assert!(c.object("Contact").is_none());
        let a = c.put_object("Contact", describe("Contact"));
        let b = c.object("contact").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        c.put_global(vec![]);
        assert!(c.global().is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert!(c.object("Contact").is_none());
        assert!(c.global().is_none());
    }
}
