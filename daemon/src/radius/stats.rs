//! RADIUS counters for the metrics endpoint: what arrived, what was answered, and why
//! anything was dropped.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    (
        counters { $($name:ident: $help:literal,)* }
        gauges { $($gauge:ident: $gauge_help:literal,)* }
    ) => {
        #[derive(Debug, Default)]
        pub struct RadiusStats {
            $(#[doc = $help] pub $name: AtomicU64,)*
            $(#[doc = $gauge_help] pub $gauge: AtomicU64,)*
        }

        impl RadiusStats {
            /// Prometheus text lines, one metric each.
            pub fn render(&self, out: &mut String) {
                $(
                    out.push_str(concat!("# HELP ispd_radius_", stringify!($name), " ", $help, "\n"));
                    out.push_str(concat!("# TYPE ispd_radius_", stringify!($name), " counter\n"));
                    out.push_str(&format!(
                        concat!("ispd_radius_", stringify!($name), " {}\n"),
                        self.$name.load(Ordering::Relaxed)
                    ));
                )*
                $(
                    out.push_str(concat!("# HELP ispd_radius_", stringify!($gauge), " ", $gauge_help, "\n"));
                    out.push_str(concat!("# TYPE ispd_radius_", stringify!($gauge), " gauge\n"));
                    out.push_str(&format!(
                        concat!("ispd_radius_", stringify!($gauge), " {}\n"),
                        self.$gauge.load(Ordering::Relaxed)
                    ));
                )*
            }
        }
    };
}

counters! {
    counters {
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
    acct_unanswered_batches_total: "Batches neither committed nor spooled (the spool's disk full or failing): left unanswered, so the NASes retransmit them.",
    acct_replay_failures_total: "Attempts to replay the spool into the database that failed (the spool waits and is retried with back-off).",
    acct_database_probe_failures_total: "Reconnect probes to the database that failed while accounting went to the spool.",
    acct_rejected_records_total: "Accounting records the database refused (a value it cannot hold), set aside in accounting.rejected so the records behind them are stored.",
    }
    gauges {
        acct_database_down: "1 while accounting goes to the spool because the database does not take it.",
        acct_spool_bytes: "Bytes of spooled accounting waiting to be replayed into the database.",
    }
}

impl RadiusStats {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
