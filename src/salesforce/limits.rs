//! API usage from the `Sforce-Limit-Info` response header (`api-usage=18/15000`), kept per
//! org in memory.
//!
//! Part of the Salesforce adapter. Every response goes through [`LimitTracker::observe`];
//! readers get the latest value or subscribe to changes (a `watch` channel), which is how a
//! shared, cross-replica budget can be fed later without touching the transport.

use reqwest::header::HeaderMap;
use tokio::sync::watch;

/// Daily API requests used and allowed, as last reported by Salesforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiUsage {
    pub used: u64,
    pub max: u64,
}

impl ApiUsage {
    /// Fraction of the allocation spent (0.0 when the maximum is unknown/zero).
    pub fn ratio(&self) -> f64 {
        if self.max == 0 {
            0.0
        } else {
            self.used as f64 / self.max as f64
        }
    }
}

/// One entry of `GET /limits` (`{"Max": 15000, "Remaining": 14998}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct OrgLimit {
    #[serde(rename = "Max")]
    pub max: u64,
    #[serde(rename = "Remaining")]
    pub remaining: u64,
}

/// Parses the `api-usage=N/M` entry of a `Sforce-Limit-Info` value; other entries
/// (`per-app-api-usage=…`) are ignored.
pub fn parse_limit_info(value: &str) -> Option<ApiUsage> {
    value.split(',').find_map(|entry| {
        let (name, usage) = entry.trim().split_once('=')?;
        if name.trim() != "api-usage" {
            return None;
        }
        let (used, max) = usage.trim().split_once('/')?;
        Some(ApiUsage {
            used: used.trim().parse().ok()?,
            max: max.trim().parse().ok()?,
        })
    })
}

/// Latest usage of one org.
pub struct LimitTracker {
    tx: watch::Sender<Option<ApiUsage>>,
}

impl Default for LimitTracker {
    fn default() -> Self {
        Self {
            tx: watch::channel(None).0,
        }
    }
}

impl LimitTracker {
    /// Records the header of a response, if present and well formed.
    pub fn observe(&self, headers: &HeaderMap) {
        let usage = headers
            .get_all("sforce-limit-info")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(parse_limit_info);
        if let Some(usage) = usage {
            self.tx.send_replace(Some(usage));
        }
    }

    pub fn latest(&self) -> Option<ApiUsage> {
        *self.tx.borrow()
    }

    pub fn subscribe(&self) -> watch::Receiver<Option<ApiUsage>> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_api_usage() {
        assert_eq!(
            parse_limit_info("api-usage=18/15000"),
            Some(ApiUsage {
                used: 18,
                max: 15000
            })
        );
        assert_eq!(
            parse_limit_info("per-app-api-usage=17/250(appName=sample), api-usage=25/5000"),
            Some(ApiUsage {
                used: 25,
                max: 5000
            })
        );
        assert_eq!(parse_limit_info("api-usage=x/5000"), None);
        assert_eq!(parse_limit_info("per-app-api-usage=1/2(appName=a)"), None);
        assert_eq!(parse_limit_info(""), None);
    }

    #[test]
    fn tracker_keeps_latest() {
        let t = LimitTracker::default();
        let mut rx = t.subscribe();
        assert_eq!(t.latest(), None);
        let mut h = HeaderMap::new();
        h.insert("Sforce-Limit-Info", "api-usage=5/100".parse().unwrap());
        t.observe(&h);
        h.insert("Sforce-Limit-Info", "api-usage=6/100".parse().unwrap());
        t.observe(&h);
        t.observe(&HeaderMap::new());
        assert_eq!(t.latest(), Some(ApiUsage { used: 6, max: 100 }));
        assert!(rx.has_changed().unwrap());
        assert_eq!(
            *rx.borrow_and_update(),
            Some(ApiUsage { used: 6, max: 100 })
        );
    }
}
