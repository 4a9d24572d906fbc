//! Authenticator checks and User-Password unhiding on arbitrary datagrams:
//! whatever the bytes, verification returns Ok or Err and never panics.

#![no_main]

use ispd_radius::authenticator;
use ispd_radius::dict::rfc;
use ispd_radius::{MaPolicy, PacketRef, password};
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"testing123";

fuzz_target!(|data: &[u8]| {
    let Ok(p) = PacketRef::decode(data) else {
        return;
    };

    let _ = p.verify_request(SECRET, MaPolicy::Required);
    let _ = p.verify_request(SECRET, MaPolicy::IfPresent);
    // Replies too, against the packet's own authenticator as "request".
    let _ = p.verify_response(p.authenticator(), SECRET, MaPolicy::Required);
    let _ = p.verify_response(&[0; 16], SECRET, MaPolicy::IfPresent);
    let _ = authenticator::message_authenticator(&p, p.authenticator(), SECRET);

    for hidden in p.all(rfc::USER_PASSWORD) {
        if let Ok(pw) = password::unhide(hidden.value, SECRET, p.authenticator()) {
            assert!(pw.len() <= password::MAX_LEN);
            assert!(pw.len() <= hidden.value.len());
            let _ = format!("{pw:?}");
        }
    }
});
