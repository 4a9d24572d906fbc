//! Checking the proof an Access-Request carries against the login's clear-text password.
//!
//! ispd keeps passwords retrievable (sealed in storage, clear in the daemon's access cache)
//! because CHAP and MS-CHAPv2 cannot be verified from a one-way hash: both prove knowledge of
//! the password itself (RFC 1994 §4, RFC 2759 §8). The codec has already decoded the packet;
//! this module only does the arithmetic, and every comparison of a secret-derived value runs in
//! constant time so the reply latency does not leak how many bytes matched.

pub mod chap;
pub mod mschapv2;
pub mod pap;

/// What an Access-Request presented as proof of identity, as the codec decoded it.
///
/// Borrowed slices: the packet buffer outlives the decision, and nothing here is kept.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    /// User-Password, already un-hidden (RFC 2865 §5.2), at most 128 bytes.
    Pap { password: &'a [u8] },
    /// CHAP-Password (17 bytes: ident + MD5 response) and the challenge it answers: the
    /// CHAP-Challenge attribute, or the Request Authenticator when that is absent
    /// (RFC 2865 §5.3). The caller picks the right one because only it sees the packet.
    Chap {
        chap_password: &'a [u8],
        challenge: &'a [u8],
    },
    /// MS-CHAP-Challenge (16 bytes) and MS-CHAP2-Response (50 bytes) from RFC 2548 §2.1.
    MsChapV2 {
        challenge: &'a [u8],
        response: &'a [u8],
    },
    /// No proof attribute at all: the shape of a DHCP or hotspot MAC-authentication request.
    None,
    /// A proof ispd does not check — an EAP-Message (ispd speaks no EAP) — or cannot: an
    /// MS-CHAP2-Response without its challenge. Never accepted, not even for a MAC login,
    /// whose NAS would wait for an EAP or MS-CHAPv2 answer the accept cannot carry.
    Unsupported,
    /// More than one kind of proof (User-Password, CHAP-Password, MS-CHAP2-Response,
    /// EAP-Message). RFC 2865 §5.2 and §5.3 allow one; a request with two is never accepted,
    /// whichever of them would verify.
    Conflicting,
}

impl Credential<'_> {
    /// The method's name for logs and metrics; never includes any of the proof.
    pub fn method(&self) -> &'static str {
        match self {
            Credential::Pap { .. } => "pap",
            Credential::Chap { .. } => "chap",
            Credential::MsChapV2 { .. } => "mschapv2",
            Credential::None => "none",
            Credential::Unsupported => "unsupported",
            Credential::Conflicting => "conflicting",
        }
    }
}

/// The proof attributes an Access-Request carried, as the codec decoded them; the input of
/// [`ProofAttributes::credential`], which picks the one credential to check.
#[derive(Clone, Copy, Default)]
pub struct ProofAttributes<'a> {
    /// User-Password, already un-hidden (empty when it could not be).
    pub user_password: Option<&'a [u8]>,
    pub chap_password: Option<&'a [u8]>,
    /// CHAP-Challenge, or the Request Authenticator when that is absent (RFC 2865 §5.3).
    pub chap_challenge: &'a [u8],
    pub ms_chap_challenge: Option<&'a [u8]>,
    pub ms_chap2_response: Option<&'a [u8]>,
    /// EAP-Message is present (RFC 3579). ispd does not speak EAP; it only counts as a kind.
    pub eap_message: bool,
    /// A credential attribute appears more than once (RFC 2865 §5.44 allows each 0-1 times):
    /// two passwords are two credentials, whichever came first.
    pub repeated: bool,
}

impl<'a> ProofAttributes<'a> {
    /// The one credential the request presents; [`Credential::Conflicting`] when it carries
    /// more than one kind, so that no order of preference can let a weaker proof stand in
    /// for the one the NAS meant. An MS-CHAP2-Response without its challenge, or an
    /// EAP-Message alone, is [`Credential::Unsupported`].
    pub fn credential(&self) -> Credential<'a> {
        let kinds = [
            self.user_password.is_some(),
            self.chap_password.is_some(),
            self.ms_chap2_response.is_some(),
            self.eap_message,
        ];
        if self.repeated || kinds.iter().filter(|&&present| present).count() > 1 {
            return Credential::Conflicting;
        }
        if let Some(password) = self.user_password {
            Credential::Pap { password }
        } else if let Some(chap_password) = self.chap_password {
            Credential::Chap {
                chap_password,
                challenge: self.chap_challenge,
            }
        } else if let (Some(challenge), Some(response)) =
            (self.ms_chap_challenge, self.ms_chap2_response)
        {
            Credential::MsChapV2 {
                challenge,
                response,
            }
        } else if self.ms_chap2_response.is_some() || self.eap_message {
            Credential::Unsupported
        } else {
            Credential::None
        }
    }
}

/// The proof bytes stay out of logs: only the method name is shown.
impl std::fmt::Debug for Credential<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential::{}", self.method())
    }
}

/// A verified credential, with what the method needs to put into the Access-Accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// PAP or CHAP: nothing to add to the reply.
    Password,
    /// MS-CHAPv2 must answer with MS-CHAP2-Success and hand the NAS the MPPE keys.
    MsChapV2(Box<mschapv2::Success>),
}

/// Checks `credential` against the stored clear-text `password`. `user_name` is the
/// User-Name as received (MS-CHAPv2 hashes it into the challenge). `None` for any mismatch,
/// malformed attribute or missing proof: the caller rejects all of them alike.
pub fn verify_password(
    credential: &Credential<'_>,
    user_name: &str,
    password: &str,
) -> Option<Proof> {
    match *credential {
        Credential::Pap {
            password: presented,
        } => pap::verify(presented, password.as_bytes()).then_some(Proof::Password),
        Credential::Chap {
            chap_password,
            challenge,
        } => chap::verify(chap_password, challenge, password.as_bytes()).then_some(Proof::Password),
        Credential::MsChapV2 {
            challenge,
            response,
        } => mschapv2::verify(challenge, response, user_name, password)
            .ok()
            .map(|success| Proof::MsChapV2(Box::new(success))),
        Credential::None | Credential::Unsupported | Credential::Conflicting => None,
    }
}

/// Compares two byte strings in time that depends only on their lengths, not on where they
/// differ. Lengths are not secret here (a CHAP response is always 16 bytes, an NT-Response 24).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimiser from turning the fold into an early-exit comparison.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_is_plain_equality() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn debug_never_shows_the_proof() {
        let c = Credential::Pap {
            password: b"hunter2",
        };
        assert_eq!(format!("{c:?}"), "Credential::pap");
    }

    #[test]
    fn dispatch() {
        let pw = "arctangent";
        assert_eq!(
            verify_password(
                &Credential::Pap {
                    password: pw.as_bytes()
                },
                "nemo",
                pw
            ),
            Some(Proof::Password)
        );
        assert_eq!(
            verify_password(&Credential::Pap { password: b"wrong" }, "nemo", pw),
            None
        );
        let challenge = [7u8; 16];
        let mut chap_password = vec![42u8];
        chap_password.extend_from_slice(&chap::response(42, pw.as_bytes(), &challenge));
        assert_eq!(
            verify_password(
                &Credential::Chap {
                    chap_password: &chap_password,
                    challenge: &challenge
                },
                "nemo",
                pw
            ),
            Some(Proof::Password)
        );
        assert_eq!(verify_password(&Credential::None, "nemo", pw), None);
    }
}
