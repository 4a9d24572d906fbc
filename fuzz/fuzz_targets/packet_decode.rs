//! `PacketRef::decode` on arbitrary datagrams. When a datagram decodes:
//! every attribute goes through every typed accessor, Vendor-Specific
//! attributes are walked, the vendor look-ups agree with a manual walk, the
//! owned copy re-encodes to exactly the octets the Length field covers, and
//! building + signing a reply never panics (and verifies when it succeeds).

#![no_main]

use ispd_radius::dict::{cisco, microsoft, mikrotik, rfc, wispr};
use ispd_radius::{Code, HEADER_LEN, MaPolicy, PacketRef};
use libfuzzer_sys::fuzz_target;

const VENDORS: [u32; 4] = [
    microsoft::VENDOR_ID,
    mikrotik::VENDOR_ID,
    cisco::VENDOR_ID,
    wispr::VENDOR_ID,
];

fn accessors(a: ispd_radius::AttributeRef<'_>) {
    let _ = a.as_bytes();
    let _ = a.as_str();
    let _ = a.as_u32();
    let _ = a.as_ipv4();
    let _ = a.as_ipv6();
    if let Ok(p) = a.as_ipv6_prefix() {
        assert!(p.prefix_len() <= 128);
        let _ = p.to_string();
    }
    let _ = a.as_date();
    let _ = format!("{a:?}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(p) = PacketRef::decode(data) else {
        return;
    };

    // The Length field governs; trailing octets are dropped.
    let length = usize::from(u16::from_be_bytes([data[2], data[3]]));
    assert_eq!(p.as_bytes(), &data[..length]);
    assert_eq!(p.identifier(), data[1]);
    assert_eq!(p.code().as_u8(), data[0]);
    assert_eq!(&p.authenticator()[..], &data[4..HEADER_LEN]);
    let _ = format!("{p:?}");

    let mut walked = HEADER_LEN;
    for a in p.attributes() {
        walked += 2 + a.value.len();
        accessors(a);
        if let Ok(vsa) = a.as_vendor_specific() {
            let mut sub_len = 4;
            for s in vsa.iter() {
                sub_len += 2 + s.value.len();
                accessors(s);
                assert!(vsa.first(s.typ).is_some());
                if a.typ == rfc::VENDOR_SPECIFIC {
                    // The packet-level look-up must find what a manual walk finds.
                    let found = p
                        .vendor_first(vsa.vendor_id(), s.typ)
                        .expect("vendor_first misses a sub-attribute present in the packet");
                    assert_eq!(found.typ, s.typ);
                }
            }
            // A validated VSA is covered exactly by its sub-attributes.
            assert_eq!(sub_len, a.value.len());
        }
    }
    // The attributes cover the packet exactly.
    assert_eq!(walked, length);

    for vendor in VENDORS {
        for vendor_type in [1u8, 8, 16, 17, 26] {
            let _ = p.vendor_first(vendor, vendor_type);
            let manual = p
                .all(rfc::VENDOR_SPECIFIC)
                .filter_map(|a| a.as_vendor_specific().ok())
                .filter(|v| v.vendor_id() == vendor)
                .flat_map(|v| v.iter())
                .filter(|s| s.typ == vendor_type)
                .count();
            assert_eq!(p.vendor_all(vendor, vendor_type).count(), manual);
        }
    }

    // Decode -> owned -> encode is the identity on the Length-covered octets.
    let owned = p.to_packet();
    let encoded = owned.encode().expect("a decoded packet must re-encode");
    assert_eq!(encoded, &data[..length], "decode/encode round trip");
    assert_eq!(owned.encoded_len(), length);

    // Building and signing a reply must not panic.
    let mut reply = p.reply(Code::AccessAccept);
    reply.insert_message_authenticator();
    let auth = p.authenticator();
    if let Ok(bytes) = reply.encode_response(auth, b"secret") {
        let back = PacketRef::decode(&bytes).expect("a signed reply must decode");
        back.verify_response(auth, b"secret", MaPolicy::Required)
            .expect("a signed reply must verify");
    }
});
