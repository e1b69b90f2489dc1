//! The client options of the product's capture call (PRODUCT.md 1.4), as a
//! front end built on realface takes them: ring colours, title, and the
//! texts of the quit / timeout / fail dialogs. JSON field names are the
//! product's own (`progressBarColor`, `quitAlertTitle`, ...), so an app can
//! pass its existing option object through unchanged.

use serde::{Deserialize, Serialize};

use super::result::{AuthResult, AuthState, ReasonCode};
use crate::error::{Error, Result};

/// An sRGB colour written `#RRGGBB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color(pub [u8; 3]);

impl Color {
    /// Parses `#RRGGBB` (case-insensitive); anything else is INVALID_ARGUMENT.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || Error::invalid("color", format!("`{s}` is not #RRGGBB"));
        let hex = s.strip_prefix('#').ok_or_else(bad)?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
        Ok(Self([byte(0)?, byte(2)?, byte(4)?]))
    }

    /// `#RRGGBB`.
    pub fn to_hex(self) -> String {
        let [r, g, b] = self.0;
        format!("#{r:02X}{g:02X}{b:02X}")
    }
}

impl Serialize for Color {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Color {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Color::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A dialog's title and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// Title.
    pub title: String,
    /// Message.
    pub message: String,
}

/// The product's client UI options. Every field has a default; unknown
/// fields are refused so a misspelt option does not go unnoticed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct UiOptions {
    /// Colour of the face ring's progress arc.
    pub progress_bar_color: Color,
    /// Colour of the ring behind the arc.
    pub progress_bar_background_color: Color,
    /// Colour of the busy indicator (while the verdict is computed).
    pub activity_indicator_color: Color,
    /// Text above the face frame.
    pub title: String,
    /// Dialog asking the user to confirm quitting.
    pub quit_alert_title: String,
    /// See `quit_alert_title`.
    pub quit_alert_message: String,
    /// Dialog shown when the session timed out.
    pub timeout_alert_title: String,
    /// See `timeout_alert_title`.
    pub timeout_alert_message: String,
    /// Dialog shown when the verification failed.
    pub fail_alert_title: String,
    /// See `fail_alert_title`.
    pub fail_alert_message: String,
}

impl Default for UiOptions {
    fn default() -> Self {
        Self {
            progress_bar_color: Color([0x1E, 0x88, 0xE5]),
            progress_bar_background_color: Color([0xE0, 0xE0, 0xE0]),
            activity_indicator_color: Color([0x1E, 0x88, 0xE5]),
            title: "Face verification".into(),
            quit_alert_title: "Quit verification?".into(),
            quit_alert_message: "The verification is not finished. Quit anyway?".into(),
            timeout_alert_title: "Time is up".into(),
            timeout_alert_message: "The actions were not completed in time. Please try again."
                .into(),
            fail_alert_title: "Verification failed".into(),
            fail_alert_message: "We could not verify you. Please try again.".into(),
        }
    }
}

impl UiOptions {
    /// Reads options from the product's JSON option object.
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json).map_err(|e| Error::invalid("ui_options", e.to_string()))
    }

    /// The confirmation asked before the user quits.
    pub fn quit_alert(&self) -> Alert {
        Alert {
            title: self.quit_alert_title.clone(),
            message: self.quit_alert_message.clone(),
        }
    }

    /// The dialog to show at the end of a session: the timeout dialog for a
    /// timeout, the fail dialog for any other failure, none on SUCCESS, while
    /// PROCESSING, or after the user quit (they asked for it).
    pub fn end_alert(&self, result: &AuthResult) -> Option<Alert> {
        if result.auth_state != AuthState::Fail {
            return None;
        }
        match result.reasons.first().map(|r| r.code) {
            Some(ReasonCode::UserQuit) => None,
            Some(ReasonCode::Timeout | ReasonCode::ActionTimeout) => Some(Alert {
                title: self.timeout_alert_title.clone(),
                message: self.timeout_alert_message.clone(),
            }),
            _ => Some(Alert {
                title: self.fail_alert_title.clone(),
                message: self.fail_alert_message.clone(),
            }),
        }
    }
}
