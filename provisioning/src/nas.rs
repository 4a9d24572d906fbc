//! NAS devices: who may send RADIUS to ispd, and which dialect of rate attributes they speak.

use std::net::IpAddr;

use ispd_billing::FieldError;

use crate::enforcement::CoaMode;
use ispd_billing::field::{Text, max_len, require, text, unseen};

/// Decides the rate-limit attributes in replies (the classic support call when wrong).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NasVendor {
    #[default]
    Generic,
    Mikrotik,
    Cisco,
    Juniper,
    AccelPpp,
}

impl NasVendor {
    pub const ALL: [NasVendor; 5] = [
        NasVendor::Generic,
        NasVendor::Mikrotik,
        NasVendor::Cisco,
        NasVendor::Juniper,
        NasVendor::AccelPpp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NasVendor::Generic => "generic",
            NasVendor::Mikrotik => "mikrotik",
            NasVendor::Cisco => "cisco",
            NasVendor::Juniper => "juniper",
            NasVendor::AccelPpp => "accel-ppp",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }

    /// How this vendor takes a change to an online session when the NAS does not say.
    ///
    /// MikroTik, accel-ppp and Cisco change a session's rate in place (RFC 5176 CoA with the
    /// same rate attributes the Access-Accept carries). A Juniper rate is a service profile
    /// that only Junos 16.1R4 and later re-activate in place with new parameters, and only when
    /// the operator configured it (`[radius] juniper_service`); a generic NAS may not speak
    /// CoA at all: both are disconnected by default, and the subscriber's router dials into the
    /// new state. `[[nas]] coa = "coa"` opts in.
    pub fn default_coa(self) -> CoaMode {
        match self {
            NasVendor::Mikrotik | NasVendor::AccelPpp | NasVendor::Cisco => CoaMode::Coa,
            NasVendor::Juniper | NasVendor::Generic => CoaMode::Disconnect,
        }
    }
}

/// RFC 5176 port for CoA and Disconnect requests.
pub const DEFAULT_COA_PORT: u16 = 3799;
/// Shorter shared secrets are brute-forced from one captured packet.
pub const MIN_SECRET_LEN: usize = 8;

/// A NAS as stored; the shared secret is kept apart (encrypted) and never in this record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Nas {
    pub id: i64,
    pub name: String,
    pub address: IpAddr,
    pub vendor: NasVendor,
    pub coa_port: u16,
    /// Drop Access-Requests without a valid Message-Authenticator (BlastRADIUS defence).
    pub require_message_authenticator: bool,
    /// Drop Access-Requests that carry Proxy-State without a Message-Authenticator (the shape
    /// of the BlastRADIUS forgery); off only for an upstream proxy that cannot sign.
    pub limit_proxy_state: bool,
    /// How changes reach this NAS's online sessions; `None` = the vendor's default.
    pub coa: Option<CoaMode>,
    pub note: String,
    pub version: i64,
}

impl Nas {
    /// The CoA mode in force: the NAS's own, else its vendor's default.
    pub fn coa_mode(&self) -> CoaMode {
        self.coa.unwrap_or_else(|| self.vendor.default_coa())
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        require("nas.name", &self.name)?;
        max_len("nas.name", &self.name, 64)?;
        // A NAS's name is written into every log line and metric of its traffic: a newline or
        // an escape in it forged log lines (found probing from outside).
        if self.name.chars().any(unseen) {
            return Err(FieldError::new(
                "nas.name",
                "must not contain control or invisible characters",
            ));
        }
        text("nas.note", &self.note, Text::Remark)?;
        if self.coa_port == 0 {
            return Err(FieldError::new("nas.coa_port", "must be 1-65535"));
        }
        if self.address.is_unspecified() {
            return Err(FieldError::new(
                "nas.address",
                "a NAS has a concrete source address, not 0.0.0.0 or ::",
            ));
        }
        Ok(())
    }
}

/// A shared secret must be usable on the wire and not trivially guessable.
pub fn validate_secret(field: &str, secret: &str) -> Result<(), FieldError> {
    if secret.len() < MIN_SECRET_LEN {
        return Err(FieldError::new(
            field,
            format!("at least {MIN_SECRET_LEN} characters"),
        ));
    }
    if secret.len() > 128 || secret.chars().any(char::is_control) {
        return Err(FieldError::new(field, "at most 128 printable characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let nas = Nas {
            id: 0,
            name: "core-1".into(),
            address: "192.0.2.1".parse().unwrap(),
            vendor: NasVendor::Mikrotik,
            coa_port: DEFAULT_COA_PORT,
            require_message_authenticator: true,
            limit_proxy_state: true,
            coa: None,
            note: String::new(),
            version: 0,
        };
        assert_eq!(nas.validate(), Ok(()));
        assert_eq!(
            nas.coa_mode(),
            CoaMode::Coa,
            "MikroTik changes sessions in place"
        );
        let juniper = Nas {
            vendor: NasVendor::Juniper,
            ..nas.clone()
        };
        assert_eq!(juniper.coa_mode(), CoaMode::Disconnect);
        let told = Nas {
            coa: Some(CoaMode::None),
            ..nas.clone()
        };
        assert_eq!(told.coa_mode(), CoaMode::None, "the NAS's own mode wins");
        let mut bad = nas.clone();
        bad.address = "0.0.0.0".parse().unwrap();
        assert_eq!(bad.validate().unwrap_err().field, "nas.address");
        for forged in ["c\nZ INFO ispd::x: FAKE LINE", "c\u{1b}[2J", "c\u{200B}"] {
            let mut bad = nas.clone();
            bad.name = forged.into();
            assert_eq!(bad.validate().unwrap_err().field, "nas.name", "{forged:?}");
        }
        let mut spaced = nas.clone();
        spaced.name = "core router 1".into();
        assert_eq!(spaced.validate(), Ok(()));
        let mut bad = nas.clone();
        bad.coa_port = 0;
        assert_eq!(bad.validate().unwrap_err().field, "nas.coa_port");
        let mut long_note = nas;
        long_note.note = "x".repeat(1000);
        assert_eq!(long_note.validate(), Ok(()));
        long_note.note.push('x');
        assert_eq!(long_note.validate().unwrap_err().field, "nas.note");
        assert!(validate_secret("secret", "short").is_err());
        assert!(validate_secret("secret", "xyzzy5461").is_ok());
        for v in NasVendor::ALL {
            assert_eq!(NasVendor::parse(v.as_str()), Some(v));
        }
    }
}
