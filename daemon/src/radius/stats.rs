//! RADIUS counters for the metrics endpoint: what arrived, what was answered, and why
//! anything was dropped.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($($name:ident: $help:literal,)*) => {
        #[derive(Debug, Default)]
        pub struct RadiusStats {
            $(#[doc = $help] pub $name: AtomicU64,)*
        }

        impl RadiusStats {
            /// Prometheus text lines, one counter each.
            pub fn render(&self, out: &mut String) {
                $(
                    out.push_str(concat!("# HELP ispd_radius_", stringify!($name), " ", $help, "\n"));
                    out.push_str(concat!("# TYPE ispd_radius_", stringify!($name), " counter\n"));
                    out.push_str(&format!(
                        concat!("ispd_radius_", stringify!($name), " {}\n"),
                        self.$name.load(Ordering::Relaxed)
                    ));
                )*
            }
        }
    };
}

counters! {
    requests_total: "Datagrams received on the RADIUS auth ports.",
    accepts_total: "Access-Accepts sent.",
    rejects_total: "Access-Rejects sent.",
    rejects_multiple_credentials_total: "Access-Rejects for requests carrying more than one credential (User-Password, CHAP-Password, MS-CHAP2-Response, EAP-Message).",
    status_server_total: "Status-Server requests answered.",
    duplicates_total: "Retransmissions answered from the reply cache.",
    dropped_unknown_nas_total: "Requests from source addresses that are no known NAS.",
    dropped_malformed_total: "Malformed datagrams (bad length, attributes, unknown code).",
    dropped_authenticator_total: "Requests whose authenticator or Message-Authenticator did not verify, or lacked a required one.",
    dropped_unexpected_code_total: "Packets of a code the port does not serve.",
    acct_requests_total: "Datagrams received on the RADIUS accounting ports.",
    acct_responses_total: "Accounting-Responses sent, each after its record was committed.",
    acct_store_failures_total: "Batches of accounting the database could not take.",
    acct_spooled_batches_total: "Batches written to the local spool while the database was unavailable.",
}

impl RadiusStats {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
