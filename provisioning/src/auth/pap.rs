//! PAP (RFC 1334 §2, carried in RADIUS User-Password per RFC 2865 §5.2).

use crate::login::MAX_PASSWORD_LEN;

/// Compares the presented password with the stored one in constant time.
///
/// User-Password travels padded with NULs to a multiple of 16 bytes (RFC 2865 §5.2); a codec
/// that leaves the padding in place would otherwise fail every PAP login, so trailing NULs are
/// dropped here (stored passwords cannot contain control characters, see
/// [`crate::login::validate_password`]). Both sides are walked over the full 128-byte
/// RADIUS maximum, so the time taken reveals neither the stored password's length nor the
/// position of the first difference.
pub fn verify(presented: &[u8], stored: &[u8]) -> bool {
    let end = presented
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |last| last + 1);
    let presented = &presented[..end];
    let span = MAX_PASSWORD_LEN.max(presented.len()).max(stored.len());
    let mut diff = u8::from(presented.len() != stored.len());
    for i in 0..span {
        let a = presented.get(i).copied().unwrap_or(0);
        let b = stored.get(i).copied().unwrap_or(0);
        diff |= a ^ b;
    }
    // An empty stored password never matches: it means "no password set", not "any".
    std::hint::black_box(diff) == 0 && !stored.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&[u8], &[u8], bool)] = &[
            (b"arctangent", b"arctangent", true),
            (b"arctangent\0\0\0\0\0\0", b"arctangent", true),
            (b"arctangen", b"arctangent", false),
            (b"arctangentt", b"arctangent", false),
            (b"Arctangent", b"arctangent", false),
            // A prefix padded with NULs must not equal a longer password.
            (b"arc\0tangent", b"arctangent", false),
            (b"", b"", false),
            (b"\0\0", b"", false),
            (b"x", b"", false),
        ];
        for (presented, stored, expected) in cases {
            assert_eq!(
                verify(presented, stored),
                *expected,
                "{presented:?} vs {stored:?}"
            );
        }
        let long = [b'x'; 128];
        assert!(verify(&long, &long));
        let mut other = long;
        other[127] = b'y';
        assert!(!verify(&long, &other));
    }
}
