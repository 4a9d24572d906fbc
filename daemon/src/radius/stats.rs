//! RADIUS counters for the metrics endpoint: what arrived, what was answered, and why
//! anything was dropped. They are `metrics` handles, registered once at start-up, so the hot
//! path only increments an atomic; the Prometheus text comes from the recorder
//! (`crate::metrics`). Without an installed recorder (no `[metrics] listen`) they count
//! nothing, at no cost.

macro_rules! counters {
    (
        counters { $($name:ident: $help:literal,)* }
        gauges { $($gauge:ident: $gauge_help:literal,)* }
    ) => {
        pub struct RadiusStats {
            $(#[doc = $help] pub $name: metrics::Counter,)*
            $(#[doc = $gauge_help] pub $gauge: metrics::Gauge,)*
        }

        impl Default for RadiusStats {
            /// Registers every counter and gauge, with its help text, in the installed recorder.
            fn default() -> RadiusStats {
                $(metrics::describe_counter!(concat!("ispd_radius_", stringify!($name)), $help);)*
                $(metrics::describe_gauge!(concat!("ispd_radius_", stringify!($gauge)), $gauge_help);)*
                RadiusStats {
                    $($name: metrics::counter!(concat!("ispd_radius_", stringify!($name))),)*
                    $($gauge: metrics::gauge!(concat!("ispd_radius_", stringify!($gauge))),)*
                }
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
    dropped_reply_too_large_total: "Access-Requests not answered because the Access-Accept's own attributes (rate limit, Class, timeouts) and the Proxy-States it echoes would pass 4096 octets.",
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
    pub fn bump(counter: &metrics::Counter) {
        counter.increment(1);
    }
}

impl std::fmt::Debug for RadiusStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RadiusStats")
    }
}
