//! The devices a user has logged in from, and which of them may still log in ("linklinks").

use super::{Entity, Result, ServiceError, Services};
use bankgate_domain::ids::{DeviceId, UserId};
use bankgate_store::DeviceRecord;

/// One requested change: allow or bar a device.
#[derive(Debug, Clone)]
pub struct DeviceActivation {
    pub device_id: DeviceId,
    pub is_active: Option<bool>,
}

impl Services {
    pub async fn list_devices(&self, user: &UserId) -> Result<Vec<DeviceRecord>> {
        Ok(self.store.list_devices(user).await?)
    }

    /// Applies each activation change, then lists the devices. A device that is not the user's is a 404
    /// and nothing is changed: every id is checked before any change is made.
    pub async fn sync_devices(
        &self,
        user: &UserId,
        changes: &[DeviceActivation],
    ) -> Result<Vec<DeviceRecord>> {
        let devices = self.store.list_devices(user).await?;
        if changes
            .iter()
            .any(|c| !devices.iter().any(|d| d.id == c.device_id))
        {
            return Err(ServiceError::NotFound(Entity::Device));
        }
        let now = self.clock.now();
        for change in changes {
            if let Some(active) = change.is_active {
                self.store
                    .set_device_active(user, &change.device_id, active, now)
                    .await?;
                if !active {
                    self.memos.forget_device_sessions(&change.device_id);
                }
            }
        }
        self.list_devices(user).await
    }
}
