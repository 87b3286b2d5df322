//! Login, logout, devices and linklinks on the wire.

use super::common::dts;
use bankgate_store::DeviceRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `PUT /token` body. Only the `internet` channel (user name and password) is accepted.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginBody {
    #[schema(example = "internet")]
    pub channel: String,
    #[schema(example = "demo")]
    pub user_name: Option<String>,
    #[schema(example = "demo-password")]
    pub password: Option<String>,
    /// The client's own name for this device; logins with the same tag are the same device.
    #[serde(alias = "deviceTagOpen")]
    pub device_tag: Option<String>,
    pub device_data: Option<DeviceData>,
    pub specifics: Option<DeviceData>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DeviceData {
    pub platform: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub success: bool,
    /// Send this in the `token` header of every later call.
    pub token: String,
    #[serde(rename = "AFiUserId")]
    pub afi_user_id: String,
    #[serde(rename = "userId")]
    pub user_id: String,
    #[serde(rename = "dtsExpiry")]
    pub dts_expiry: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogoutResponse {
    pub success: bool,
    #[schema(example = "Logged out successfully")]
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeviceWire {
    #[serde(rename = "AFiDeviceId")]
    pub afi_device_id: String,
    pub channel: String,
    pub platform: Option<String>,
    pub dts_created: String,
    pub dts_last_seen: String,
    pub is_active: bool,
}

impl From<DeviceRecord> for DeviceWire {
    fn from(d: DeviceRecord) -> Self {
        DeviceWire {
            afi_device_id: d.id.into_string(),
            channel: d.channel,
            platform: d.platform,
            dts_created: dts(d.created_at),
            dts_last_seen: dts(d.last_seen_at),
            is_active: d.is_active,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DevicesResponse {
    pub success: bool,
    pub devices: Vec<DeviceWire>,
}

/// A device authorised to log in with the user's credentials.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkLinkWire {
    #[serde(rename = "AFiLinkLinkId")]
    pub afi_link_link_id: String,
    #[serde(rename = "AFiUserId")]
    pub afi_user_id: String,
    pub channel: String,
    pub platform: Option<String>,
    pub is_active: bool,
    pub dts_created: String,
    /// When the device's newest live session ends; null when it has none.
    pub dts_expiry: Option<String>,
}

impl From<DeviceRecord> for LinkLinkWire {
    fn from(d: DeviceRecord) -> Self {
        LinkLinkWire {
            afi_link_link_id: d.id.into_string(),
            afi_user_id: d.user_id.into_string(),
            channel: d.channel,
            platform: d.platform,
            is_active: d.is_active,
            dts_created: dts(d.created_at),
            dts_expiry: d.session_expires_at.map(dts),
        }
    }
}

/// One item of the `POST /authenticateddevices` array.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LinkLinkChange {
    #[serde(rename = "AFiLinkLinkId")]
    pub afi_link_link_id: String,
    #[serde(
        rename = "isActive",
        default,
        deserialize_with = "super::common::lenient_bool"
    )]
    pub is_active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkLinksResponse {
    pub success: bool,
    pub linklinks: Vec<LinkLinkWire>,
}
