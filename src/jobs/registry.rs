//! One Salesforce client per connection, created on first use and shared by every job of that
//! connection (so token, describe and limit caches are shared); each job gets `for_job()`.

use crate::config::Connection;
use crate::salesforce::{SalesforceClient, SfError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Builds the client of a connection (main wires the real constructor; tests may wrap it).
pub type ClientFactory =
    Arc<dyn Fn(Arc<Connection>) -> Result<SalesforceClient, SfError> + Send + Sync>;

pub struct ClientRegistry {
    factory: ClientFactory,
    clients: Mutex<HashMap<String, SalesforceClient>>,
}

impl ClientRegistry {
    pub fn new(factory: ClientFactory) -> Self {
        Self {
            factory,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The shared client of `connection` (created once).
    pub fn get(&self, connection: &Arc<Connection>) -> Result<SalesforceClient, SfError> {
        // A poisoned lock only means another job panicked mid-insert; the map is still valid.
        let mut map = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = map.get(&connection.id) {
            return Ok(c.clone());
        }
        let client = (self.factory)(connection.clone())?;
        map.insert(connection.id.clone(), client.clone());
        Ok(client)
    }
}
