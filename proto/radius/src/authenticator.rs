//! Authenticators: the Response Authenticator (RFC 2865 §3), the hashed
//! Request Authenticator of Accounting, CoA and Disconnect requests
//! (RFC 2866 §3, RFC 5176 §2.3) and the Message-Authenticator (RFC 3579
//! §3.2, RFC 2869 §5.14), computed, checked in constant time and written.
//!
//! Signing order matters and is fixed here: the Message-Authenticator is
//! computed first (over the packet with its value zeroed and the
//! authenticator field set as the RFC prescribes for the code), then the
//! Request/Response Authenticator over the packet that already holds it.

use hmac::Mac;
use md5::{Digest, Md5};

use crate::code::AuthenticatorKind;
use crate::dict::rfc::{EAP_MESSAGE, MESSAGE_AUTHENTICATOR};
use crate::{AuthError, Code, EncodeError, HEADER_LEN, Packet, PacketRef, Secret};

const ZERO: [u8; 16] = [0; 16];

/// Whether [`PacketRef::verify_request`] and [`PacketRef::verify_response`]
/// insist on a Message-Authenticator.
///
/// Whatever the policy, one is always required in Status-Server (RFC 5997
/// §3) and in any packet carrying EAP-Message (RFC 3579 §3.2), and one that
/// is present is always checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MaPolicy {
    /// Check it when present.
    #[default]
    IfPresent,
    /// Reject packets without one: the BlastRADIUS (CVE-2024-3596)
    /// mitigation for Access-Requests from NASes known to send it.
    Required,
}

enum MaFault {
    Duplicate,
    Length(usize),
}

impl From<MaFault> for AuthError {
    fn from(fault: MaFault) -> Self {
        match fault {
            MaFault::Duplicate => AuthError::DuplicateMessageAuthenticator,
            MaFault::Length(n) => AuthError::MessageAuthenticatorLength(n),
        }
    }
}

impl From<MaFault> for EncodeError {
    fn from(fault: MaFault) -> Self {
        match fault {
            MaFault::Duplicate => EncodeError::DuplicateMessageAuthenticator,
            MaFault::Length(n) => EncodeError::MessageAuthenticatorLength(n),
        }
    }
}

/// Offset of the single Message-Authenticator attribute of a validated
/// packet, if any.
fn locate_ma(packet: &[u8]) -> Result<Option<usize>, MaFault> {
    let mut found = None;
    let mut offset = HEADER_LEN;
    while let Some(&[typ, length]) = packet.get(offset..offset + 2) {
        if length < 2 {
            break;
        }
        if typ == MESSAGE_AUTHENTICATOR {
            if found.is_some() {
                return Err(MaFault::Duplicate);
            }
            if length != 18 {
                return Err(MaFault::Length(usize::from(length) - 2));
            }
            found = Some(offset);
        }
        offset += usize::from(length);
    }
    Ok(found)
}

/// MD5(Code + Identifier + Length + `authenticator` + Attributes + Secret)
/// over a validated packet: the Response Authenticator when `authenticator`
/// is the request's, the hashed Request Authenticator when it is zero.
fn md5_over(packet: &[u8], authenticator: &[u8; 16], secret: &[u8]) -> [u8; 16] {
    Md5::new()
        .chain_update(&packet[..4])
        .chain_update(authenticator)
        .chain_update(&packet[HEADER_LEN..])
        .chain_update(secret)
        .finalize()
        .into()
}

/// HMAC-MD5 over a validated packet with `authenticator` in the header and
/// the Message-Authenticator at `ma` zeroed, streamed without a copy.
fn hmac_over<S: Secret + ?Sized>(
    packet: &[u8],
    authenticator: &[u8; 16],
    ma: usize,
    secret: &S,
) -> [u8; 16] {
    let mut mac = secret.hmac().0;
    mac.update(&packet[..4]);
    mac.update(authenticator);
    mac.update(&packet[HEADER_LEN..ma + 2]);
    mac.update(&ZERO);
    mac.update(&packet[ma + 18..]);
    mac.finalize().into_bytes().into()
}

/// Compares without early exit, so timing does not reveal how many leading
/// octets of a forged authenticator were right.
fn ct_eq(a: &[u8; 16], b: &[u8]) -> bool {
    if b.len() != 16 {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// The Response Authenticator (RFC 2865 §3) `response` should carry when
/// answering a request whose authenticator was `request_authenticator`.
pub fn response_authenticator<S: Secret + ?Sized>(
    response: &PacketRef<'_>,
    request_authenticator: &[u8; 16],
    secret: &S,
) -> [u8; 16] {
    md5_over(response.as_bytes(), request_authenticator, secret.bytes())
}

/// The Request Authenticator an Accounting-Request (RFC 2866 §3), CoA-Request
/// or Disconnect-Request (RFC 5176 §2.3) should carry: MD5 over the packet
/// with a zero authenticator, followed by the secret.
pub fn accounting_request_authenticator<S: Secret + ?Sized>(
    request: &PacketRef<'_>,
    secret: &S,
) -> [u8; 16] {
    md5_over(request.as_bytes(), &ZERO, secret.bytes())
}

/// The Message-Authenticator (RFC 3579 §3.2) of `packet` with `authenticator`
/// in the header while computing: the packet's own for Access-Request and
/// Status-Server, the request's for replies, zeros for Accounting, CoA and
/// Disconnect requests. `Ok(None)` when the packet has none.
pub fn message_authenticator<S: Secret + ?Sized>(
    packet: &PacketRef<'_>,
    authenticator: &[u8; 16],
    secret: &S,
) -> Result<Option<[u8; 16]>, AuthError> {
    let bytes = packet.as_bytes();
    Ok(locate_ma(bytes)?.map(|ma| hmac_over(bytes, authenticator, ma, secret)))
}

fn write_ma<S: Secret + ?Sized>(
    packet: &mut [u8],
    authenticator: &[u8; 16],
    ma: Option<usize>,
    secret: &S,
) {
    if let Some(ma) = ma {
        let mac = hmac_over(packet, authenticator, ma, secret);
        packet[ma + 2..ma + 18].copy_from_slice(&mac);
    }
}

fn validated(packet: &[u8]) -> Result<(Code, usize, Option<usize>), EncodeError> {
    let p = PacketRef::decode(packet)?;
    let len = p.as_bytes().len();
    Ok((p.code(), len, locate_ma(p.as_bytes())?))
}

/// Signs an encoded request in place.
///
/// Access-Request and Status-Server keep their (caller-chosen, random)
/// authenticator and get their Message-Authenticator, if they hold one,
/// computed over it. Accounting, CoA and Disconnect requests get their
/// Message-Authenticator computed over a zero authenticator, then the hashed
/// Request Authenticator written over the result.
pub fn finalize_request<S: Secret + ?Sized>(
    packet: &mut [u8],
    secret: &S,
) -> Result<(), EncodeError> {
    let (code, len, ma) = validated(packet)?;
    let packet = &mut packet[..len];
    match code.authenticator_kind() {
        AuthenticatorKind::Random => {
            let mut own = ZERO;
            own.copy_from_slice(&packet[4..HEADER_LEN]);
            write_ma(packet, &own, ma, secret);
        }
        AuthenticatorKind::Hashed => {
            packet[4..HEADER_LEN].fill(0);
            write_ma(packet, &ZERO, ma, secret);
            let auth = md5_over(packet, &ZERO, secret.bytes());
            packet[4..HEADER_LEN].copy_from_slice(&auth);
        }
        AuthenticatorKind::Response | AuthenticatorKind::Undefined => {
            return Err(EncodeError::NotARequest(code));
        }
    }
    Ok(())
}

/// Signs an encoded reply in place: Message-Authenticator (if present)
/// computed with the request's authenticator in the header, then the
/// Response Authenticator over the result.
pub fn finalize_response<S: Secret + ?Sized>(
    packet: &mut [u8],
    request_authenticator: &[u8; 16],
    secret: &S,
) -> Result<(), EncodeError> {
    let (code, len, ma) = validated(packet)?;
    if !code.is_response() {
        return Err(EncodeError::NotAResponse(code));
    }
    let packet = &mut packet[..len];
    write_ma(packet, request_authenticator, ma, secret);
    let auth = md5_over(packet, request_authenticator, secret.bytes());
    packet[4..HEADER_LEN].copy_from_slice(&auth);
    Ok(())
}

fn check_ma<S: Secret + ?Sized>(
    packet: &PacketRef<'_>,
    ma: Option<usize>,
    authenticator: &[u8; 16],
    policy: MaPolicy,
    secret: &S,
) -> Result<(), AuthError> {
    let bytes = packet.as_bytes();
    match ma {
        Some(ma) => {
            let expected = hmac_over(bytes, authenticator, ma, secret);
            if ct_eq(&expected, &bytes[ma + 2..ma + 18]) {
                Ok(())
            } else {
                Err(AuthError::BadMessageAuthenticator)
            }
        }
        None if policy == MaPolicy::Required
            || packet.code() == Code::StatusServer
            || packet.first(EAP_MESSAGE).is_some() =>
        {
            Err(AuthError::MissingMessageAuthenticator)
        }
        None => Ok(()),
    }
}

impl PacketRef<'_> {
    /// Authenticates a received request with the client's secret.
    ///
    /// Accounting, CoA and Disconnect requests must carry the hashed Request
    /// Authenticator; an Access-Request's authenticator is random and cannot
    /// be checked, so only its Message-Authenticator proves it (hence
    /// [`MaPolicy::Required`]). Packets that fail must be silently dropped.
    pub fn verify_request<S: Secret + ?Sized>(
        &self,
        secret: &S,
        policy: MaPolicy,
    ) -> Result<(), AuthError> {
        let ma = locate_ma(self.as_bytes())?;
        let ma_authenticator = match self.code().authenticator_kind() {
            AuthenticatorKind::Random => self.authenticator(),
            AuthenticatorKind::Hashed => {
                let expected = accounting_request_authenticator(self, secret);
                if !ct_eq(&expected, self.authenticator()) {
                    return Err(AuthError::BadAuthenticator);
                }
                &ZERO
            }
            AuthenticatorKind::Response | AuthenticatorKind::Undefined => {
                return Err(AuthError::NotARequest(self.code()));
            }
        };
        check_ma(self, ma, ma_authenticator, policy, secret)
    }

    /// Authenticates a received reply to a request we sent with
    /// `request_authenticator` (e.g. the CoA-ACK for ispd's CoA-Request).
    pub fn verify_response<S: Secret + ?Sized>(
        &self,
        request_authenticator: &[u8; 16],
        secret: &S,
        policy: MaPolicy,
    ) -> Result<(), AuthError> {
        if !self.code().is_response() {
            return Err(AuthError::NotAResponse(self.code()));
        }
        let ma = locate_ma(self.as_bytes())?;
        let expected = response_authenticator(self, request_authenticator, secret);
        if !ct_eq(&expected, self.authenticator()) {
            return Err(AuthError::BadAuthenticator);
        }
        check_ma(self, ma, request_authenticator, policy, secret)
    }
}

impl Packet {
    /// Encodes and signs a request; see [`finalize_request`]. Hide any
    /// User-Password with `self.authenticator` beforehand.
    pub fn encode_request<S: Secret + ?Sized>(&self, secret: &S) -> Result<Vec<u8>, EncodeError> {
        let mut out = self.encode()?;
        finalize_request(&mut out, secret)?;
        Ok(out)
    }

    /// Encodes and signs a reply to a request that carried
    /// `request_authenticator`; see [`finalize_response`]. Call
    /// [`Packet::insert_message_authenticator`] first to include one.
    pub fn encode_response<S: Secret + ?Sized>(
        &self,
        request_authenticator: &[u8; 16],
        secret: &S,
    ) -> Result<Vec<u8>, EncodeError> {
        let mut out = self.encode()?;
        finalize_response(&mut out, request_authenticator, secret)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Attribute;
    use crate::dict::rfc::{NAS_IDENTIFIER, USER_NAME};

    const SECRET: &[u8] = b"s3cr3t";

    #[test]
    fn a_keyed_secret_signs_and_verifies_as_its_bytes_do() {
        let keyed = crate::KeyedSecret::new(SECRET);
        let (bytes, request_auth) = signed_accept(true);
        let mut reply = Packet::new(Code::AccessAccept, 3, [0; 16]);
        reply.push(Attribute::string(USER_NAME, "alice"));
        reply.insert_message_authenticator();
        assert_eq!(reply.encode_response(&request_auth, &keyed).unwrap(), bytes);
        let packet = PacketRef::decode(&bytes).unwrap();
        packet
            .verify_response(&request_auth, &keyed, MaPolicy::Required)
            .unwrap();
        let other = crate::KeyedSecret::new(b"not the secret");
        assert!(
            packet
                .verify_response(&request_auth, &other, MaPolicy::Required)
                .is_err()
        );
    }

    fn signed_accept(with_ma: bool) -> (Vec<u8>, [u8; 16]) {
        let request_auth = [0x5a; 16];
        let mut reply = Packet::new(Code::AccessAccept, 3, [0; 16]);
        reply.push(Attribute::string(USER_NAME, "alice"));
        if with_ma {
            reply.insert_message_authenticator();
        }
        (
            reply.encode_response(&request_auth, SECRET).unwrap(),
            request_auth,
        )
    }

    #[test]
    fn constant_time_compare() {
        assert!(ct_eq(&[1; 16], &[1; 16]));
        assert!(!ct_eq(&[1; 16], &[1; 15]));
        let mut b = [1u8; 16];
        b[15] = 0;
        assert!(!ct_eq(&[1; 16], &b));
    }

    #[test]
    fn response_sign_then_verify_and_tamper() {
        for with_ma in [false, true] {
            let (bytes, req_auth) = signed_accept(with_ma);
            let p = PacketRef::decode(&bytes).unwrap();
            assert_eq!(
                p.verify_response(&req_auth, SECRET, MaPolicy::IfPresent),
                Ok(())
            );
            assert_eq!(
                p.verify_response(&req_auth, b"wrong", MaPolicy::IfPresent),
                Err(AuthError::BadAuthenticator)
            );
            assert_eq!(
                p.verify_response(&[0; 16], SECRET, MaPolicy::IfPresent),
                Err(AuthError::BadAuthenticator)
            );
            let required = p.verify_response(&req_auth, SECRET, MaPolicy::Required);
            if with_ma {
                assert_eq!(required, Ok(()));
            } else {
                assert_eq!(required, Err(AuthError::MissingMessageAuthenticator));
            }
        }
    }

    #[test]
    fn message_authenticator_catches_what_the_response_authenticator_would() {
        // Re-sign the Response Authenticator after tampering with the MA
        // value: only the MA check can notice.
        let (mut bytes, req_auth) = signed_accept(true);
        bytes[HEADER_LEN + 2] ^= 1;
        let auth = md5_over(&bytes, &req_auth, SECRET);
        bytes[4..20].copy_from_slice(&auth);
        let p = PacketRef::decode(&bytes).unwrap();
        assert_eq!(
            p.verify_response(&req_auth, SECRET, MaPolicy::IfPresent),
            Err(AuthError::BadMessageAuthenticator)
        );
    }

    #[test]
    fn hashed_requests_sign_and_verify() {
        for code in [
            Code::AccountingRequest,
            Code::CoaRequest,
            Code::DisconnectRequest,
        ] {
            let mut req = Packet::new(code, 1, [0xee; 16]);
            req.push(Attribute::string(NAS_IDENTIFIER, "nas1"));
            req.insert_message_authenticator();
            let bytes = req.encode_request(SECRET).unwrap();
            let p = PacketRef::decode(&bytes).unwrap();
            assert_eq!(p.verify_request(SECRET, MaPolicy::Required), Ok(()));
            assert_eq!(
                accounting_request_authenticator(&p, SECRET),
                *p.authenticator()
            );
            assert_eq!(
                message_authenticator(&p, &ZERO, SECRET)
                    .unwrap()
                    .as_ref()
                    .map(|m| &m[..]),
                Some(&bytes[22..38])
            );
            assert_eq!(
                p.verify_request(b"other", MaPolicy::IfPresent),
                Err(AuthError::BadAuthenticator)
            );
        }
    }

    #[test]
    fn access_request_needs_ma_when_required_or_eap() {
        let mut req = Packet::new(Code::AccessRequest, 1, [7; 16]);
        req.push(Attribute::string(USER_NAME, "bob"));
        let bytes = req.encode_request(SECRET).unwrap();
        assert_eq!(bytes, req.encode().unwrap(), "no MA: nothing to sign");
        let p = PacketRef::decode(&bytes).unwrap();
        assert_eq!(p.verify_request(SECRET, MaPolicy::IfPresent), Ok(()));
        assert_eq!(
            p.verify_request(SECRET, MaPolicy::Required),
            Err(AuthError::MissingMessageAuthenticator)
        );
        req.push(Attribute::new(EAP_MESSAGE, [2, 0, 0, 4]));
        let bytes = req.encode_request(SECRET).unwrap();
        assert_eq!(
            PacketRef::decode(&bytes)
                .unwrap()
                .verify_request(SECRET, MaPolicy::IfPresent),
            Err(AuthError::MissingMessageAuthenticator)
        );
        let status = Packet::new(Code::StatusServer, 1, [7; 16])
            .encode()
            .unwrap();
        assert_eq!(
            PacketRef::decode(&status)
                .unwrap()
                .verify_request(SECRET, MaPolicy::IfPresent),
            Err(AuthError::MissingMessageAuthenticator)
        );
    }

    #[test]
    fn malformed_message_authenticators() {
        let mut req = Packet::new(Code::AccessRequest, 1, [7; 16]);
        req.push(Attribute::new(MESSAGE_AUTHENTICATOR, [0; 15]));
        assert_eq!(
            req.encode_request(SECRET),
            Err(EncodeError::MessageAuthenticatorLength(15))
        );
        let bytes = req.encode().unwrap();
        assert_eq!(
            PacketRef::decode(&bytes)
                .unwrap()
                .verify_request(SECRET, MaPolicy::IfPresent),
            Err(AuthError::MessageAuthenticatorLength(15))
        );
        let mut req = Packet::new(Code::AccessRequest, 1, [7; 16]);
        req.push(Attribute::new(MESSAGE_AUTHENTICATOR, [0; 16]));
        req.push(Attribute::new(MESSAGE_AUTHENTICATOR, [0; 16]));
        assert_eq!(
            req.encode_request(SECRET),
            Err(EncodeError::DuplicateMessageAuthenticator)
        );
        let bytes = req.encode().unwrap();
        assert_eq!(
            PacketRef::decode(&bytes)
                .unwrap()
                .verify_request(SECRET, MaPolicy::IfPresent),
            Err(AuthError::DuplicateMessageAuthenticator)
        );
    }

    #[test]
    fn wrong_direction_is_refused() {
        let accept = Packet::new(Code::AccessAccept, 1, [0; 16]);
        assert_eq!(
            accept.encode_request(SECRET),
            Err(EncodeError::NotARequest(Code::AccessAccept))
        );
        let request = Packet::new(Code::CoaRequest, 1, [0; 16]);
        assert_eq!(
            request.encode_response(&[0; 16], SECRET),
            Err(EncodeError::NotAResponse(Code::CoaRequest))
        );
        let bytes = accept.encode().unwrap();
        let p = PacketRef::decode(&bytes).unwrap();
        assert_eq!(
            p.verify_request(SECRET, MaPolicy::IfPresent),
            Err(AuthError::NotARequest(Code::AccessAccept))
        );
        let bytes = request.encode().unwrap();
        let p = PacketRef::decode(&bytes).unwrap();
        assert_eq!(
            p.verify_response(&[0; 16], SECRET, MaPolicy::IfPresent),
            Err(AuthError::NotAResponse(Code::CoaRequest))
        );
        let mut garbage = [0u8; 10];
        assert!(matches!(
            finalize_response(&mut garbage, &[0; 16], SECRET),
            Err(EncodeError::Malformed(_))
        ));
    }

    #[test]
    fn finalize_signs_only_up_to_the_length_field() {
        let (bytes, req_auth) = signed_accept(true);
        let mut padded = bytes.clone();
        padded[4..20].fill(0);
        padded.extend_from_slice(&[0xff; 7]);
        finalize_response(&mut padded, &req_auth, SECRET).unwrap();
        assert_eq!(&padded[..bytes.len()], &bytes[..]);
        assert_eq!(&padded[bytes.len()..], &[0xff; 7]);
    }
}
