//! Publishing with publisher confirms and `mandatory`: a publish succeeds only when the broker
//! confirmed it *and* routed it (a returned message is a failure, e.g. a missing reply queue).

use super::{BrokerError, short};
use lapin::Confirmation;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Channel, Connection};

/// A confirm-mode channel. Cheap to clone; concurrent publishes each await their own confirm.
#[derive(Clone)]
pub struct Publisher {
    channel: Channel,
}

impl Publisher {
    pub async fn open(conn: &Connection) -> Result<Self, BrokerError> {
        let channel = conn.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(Self { channel })
    }

    /// The underlying channel (to close it explicitly before the connection).
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Publishes and waits for the broker's confirm.
    pub async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        props: BasicProperties,
    ) -> Result<(), BrokerError> {
        let target = if exchange.is_empty() {
            routing_key.to_string()
        } else {
            format!("{exchange}/{routing_key}")
        };
        let confirm = self
            .channel
            .basic_publish(
                short(exchange)?,
                short(routing_key)?,
                BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                },
                body,
                props,
            )
            .await?
            .await?;
        match confirm {
            Confirmation::Ack(None) => Ok(()),
            Confirmation::Ack(Some(ret)) | Confirmation::Nack(Some(ret)) => {
                metrics::counter!(crate::ops::metrics::PUBLISH_RETURNS).increment(1);
                Err(BrokerError::Returned {
                    target,
                    code: ret.reply_code,
                    text: ret.reply_text.to_string(),
                })
            }
            Confirmation::Nack(None) => {
                metrics::counter!(crate::ops::metrics::PUBLISH_NACKS).increment(1);
                Err(BrokerError::Nacked(target))
            }
            Confirmation::NotRequested => Err(BrokerError::NotConfirmed),
        }
    }

    /// Publishes to a queue through the default exchange.
    pub async fn to_queue(
        &self,
        queue: &str,
        body: &[u8],
        props: BasicProperties,
    ) -> Result<(), BrokerError> {
        self.publish("", queue, body, props).await
    }
}
