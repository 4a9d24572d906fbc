//! `ispctl tariff …`: what subscriptions are sold as, and the speed RADIUS gives their logins.
//!
//! Rates are kbit/s on the wire; on the command line they also take k/M/G suffixes because
//! that is how operators think of them ("20M"), and tables print them the same way.

use anyhow::Result;
use clap::{Args, Subcommand};
use ispd_admin_proto::v1::tariff_service_client::TariffServiceClient;
use ispd_admin_proto::v1::{
    Burst, CreateTariffRequest, DeleteTariffRequest, GetTariffRequest, ListTariffsRequest, Tariff,
    UpdateTariffRequest,
};

use crate::args::{self, PeriodArg, ProtoEnum, assign, ensure_changed, enum_name, rate_text};
use crate::connect::{Api, Svc};
use crate::message;
use crate::output::{Out, Table, yes_no};
use crate::paging::{self, PageArgs};

type Tariffs = TariffServiceClient<Svc>;

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Create a tariff.
    Add(Box<AddArgs>),
    /// Print one tariff.
    Show {
        /// Tariff name.
        name: String,
    },
    /// List tariffs.
    List {
        #[command(flatten)]
        page: PageArgs,
    },
    /// Change the given fields of a tariff and leave the rest untouched.
    Edit(Box<EditArgs>),
    /// Delete a tariff (refused while a subscription uses it).
    Delete {
        /// Tariff name.
        name: String,
    },
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// Unique tariff name.
    #[arg(long)]
    name: String,
    /// Download rate (subscriber's view): kbit/s, or with a suffix: 512k, 20M, 1G.
    #[arg(long, value_parser = args::rate, value_name = "RATE")]
    down: u64,
    /// Upload rate: kbit/s, or with a suffix: 512k, 20M, 1G.
    #[arg(long, value_parser = args::rate, value_name = "RATE")]
    up: u64,
    /// Price per period, e.g. 499.00.
    #[arg(long, value_parser = args::money, value_name = "AMOUNT")]
    price: String,
    #[command(flatten)]
    fields: Fields,
}

#[derive(Args, Debug)]
pub struct EditArgs {
    /// Name of the tariff to change.
    name: String,
    /// Rename the tariff.
    #[arg(long, value_name = "NAME")]
    new_name: Option<String>,
    /// Download rate: kbit/s, or with a suffix: 512k, 20M, 1G.
    #[arg(long, value_parser = args::rate, value_name = "RATE")]
    down: Option<u64>,
    /// Upload rate: kbit/s, or with a suffix: 512k, 20M, 1G.
    #[arg(long, value_parser = args::rate, value_name = "RATE")]
    up: Option<u64>,
    /// Price per period.
    #[arg(long, value_parser = args::money, value_name = "AMOUNT")]
    price: Option<String>,
    #[command(flatten)]
    fields: Fields,
    /// Remove the burst settings.
    #[arg(long)]
    no_burst: bool,
    /// Remove the data cap.
    #[arg(long, conflicts_with_all = ["cap_down", "cap_up", "capped_down", "capped_up"])]
    no_cap: bool,
    /// Remove the time-of-day window.
    #[arg(long, conflicts_with_all = ["window_from", "window_to", "window_down", "window_up"])]
    no_window: bool,
}

/// Optional fields shared by `add` and `edit`.
#[derive(Args, Debug)]
struct Fields {
    /// VAT rate in percent, e.g. 21.
    #[arg(long, value_parser = args::decimal, value_name = "PERCENT")]
    vat_rate: Option<String>,
    /// The price already includes VAT.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    price_includes_vat: Option<bool>,
    /// Billing period [server default: monthly].
    #[arg(long)]
    period: Option<PeriodArg>,
    /// Burst download rate (MikroTik burst): allowed while the average stays under the
    /// threshold.
    #[arg(long, value_parser = args::rate, value_name = "RATE", help_heading = "Burst")]
    burst_down: Option<u64>,
    /// Burst upload rate.
    #[arg(long, value_parser = args::rate, value_name = "RATE", help_heading = "Burst")]
    burst_up: Option<u64>,
    /// Average download rate below which bursting is allowed.
    #[arg(long, value_parser = args::rate, value_name = "RATE", help_heading = "Burst")]
    burst_threshold_down: Option<u64>,
    /// Average upload rate below which bursting is allowed.
    #[arg(long, value_parser = args::rate, value_name = "RATE", help_heading = "Burst")]
    burst_threshold_up: Option<u64>,
    /// Averaging window of the burst, in seconds.
    #[arg(long, value_name = "SECONDS", help_heading = "Burst")]
    burst_time: Option<u32>,
    /// Start of a daily window with another rate (e.g. a night boost), HH:MM local time.
    #[arg(long, value_name = "HH:MM", help_heading = "Time of day")]
    window_from: Option<String>,
    /// End of the window, HH:MM; before --window-from = over midnight.
    #[arg(long, value_name = "HH:MM", help_heading = "Time of day")]
    window_to: Option<String>,
    /// Download rate inside the window.
    #[arg(long, value_parser = args::rate, value_name = "RATE", help_heading = "Time of day")]
    window_down: Option<u64>,
    /// Upload rate inside the window.
    #[arg(long, value_parser = args::rate, value_name = "RATE", help_heading = "Time of day")]
    window_up: Option<u64>,
    /// Download cap (FUP) per billing period of each subscription: bytes with a k/M/G/T
    /// suffix (decimal: 500G = 500×10^9).
    #[arg(long, value_parser = bytes, value_name = "SIZE", help_heading = "Data cap")]
    cap_down: Option<u64>,
    /// Upload cap per billing period.
    #[arg(long, value_parser = bytes, value_name = "SIZE", help_heading = "Data cap")]
    cap_up: Option<u64>,
    /// Download rate past the cap.
    #[arg(long, value_parser = args::rate, value_name = "RATE", help_heading = "Data cap")]
    capped_down: Option<u64>,
    /// Upload rate past the cap.
    #[arg(long, value_parser = args::rate, value_name = "RATE", help_heading = "Data cap")]
    capped_up: Option<u64>,
    /// RADIUS Framed-Pool for logins without a static address [default: the NAS default].
    #[arg(long, value_name = "POOL")]
    framed_pool: Option<String>,
    /// What kind of service it is (internet, tv, voice): a unit holds one service of a class
    /// at most ("" clears it).
    #[arg(long, value_name = "CLASS")]
    class: Option<String>,
    /// Free-text note.
    #[arg(long)]
    note: Option<String>,
}

fn apply(t: &mut Tariff, f: &Fields) {
    assign(&mut t.vat_rate, &f.vat_rate);
    if let Some(b) = f.price_includes_vat {
        t.price_includes_vat = b;
    }
    if let Some(p) = f.period {
        t.period = p.to_proto();
    }
    let burst_flags = [
        f.burst_down,
        f.burst_up,
        f.burst_threshold_down,
        f.burst_threshold_up,
    ];
    if burst_flags.iter().any(Option::is_some) || f.burst_time.is_some() {
        let b: &mut Burst = t.burst.get_or_insert_default();
        b.download_kbps = f.burst_down.unwrap_or(b.download_kbps);
        b.upload_kbps = f.burst_up.unwrap_or(b.upload_kbps);
        b.threshold_download_kbps = f.burst_threshold_down.unwrap_or(b.threshold_download_kbps);
        b.threshold_upload_kbps = f.burst_threshold_up.unwrap_or(b.threshold_upload_kbps);
        b.time_seconds = f.burst_time.unwrap_or(b.time_seconds);
    }
    let window_flags = [&f.window_from, &f.window_to];
    if window_flags.iter().any(|w| w.is_some()) || f.window_down.is_some() || f.window_up.is_some()
    {
        let w = t.window.get_or_insert_default();
        assign(&mut w.from, &f.window_from);
        assign(&mut w.to, &f.window_to);
        w.download_kbps = f.window_down.unwrap_or(w.download_kbps);
        w.upload_kbps = f.window_up.unwrap_or(w.upload_kbps);
    }
    let cap_flags = [f.cap_down, f.cap_up, f.capped_down, f.capped_up];
    if cap_flags.iter().any(Option::is_some) {
        let c = t.cap.get_or_insert_default();
        c.download_octets = f.cap_down.unwrap_or(c.download_octets);
        c.upload_octets = f.cap_up.unwrap_or(c.upload_octets);
        c.download_kbps = f.capped_down.unwrap_or(c.download_kbps);
        c.upload_kbps = f.capped_up.unwrap_or(c.upload_kbps);
    }
    assign(&mut t.framed_pool, &f.framed_pool);
    assign(&mut t.service_class, &f.class);
    assign(&mut t.note, &f.note);
}

/// Bytes with an optional decimal suffix: `1500`, `500M`, `1.5G`, `2T`.
fn bytes(text: &str) -> Result<u64, String> {
    let bad = || format!("expected a size in bytes with an optional k/M/G/T suffix, got {text:?}");
    let t = text.trim();
    let (number, factor) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1e3),
        Some('M') => (&t[..t.len() - 1], 1e6),
        Some('G') => (&t[..t.len() - 1], 1e9),
        Some('T') => (&t[..t.len() - 1], 1e12),
        _ => (t, 1.0),
    };
    let n: f64 = number.parse().map_err(|_| bad())?;
    if !(n.is_finite() && n >= 0.0) {
        return Err(bad());
    }
    Ok((n * factor).round() as u64)
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    let mut svc = api.tariffs().await?;
    match cmd {
        Cmd::Add(a) => {
            let mut tariff = Tariff {
                name: a.name,
                download_kbps: a.down,
                upload_kbps: a.up,
                price: a.price,
                ..Tariff::default()
            };
            apply(&mut tariff, &a.fields);
            let request = CreateTariffRequest {
                tariff: Some(tariff),
            };
            out.reply(svc.create_tariff(request).await?, message::record)
        }
        Cmd::Show { name } => {
            let request = GetTariffRequest { name };
            out.reply(svc.get_tariff(request).await?, message::record)
        }
        Cmd::List { page } => {
            let page = paging::collect(&page, async |page| {
                let request = ListTariffsRequest { page: Some(page) };
                let resp = svc.list_tariffs(request).await?.into_inner();
                Ok((resp.tariffs, resp.next_page_token))
            })
            .await?;
            out.pages(&page, message::record, table)
        }
        Cmd::Edit(e) => edit(&mut svc, &e, out).await,
        Cmd::Delete { name } => {
            let request = DeleteTariffRequest { name: name.clone() };
            svc.delete_tariff(request).await?;
            out.deleted("tariff", &name)
        }
    }
}

async fn edit(svc: &mut Tariffs, e: &EditArgs, out: Out) -> Result<()> {
    let request = GetTariffRequest {
        name: e.name.clone(),
    };
    let read = svc.get_tariff(request).await?.into_inner();
    let mut tariff = read.clone();
    assign(&mut tariff.name, &e.new_name);
    tariff.download_kbps = e.down.unwrap_or(tariff.download_kbps);
    tariff.upload_kbps = e.up.unwrap_or(tariff.upload_kbps);
    assign(&mut tariff.price, &e.price);
    if e.no_burst {
        tariff.burst = None;
    }
    if e.no_window {
        tariff.window = None;
    }
    if e.no_cap {
        tariff.cap = None;
    }
    apply(&mut tariff, &e.fields);
    ensure_changed(tariff != read, "tariff edit")?;
    let request = UpdateTariffRequest {
        tariff: Some(tariff),
    };
    out.reply(svc.update_tariff(request).await?, message::record)
}

fn table(tariffs: &[Tariff]) -> Table {
    Table::of(
        [
            "NAME", "DOWN", "UP", "PRICE", "VAT%", "INCL_VAT", "PERIOD", "BURST", "POOL",
        ],
        tariffs.iter().map(|t| {
            let burst = t
                .burst
                .as_ref()
                .map(|b| {
                    format!(
                        "{}/{} @{}/{} {}s",
                        rate_text(b.download_kbps),
                        rate_text(b.upload_kbps),
                        rate_text(b.threshold_download_kbps),
                        rate_text(b.threshold_upload_kbps),
                        b.time_seconds
                    )
                })
                .unwrap_or_default();
            [
                t.name.clone(),
                rate_text(t.download_kbps),
                rate_text(t.upload_kbps),
                t.price.clone(),
                t.vat_rate.clone(),
                yes_no(t.price_includes_vat).to_owned(),
                enum_name::<PeriodArg>(t.period),
                burst,
                t.framed_pool.clone(),
            ]
        }),
    )
}
