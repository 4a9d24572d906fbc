//! `VendorSpecific::parse` on arbitrary attribute values: Ok or Err, never
//! a panic; a parsed value is covered exactly by its sub-attributes.

#![no_main]

use ispd_radius::VendorSpecific;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(vsa) = VendorSpecific::parse(data) else {
        return;
    };
    assert_eq!(vsa.vendor_id().to_be_bytes(), data[..4]);
    let mut covered = 4;
    for s in vsa {
        covered += 2 + s.value.len();
        let _ = s.as_str();
        let _ = s.as_u32();
        let _ = s.as_ipv4();
        let _ = s.as_ipv6();
        let _ = s.as_ipv6_prefix().map(|p| p.to_string());
        let _ = s.as_date();
        let _ = s.as_vendor_specific();
        assert_eq!(vsa.first(s.typ).map(|f| f.typ), Some(s.typ));
    }
    assert_eq!(covered, data.len());
    let _ = format!("{vsa:?}");
});
